package execute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// accountsServiceDir is where AccountsService keeps per-user settings; GNOME's login screen
// reads a user's language from there.
const accountsServiceDir = "/var/lib/accountsservice/users"

// New returns the Linux executor.
func New(o Options) Executor {
	o = o.withDefaults()
	p := procs{runner: o.Runner, codepage: utf8CodePage}
	if o.Messenger == nil {
		o.Messenger = wall{p}
	}
	return newExecutor(o, p, linuxSystem{
		procs:       p,
		messenger:   o.Messenger,
		lookPath:    exec.LookPath,
		accountsDir: accountsServiceDir,
	})
}

// startTree starts cmd as the leader of a new process group, so that at the deadline one
// signal kills everything it started (unless a descendant left the group itself).
func startTree(cmd *exec.Cmd, _ Process) (func(), error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return func() {}, cmd.Start()
}

// exitCode is the process's exit code, or 128+signal when a signal ended it, as shells say.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// wall shows messages on every terminal. Desktop notifications would need each user's D-Bus
// session, which a root daemon does not have; wall has no display time, so duration is unused.
type wall struct{ procs }

func (w wall) Show(ctx context.Context, text string, _ time.Duration) error {
	return w.check(ctx, Process{Path: "wall", Stdin: text})
}

// linuxSystem runs commands the Linux way.
type linuxSystem struct {
	procs
	messenger   Messenger
	lookPath    func(file string) (string, error)
	accountsDir string
}

func (l linuxSystem) power(ctx context.Context, restart bool, delay int, message string) Result {
	flag, verb := "-h", "shutdown"
	if restart {
		flag, verb = "-r", "restart"
	}
	args := []string{flag, "now"}
	res := Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("%s in %d s, once this result is delivered", verb, delay)}
	if message != "" {
		args = append(args, message)
		if err := l.messenger.Show(ctx, message, messageDuration); err != nil {
			res = res.note("warning: the message was not shown: %v", err)
		}
	}
	p := Process{Path: "shutdown", Args: args}
	res.After = func(ctx context.Context) error {
		t := time.NewTimer(time.Duration(delay) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", verb, ctx.Err())
		}
		return l.check(ctx, p)
	}
	return res
}

func (l linuxSystem) killProcess(ctx context.Context, name string) Result {
	// pkill reads its pattern as a regular expression; quoted, -x matches the name exactly.
	res := l.run(ctx, Process{Path: "pkill", Args: []string{"-x", "--", regexp.QuoteMeta(name)}})
	if res.exited(1) {
		res.ErrorMessage = "no process named " + name
	}
	return res
}

func (l linuxSystem) shell(command string) Process {
	return Process{Path: "/bin/sh", Args: []string{"-c", command}}
}

// packageManager is how one package manager installs and removes without asking.
type packageManager struct {
	name            string
	install, remove []string
	env             []string
}

// packageManagers are tried in this order; the first on PATH is used.
func packageManagers() []packageManager {
	return []packageManager{
		{name: "apt-get", install: []string{"install", "-y"}, remove: []string{"remove", "-y"}, env: []string{"DEBIAN_FRONTEND=noninteractive"}},
		{name: "dnf", install: []string{"install", "-y"}, remove: []string{"remove", "-y"}},
		{name: "yum", install: []string{"install", "-y"}, remove: []string{"remove", "-y"}},
		{name: "zypper", install: []string{"--non-interactive", "install"}, remove: []string{"--non-interactive", "remove"}},
		{name: "pacman", install: []string{"-S", "--noconfirm"}, remove: []string{"-R", "--noconfirm"}},
	}
}

func (l linuxSystem) packages(ctx context.Context, id string, remove bool) Result {
	var names []string
	for _, m := range packageManagers() {
		path, err := l.lookPath(m.name)
		if err != nil {
			names = append(names, m.name)
			continue
		}
		args := m.install
		if remove {
			args = m.remove
		}
		return l.run(ctx, Process{Path: path, Args: append(slices.Clone(args), id), Env: m.env})
	}
	return failed(fmt.Errorf("no package manager found on PATH (looked for %s)", strings.Join(names, ", ")))
}

func (l linuxSystem) createUser(ctx context.Context, a account) Result {
	// The comment field of /etc/passwd is split at ':' and its parts at ','.
	if strings.ContainsAny(a.fullName+a.comment, ":,") {
		return failed(errors.New("full_name and comment must not contain ':' or ',' on Linux"))
	}
	args := []string{"-m"}
	if gecos := strings.TrimSuffix(a.fullName+","+a.comment, ","); gecos != "" {
		args = append(args, "-c", gecos)
	}
	res := l.run(ctx, Process{Path: "useradd", Args: append(args, a.name)})
	if !res.ok() {
		return res
	}
	res = res.then(l.setPassword(ctx, a.name, a.password))
	if !res.ok() {
		res.ErrorMessage = fmt.Sprintf("user %s was created (locked), but setting its password failed: %s", a.name, res.ErrorMessage)
		return res
	}
	res = res.note("user %s created", a.name)
	if a.language == "" {
		return res
	}
	locale := strings.ReplaceAll(a.language, "-", "_") + ".UTF-8"
	if err := l.setLanguage(a.name, locale); err != nil {
		res.Status = wire.ResultError
		res.ErrorMessage = fmt.Sprintf("user %s was created, but its language was not set: %v", a.name, err)
		return res
	}
	return res.note("language: Language=%s written to %s (read by GNOME at login; the locale must be installed)",
		locale, filepath.Join(l.accountsDir, a.name))
}

// setLanguage records a new user's language for AccountsService. The file is the new user's
// alone, so it is written whole.
func (l linuxSystem) setLanguage(name, locale string) error {
	if _, err := os.Stat(l.accountsDir); err != nil {
		return fmt.Errorf("AccountsService is not installed: %w", err)
	}
	return writeAtomic(filepath.Join(l.accountsDir, name), 0o600, func(w io.Writer) error {
		_, err := io.WriteString(w, "[User]\nLanguage="+locale+"\n")
		return err
	})
}

func (l linuxSystem) deleteUser(ctx context.Context, name string) Result {
	res := l.run(ctx, Process{Path: "userdel", Args: []string{"-r", name}})
	if res.exited(6) {
		res.ErrorMessage = "no user named " + name
	}
	if !res.ok() {
		return res
	}
	// AccountsService forgets only the users deleted through it.
	if err := os.Remove(filepath.Join(l.accountsDir, name)); err == nil {
		res = res.note("removed its AccountsService settings")
	} else if !errors.Is(err, fs.ErrNotExist) {
		res = res.note("warning: its AccountsService settings remain: %v", err)
	}
	return res
}

func (l linuxSystem) changePassword(ctx context.Context, name, password string) Result {
	return l.setPassword(ctx, name, password)
}

// setPassword feeds chpasswd through stdin, so the password never appears in a process list.
func (l linuxSystem) setPassword(ctx context.Context, name, password string) Result {
	return l.run(ctx, Process{Path: "chpasswd", Stdin: name + ":" + password + "\n"})
}
