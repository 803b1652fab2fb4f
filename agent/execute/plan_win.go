package execute

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// This file is the Windows executor's logic: which programs each command runs, with which
// command lines, and how their exit codes read. It carries no build tag so that its command
// lines are golden-tested on any OS (plan_win_test.go); exec_windows.go supplies the real
// folders, lookups and process handling.

// chocoInstallScript is Chocolatey's documented install one-liner.
const chocoInstallScript = "[System.Net.ServicePointManager]::SecurityProtocol = 3072; " +
	"iex ((New-Object System.Net.WebClient).DownloadString('https://community.chocolatey.org/install.ps1'))"

// Chocolatey's exit codes for "done, but Windows must restart to finish".
const (
	chocoRebootInitiated = 1641
	chocoRebootRequired  = 3010
)

// winSystem runs commands the Windows way.
type winSystem struct {
	procs
	system32   string                // e.g. C:\Windows\System32
	findChoco  func() (string, bool) // choco.exe's path, if Chocolatey is installed
	usersGroup string                // the local Users group's name, which Windows localises
}

// tool is the path of a program in System32; Windows paths are built by hand so that the
// golden tests show them exactly on any OS.
func (w winSystem) tool(name string) string { return w.system32 + `\` + name }

func (w winSystem) power(_ context.Context, restart bool, delay int, message string) Result {
	mode, verb := "/s", "shutdown"
	if restart {
		mode, verb = "/r", "restart"
	}
	args := []string{mode, "/t", strconv.Itoa(delay)}
	if message != "" {
		args = append(args, "/c", message)
	}
	p := Process{Path: w.tool("shutdown.exe"), Args: append(args, "/f")}
	return Result{
		Status: wire.ResultSuccess,
		Output: fmt.Sprintf("%s in %d s, once this result is delivered", verb, delay),
		After:  func(ctx context.Context) error { return w.check(ctx, p) },
	}
}

func (w winSystem) killProcess(ctx context.Context, name string) Result {
	res := w.run(ctx, Process{Path: w.tool("taskkill.exe"), Args: []string{"/F", "/IM", name}})
	if res.exited(128) {
		res.ErrorMessage = "no process named " + name
	}
	return res
}

// shell hands command to cmd.exe as typed: /S makes cmd strip just the outer quotes.
func (w winSystem) shell(command string) Process {
	return Process{Path: w.tool("cmd.exe"), CmdLine: `cmd.exe /S /C "` + command + `"`}
}

func (w winSystem) packages(ctx context.Context, id string, remove bool) Result {
	var res Result
	choco, found := w.findChoco()
	if !found {
		if remove {
			return failed(errors.New("Chocolatey is not installed, so nothing was installed through it"))
		}
		res = w.run(ctx, Process{
			Path: w.tool(`WindowsPowerShell\v1.0\powershell.exe`),
			Args: []string{"-NoProfile", "-ExecutionPolicy", "Bypass", "-Command", chocoInstallScript},
		})
		if !res.ok() {
			res.ErrorMessage = "installing Chocolatey: " + res.ErrorMessage
			return res
		}
		if choco, found = w.findChoco(); !found {
			res.Status, res.ErrorMessage = wire.ResultError, "Chocolatey's installer finished, but choco.exe is still missing"
			return res
		}
	}
	args := []string{"install", id, "-y", "--no-progress"}
	if remove {
		args = []string{"uninstall", id, "-y"}
	}
	res = res.then(w.run(ctx, Process{Path: choco, Args: args}))
	if res.exited(chocoRebootInitiated) || res.exited(chocoRebootRequired) {
		res.Status, res.ErrorMessage = wire.ResultSuccess, ""
		res = res.note("[done; Windows must restart to finish (exit code %d)]", *res.ExitCode)
	}
	return res
}

// checkNetArg refuses what net.exe would read as something else: a switch, or "*" (prompt).
func checkNetArg(what, s string) error {
	if s == "*" || strings.HasPrefix(s, "/") {
		return fmt.Errorf("%s must not be \"*\" or start with '/' on Windows", what)
	}
	return nil
}

func (w winSystem) net(ctx context.Context, args ...string) Result {
	return w.run(ctx, Process{Path: w.tool("net.exe"), Args: args})
}

func (w winSystem) createUser(ctx context.Context, a account) Result {
	if err := checkNetArg("password", a.password); err != nil {
		return failed(err)
	}
	// /y answers net.exe's "password longer than 14 characters, continue?" prompt.
	args := []string{"user", a.name, a.password, "/add", "/y"}
	if a.fullName != "" {
		args = append(args, "/fullname:"+a.fullName)
	}
	if a.comment != "" {
		args = append(args, "/comment:"+a.comment)
	}
	res := w.net(ctx, args...)
	if !res.ok() {
		return res
	}

	// net user /add normally puts the account in Users itself; system error 1378 says so.
	group := w.net(ctx, "localgroup", w.usersGroup, a.name, "/add")
	if group.exited(2) && strings.Contains(group.Output, "1378") {
		group.Status, group.ErrorMessage = wire.ResultSuccess, ""
	}
	res = res.then(group)
	if !res.ok() {
		res.ErrorMessage = fmt.Sprintf("user %s was created, but adding it to %s failed: %s", a.name, w.usersGroup, res.ErrorMessage)
		return res
	}
	res = res.note("user %s created, member of %s", a.name, w.usersGroup)
	if a.language == "" {
		return res
	}

	// The language settings are per user and can only be made as that user, so a task applies
	// them at each of the user's logons.
	task := languageTask(a.name)
	lang := w.run(ctx, Process{Path: w.tool("schtasks.exe"), Args: []string{
		"/Create", "/F", "/TN", task, "/SC", "ONLOGON", "/RU", a.name, "/IT", "/TR",
		"powershell.exe -NoProfile -WindowStyle Hidden -Command \"" +
			"Set-WinUserLanguageList -LanguageList " + a.language + " -Force; " +
			"Set-WinUILanguageOverride -Language " + a.language + "; " +
			"Set-Culture -CultureInfo " + a.language + "\"",
	}})
	res = res.then(lang)
	if !res.ok() {
		res.ErrorMessage = fmt.Sprintf("user %s was created, but scheduling its language %s failed: %s", a.name, a.language, res.ErrorMessage)
		return res
	}
	return res.note("language %s: scheduled task \"%s\" sets the input languages, display language and formats at each logon of %s; "+
		"the display language changes only where the %s language pack is installed", a.language, task, a.name, a.language)
}

// languageTask names the scheduled task that sets a user's language.
func languageTask(user string) string { return `WCMS\Language ` + user }

func (w winSystem) deleteUser(ctx context.Context, name string) Result {
	res := w.net(ctx, "user", name, "/delete")
	if !res.ok() {
		return res
	}
	// Most users have no language task: its absence is no failure, so only a removal is told.
	task := languageTask(name)
	if w.run(ctx, Process{Path: w.tool("schtasks.exe"), Args: []string{"/Delete", "/TN", task, "/F"}}).ok() {
		res = res.note("removed the scheduled task \"%s\"", task)
	}
	return res
}

func (w winSystem) changePassword(ctx context.Context, name, password string) Result {
	if err := checkNetArg("new_password", password); err != nil {
		return failed(err)
	}
	return w.net(ctx, "user", name, password, "/y")
}

// msgExe shows messages with msg.exe, in every session. The text goes through stdin, which
// msg.exe reads when no message is on its command line, so it needs no quoting.
type msgExe struct {
	procs
	system32 string
}

func (m msgExe) Show(ctx context.Context, text string, duration time.Duration) error {
	return m.check(ctx, Process{
		Path:  m.system32 + `\msg.exe`,
		Args:  []string{"*", "/TIME:" + strconv.Itoa(int(duration.Seconds()))},
		Stdin: text,
	})
}
