// Command wcms-agent is the WCMS agent that runs on every lab PC: flags and environment to
// agent.Config, then the service. `wcms-agent help` lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kardianos/service"

	"github.com/wcms-lab/wcms/agent"
	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/agent/execute"
)

// version is stamped by `make build` (-ldflags "-X main.version=…"); the server reads it from
// the binary when a build is registered.
var version = "dev"

const usage = `wcms-agent %s — the WCMS agent for lab PCs

usage:
  wcms-agent install -server URL -pin PIN [-data DIR] [-machine-id ID]   register, install and start the service
  wcms-agent uninstall [-purge] [-data DIR]                             stop and remove the service (-purge: its data too)
  wcms-agent start | stop | status [-data DIR]                          control the installed service
  wcms-agent run [-server URL] [-pin PIN] [-data DIR] [-machine-id ID]  run in the foreground (what the service runs)
  wcms-agent version                                                    print the version
  wcms-agent selfcheck [-data DIR]                                      check this build can start and reach the server

Every flag has an environment twin: WCMS_SERVER, WCMS_PIN, WCMS_DATA, WCMS_MACHINE_ID, WCMS_LOG_LEVEL.
The data folder (default %s) holds the config, agent token, result spool and log.
The PIN enrols the PC once; afterwards its agent token alone proves who it is. -machine-id replaces
the id made of the hardware, so one host can run several agents (each with its own -data).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the flags every command shares.
type options struct {
	server, pin, data, machineID, logLevel string
	purge                                  bool
}

func parse(cmd string, args []string, stderr io.Writer) (options, error) {
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	var o options
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", env("WCMS_SERVER", ""), "WCMS server URL, e.g. http://10.0.0.5:5050")
	fs.StringVar(&o.pin, "pin", env("WCMS_PIN", ""), "6-digit registration PIN from the dashboard")
	fs.StringVar(&o.data, "data", env("WCMS_DATA", agent.DefaultDataDir()), "data folder")
	fs.StringVar(&o.machineID, "machine-id", env("WCMS_MACHINE_ID", ""), "name this PC instead of the id made of its hardware (tests, demos)")
	fs.StringVar(&o.logLevel, "log-level", env("WCMS_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.BoolVar(&o.purge, "purge", false, "uninstall: also delete the data folder (config, token, spool)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q; `wcms-agent help` shows the usage\n", fs.Arg(0))
		return o, flag.ErrHelp
	}
	if o.machineID != "" {
		if err := agent.CheckMachineID(o.machineID); err != nil {
			fmt.Fprintf(stderr, "-machine-id: %v\n", err)
			return o, err
		}
	}
	if abs, err := filepath.Abs(o.data); err == nil {
		o.data = abs // the service starts in another working directory
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stdout, usage, version, agent.DefaultDataDir())
		return 0
	}
	cmd := args[0]
	o, err := parse(cmd, args[1:], stderr)
	if err != nil {
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "-log-level %q: want debug, info, warn or error\n", o.logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "wcms-agent %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return 0
	case "install":
		err = install(o, log, stdout)
	case "uninstall":
		err = uninstall(o, stdout)
	case "start", "stop":
		err = control(o, cmd, stdout)
	case "status":
		err = status(o, stdout)
	case "run":
		err = foreground(o, lvl, log)
	case "selfcheck":
		err = selfcheck(o, log, stdout)
	default:
		fmt.Fprintf(stderr, "unknown command %q; `wcms-agent help` lists them\n", cmd)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "wcms-agent %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func newAgent(o options, log *slog.Logger) (*agent.Agent, error) {
	cfg := agent.Config{Server: o.server, PIN: o.pin, MachineID: o.machineID, DataDir: o.data, Version: version}
	newCollector := func(server string) (agent.Collector, error) { return collect.New(server, log) }
	return agent.New(cfg, log, newCollector, execute.New(execute.Options{}))
}

func newService(o options, prg service.Interface, start agent.Start) (service.Service, error) {
	return service.New(prg, agent.ServiceConfig(o.data, start))
}

// install registers first, so a wrong PIN fails here and not in a service retrying for ever. A PC
// the server already knows from another install still gets its service: it keeps asking until an
// operator decides.
func install(o options, log *slog.Logger, stdout io.Writer) error {
	if err := agent.CheckServer(o.server); err != nil {
		return err
	}
	if err := agent.CheckPIN(o.pin); err != nil {
		return err
	}
	a, err := newAgent(o, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Register(ctx)
	a.Close()
	switch {
	case errors.Is(err, agent.ErrApprovalPending):
		fmt.Fprintf(stdout, "%s already knows this PC from another install: approve this one on its dashboard; "+
			"the service keeps asking and starts working once approved\n", o.server)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "registered with %s\n", o.server)
	}

	prg := &agent.Program{}
	svc, err := newService(o, prg, agent.DelayedStart)
	if err != nil {
		return err
	}
	if st, err := svc.Status(); err == nil && st != service.StatusUnknown {
		fmt.Fprintln(stdout, "replacing the installed service")
		_ = svc.Stop()
		if err := svc.Uninstall(); err != nil {
			return fmt.Errorf("remove the old service: %w", err)
		}
	}
	if err := svc.Install(); err != nil {
		// Some Windows versions (and Wine) refuse delayed automatic start; a plain
		// automatic start is the next best thing.
		_ = svc.Uninstall()
		plain, perr := newService(o, prg, agent.AutomaticStart)
		if perr != nil || plain.Install() != nil {
			return fmt.Errorf("install the service with %s: %w (where no service manager runs, use `wcms-agent run` in the foreground)", svc.Platform(), err)
		}
		log.Warn("delayed automatic start refused; installed with automatic start", "err", err)
		svc = plain
	}
	if err := svc.Start(); err != nil {
		return fmt.Errorf("start the service: %w (see `wcms-agent status`)", err)
	}
	fmt.Fprintf(stdout, "service %s installed and started\n", agent.ServiceName)
	return nil
}

func uninstall(o options, stdout io.Writer) error {
	svc, err := newService(o, &agent.Program{}, agent.AutomaticStart)
	if err != nil {
		return err
	}
	_ = svc.Stop()
	if err := svc.Uninstall(); err != nil {
		return fmt.Errorf("%w (service manager %s; is it installed? is this an administrator/root shell?)", err, svc.Platform())
	}
	fmt.Fprintf(stdout, "service %s removed\n", agent.ServiceName)
	if o.purge {
		if err := os.RemoveAll(o.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", o.data)
	}
	return nil
}

func control(o options, cmd string, stdout io.Writer) error {
	svc, err := newService(o, &agent.Program{}, agent.AutomaticStart)
	if err != nil {
		return err
	}
	if err := service.Control(svc, cmd); err != nil {
		return fmt.Errorf("%s (service manager: %s)", err, svc.Platform())
	}
	fmt.Fprintf(stdout, "service %s: %s done\n", agent.ServiceName, cmd)
	return nil
}

func status(o options, stdout io.Writer) error {
	svc, err := newService(o, &agent.Program{}, agent.AutomaticStart)
	if err != nil {
		return err
	}
	st, err := svc.Status()
	word := map[service.Status]string{service.StatusRunning: "running", service.StatusStopped: "stopped"}[st]
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		word = "not installed"
	case err != nil:
		return fmt.Errorf("cannot ask the service manager (%s): %w", svc.Platform(), err)
	case word == "":
		word = "unknown"
	}
	fmt.Fprintf(stdout, "service %s: %s\n", agent.ServiceName, word)
	return nil
}

// foreground runs the agent until a signal (or the service manager) stops it. A service logs to
// DATA/agent.log, since it has no console.
func foreground(o options, lvl slog.Level, log *slog.Logger) error {
	if !service.Interactive() {
		if err := os.MkdirAll(o.data, 0o700); err != nil {
			return err
		}
		lf, err := agent.OpenLogFile(filepath.Join(o.data, "agent.log"), 10<<20)
		if err != nil {
			return err
		}
		defer lf.Close()
		log = slog.New(slog.NewJSONHandler(lf, &slog.HandlerOptions{Level: lvl}))
	}
	// Taken now: after a self-update renamed the running file, the OS reports the old name.
	exe, exeErr := os.Executable()
	a, err := newAgent(o, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return err
	}
	defer a.Close()
	prg := &agent.Program{Run: a.Run, Log: log, Exit: func(err error) {
		a.Close()
		if agent.IsRestart(err) {
			if exeErr != nil {
				err = exeErr
			} else {
				restart(exe, log)
			}
		}
		if err != nil {
			log.Error("agent stopped", "err", err)
			os.Exit(1)
		}
		os.Exit(0)
	}}
	svc, err := newService(o, prg, agent.AutomaticStart)
	if err != nil {
		return err
	}
	return svc.Run()
}

// restart starts the (new) build in this process's place. A service exits with an error so that
// the service manager restarts it (systemd Restart=always, Windows recovery action).
func restart(exe string, log *slog.Logger) {
	if !service.Interactive() {
		log.Info("exiting so the service manager starts the new build")
		os.Exit(3)
	}
	err := reexec(exe, os.Args)
	log.Error("cannot restart into the new build; start wcms-agent again", "err", err)
	os.Exit(1)
}

func selfcheck(o options, log *slog.Logger, stdout io.Writer) error {
	fmt.Fprintf(stdout, "wcms-agent %s %s/%s ", version, runtime.GOOS, runtime.GOARCH)
	a, err := newAgent(o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Selfcheck(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ok")
	log.Debug("selfcheck passed")
	return nil
}
