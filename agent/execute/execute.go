// Package execute runs the commands the WCMS server sends to a lab PC: power, messages,
// processes, shell commands, packages, downloads and local users. The shared code here checks
// parameters and shapes results; what each command runs is per OS (exec_windows.go with the
// OS-neutral plan_win.go, and exec_linux.go).
package execute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/wire"
)

// Result is what an executed command reports.
type Result struct {
	Status       string // wire.ResultSuccess, wire.ResultError or wire.ResultTimeout
	Output       string // stdout+stderr interleaved, decoded to UTF-8, capped
	ErrorMessage string
	ExitCode     *int
	// After, when not nil, must run only after the result has been delivered or durably
	// spooled: power commands report first, then take the machine down.
	After func(ctx context.Context) error
}

// Executor runs one command. It never returns a silent success: unknown types and bad
// parameters give Status error with a clear ErrorMessage.
type Executor interface {
	Execute(ctx context.Context, cmd wire.Command) Result
}

// Runner starts processes; tests substitute a fake that records argv.
type Runner interface {
	// Run runs p until it exits or ctx ends; then p's whole process tree is killed. output is
	// stdout and stderr together. exitCode is -1 only when the process did not start (err says
	// why). When ctx ended first, err is ctx's error and output and exitCode are as far as they
	// got. A non-zero exit code alone is not an error.
	Run(ctx context.Context, p Process) (output []byte, exitCode int, err error)
}

// Process is one program to run.
type Process struct {
	Path  string   // program
	Args  []string // arguments (not including Path)
	Stdin string   // fed to stdin (e.g. chpasswd input, so passwords never appear in argv on Linux)
	Env   []string // "KEY=value" entries added to the agent's own environment
	// CmdLine, on Windows, is the raw command line used instead of quoting Path and Args:
	// cmd.exe parses its own command line, and Go's argv quoting breaks it.
	CmdLine string
}

// Messenger shows a message to the logged-in users (tests use a fake).
type Messenger interface {
	Show(ctx context.Context, text string, duration time.Duration) error
}

// Options configure New.
type Options struct {
	Runner      Runner       // nil: the real one (OS processes)
	Messenger   Messenger    // nil: the OS default
	MaxOutput   int          // bytes of output kept (by the real Runner); 0: 64 KiB
	MaxDownload int64        // bytes a download may have; 0: 4 GiB
	HTTPClient  *http.Client // for download; nil: one with sane timeouts
}

const (
	defaultTimeout     = 300 * time.Second
	defaultMaxOutput   = 64 << 10
	defaultMaxDownload = 4 << 30
	// waitDelay bounds how long we keep reading output after a process exits or is killed:
	// a grandchild that still holds the pipe must not hang the agent.
	waitDelay = 5 * time.Second
	// messageDuration is how long a power command's message stays up.
	messageDuration = 10 * time.Second
)

// withDefaults fills in what the caller left zero, except the Messenger, whose default is per OS.
func (o Options) withDefaults() Options {
	if o.MaxOutput <= 0 {
		o.MaxOutput = defaultMaxOutput
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = defaultMaxDownload
	}
	if o.Runner == nil {
		o.Runner = osRunner{maxOutput: o.MaxOutput, waitDelay: waitDelay}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultHTTPClient()
	}
	return o
}

// system is what differs per OS: the processes behind each command. Parameters reach it
// already checked by the shared code; it adds only the checks its own tools need.
type system interface {
	power(ctx context.Context, restart bool, delay int, message string) Result
	killProcess(ctx context.Context, name string) Result
	shell(command string) Process
	packages(ctx context.Context, id string, remove bool) Result
	createUser(ctx context.Context, a account) Result
	deleteUser(ctx context.Context, name string) Result
	changePassword(ctx context.Context, name, password string) Result
}

type executor struct {
	sys       system
	procs     procs
	messenger Messenger
	download  downloader
	wake      waker
}

// newExecutor is what each OS's New ends with; o must have its defaults filled in.
func newExecutor(o Options, p procs, sys system) *executor {
	return &executor{
		sys:       sys,
		procs:     p,
		messenger: o.Messenger,
		download:  downloader{client: o.HTTPClient, max: o.MaxDownload},
		wake:      waker{ports: []int{9, 7}, everyone: "255.255.255.255"},
	}
}

// Execute runs cmd under its timeout (300 s when it gives none).
func (e *executor) Execute(ctx context.Context, cmd wire.Command) Result {
	timeout := defaultTimeout
	if cmd.Timeout > 0 {
		timeout = time.Duration(cmd.Timeout) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res := e.dispatch(ctx, cmd.Type, cmd.Parameters)
	if res.Status == wire.ResultTimeout {
		res.ErrorMessage = fmt.Sprintf("timed out after %v: %s", timeout, res.ErrorMessage)
	}
	return res // the agent logs the outcome, with the command's id and duration
}

// dispatch runs a command after checking its parameters. Any server may send anything, so the
// agent checks them itself, with the catalogue the server checked them with; user data never
// reaches a shell except through execute, whose point is the shell.
func (e *executor) dispatch(ctx context.Context, typ string, raw map[string]any) Result {
	p, err := command.Validate(typ, raw)
	if err != nil {
		return failed(err)
	}
	switch typ {
	case wire.TypeShutdown, wire.TypeRestart, wire.TypeReboot:
		return e.sys.power(ctx, typ != wire.TypeShutdown, p.Int("delay"), p.Text("message"))
	case wire.TypeMessage:
		return e.message(ctx, p.Text("message"), p.Int("duration"))
	case wire.TypeKillProcess:
		return e.sys.killProcess(ctx, p.Text("process_name"))
	case wire.TypeExecute:
		return e.procs.run(ctx, e.sys.shell(p.Text("command")))
	case wire.TypeInstall, wire.TypeUninstall:
		return e.sys.packages(ctx, p.Text("app_id"), typ == wire.TypeUninstall)
	case wire.TypeDownload:
		return e.fetch(ctx, p.Text("url"), p.Text("destination"))
	case wire.TypeCreateUser:
		a := accountOf(p)
		return scrub(e.sys.createUser(ctx, a), a.password)
	case wire.TypeDeleteUser:
		return e.sys.deleteUser(ctx, p.Text("username"))
	case wire.TypeChangePassword:
		password := p.Text("new_password")
		return scrub(e.sys.changePassword(ctx, p.Text("username"), password), password)
	case wire.TypeWakeOnLAN:
		return e.wake.wake(ctx, p.Text("macs"), p.Text("broadcast"))
	}
	return failed(fmt.Errorf("command type %q is not supported by this agent", typ))
}

func (e *executor) message(ctx context.Context, text string, secs int) Result {
	if err := e.messenger.Show(ctx, text, time.Duration(secs)*time.Second); err != nil {
		return failedOrTimedOut(fmt.Errorf("message: %w", err))
	}
	return Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("message shown to the logged-in users for %d s", secs)}
}

func (e *executor) fetch(ctx context.Context, url, dest string) Result {
	// The catalogue accepts an absolute path of either OS; the file goes where this one says.
	if !filepath.IsAbs(dest) {
		return failed(fmt.Errorf("parameter %q must be an absolute path on this PC's OS, not %q", "destination", dest))
	}
	n, sum, err := e.download.fetch(ctx, url, dest)
	if err != nil {
		return failedOrTimedOut(err)
	}
	return Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("downloaded %d bytes to %s\nsha256 %s", n, dest, sum)}
}

// failed is the result of a command that could not be carried out.
func failed(err error) Result {
	return Result{Status: wire.ResultError, ErrorMessage: err.Error()}
}

// failedOrTimedOut is failed, with Status timeout when err is the command's deadline.
func failedOrTimedOut(err error) Result {
	res := failed(err)
	if errors.Is(err, context.DeadlineExceeded) {
		res.Status = wire.ResultTimeout
	}
	return res
}

// ok reports whether r succeeded.
func (r Result) ok() bool { return r.Status == wire.ResultSuccess }

// exited reports whether r's process ran and exited with code.
func (r Result) exited(code int) bool { return r.ExitCode != nil && *r.ExitCode == code }

// then is r followed by next: both outputs, next's outcome.
func (r Result) then(next Result) Result {
	next.Output = joinLines(r.Output, next.Output)
	return next
}

// note adds a line of our own to r's output.
func (r Result) note(format string, args ...any) Result {
	r.Output = joinLines(r.Output, fmt.Sprintf(format, args...))
	return r
}

func joinLines(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return strings.TrimRight(a, "\r\n") + "\n" + b
}

// scrub replaces secret wherever a tool echoed it: passwords never leave the PC in a result.
func scrub(r Result, secret string) Result {
	r.Output = strings.ReplaceAll(r.Output, secret, "********")
	r.ErrorMessage = strings.ReplaceAll(r.ErrorMessage, secret, "********")
	return r
}
