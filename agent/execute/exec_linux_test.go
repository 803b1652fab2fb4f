package execute

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

func TestExecuteRealShell(t *testing.T) {
	tests := []struct {
		name     string
		command  string
		status   string
		exitCode int
		output   string
	}{
		{"echo", "echo hello", wire.ResultSuccess, 0, "hello\n"},
		{"exit code", "echo before; exit 3", wire.ResultError, 3, "before\n"},
		{"stderr kept, interleaved", "echo out; echo err >&2; echo out2", wire.ResultSuccess, 0, "out\nerr\nout2\n"},
		{"shell syntax", `for i in 1 2; do printf '%s|' "$i"; done`, wire.ResultSuccess, 0, "1|2|"},
		{"utf-8 kept", "printf '한글\\n'", wire.ResultSuccess, 0, "한글\n"},
		{"not found", "no-such-program-wcms", wire.ResultError, 127, "no-such-program-wcms"},
	}
	e := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCommand(t, e, tt.command, 30)
			if res.Status != tt.status || res.ExitCode == nil || *res.ExitCode != tt.exitCode {
				t.Fatalf("got %q exit %v (%s), want %q exit %d", res.Status, res.ExitCode, res.ErrorMessage, tt.status, tt.exitCode)
			}
			if !strings.Contains(res.Output, tt.output) {
				t.Errorf("output %q, want %q", res.Output, tt.output)
			}
			if tt.status == wire.ResultError && res.ErrorMessage != fmt.Sprintf("sh exited with code %d", tt.exitCode) {
				t.Errorf("error message %q", res.ErrorMessage)
			}
		})
	}
}

func TestExecuteCapsOutput(t *testing.T) {
	// 1 MiB of output, far past the 64 KiB kept: the process must still run to its end.
	res := runCommand(t, New(Options{}), "head -c 1048576 /dev/zero | tr '\\0' a; echo done >&2", 60)
	if res.Status != wire.ResultSuccess {
		t.Fatalf("got %q (%s): a process with much output must not block", res.Status, res.ErrorMessage)
	}
	want := strings.Repeat("a", defaultMaxOutput) + fmt.Sprintf("\n[output truncated: %d bytes dropped]", 1<<20+len("done\n")-defaultMaxOutput)
	if res.Output != want {
		t.Errorf("output is %d bytes ending %q, want %d ending %q",
			len(res.Output), res.Output[max(0, len(res.Output)-60):], len(want), want[len(want)-60:])
	}
}

func TestExecuteTimeoutKillsTheTree(t *testing.T) {
	// A background child and a foreground one, each printing its pid.
	res := runCommand(t, New(Options{}), "sleep 60 & echo bg=$!; sleep 61 & echo fg=$!; wait", 1)
	if res.Status != wire.ResultTimeout {
		t.Fatalf("got %q (%s), want timeout", res.Status, res.ErrorMessage)
	}
	if res.ExitCode == nil || *res.ExitCode != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %v, want %d (killed)", res.ExitCode, 128+int(syscall.SIGKILL))
	}
	pids := regexp.MustCompile(`(?m)^(bg|fg)=(\d+)$`).FindAllStringSubmatch(res.Output, -1)
	if len(pids) != 2 {
		t.Fatalf("output %q: the output before the timeout is lost", res.Output)
	}
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[2])
		if !waitGone(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("%s child %d survived the timeout", m[1], pid)
		}
	}
}

// waitGone reports whether pid is gone or a zombie (dead, waiting for a parent to reap it),
// giving the kernel a moment to finish a kill.
func waitGone(pid int) bool {
	for range 100 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// The state follows the parenthesised command name.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A process that leaves a grandchild holding its output must not hang the command.
func TestExecuteDoesNotWaitForOrphansHoldingTheOutput(t *testing.T) {
	e := New(Options{Runner: osRunner{maxOutput: defaultMaxOutput, waitDelay: 200 * time.Millisecond}})
	// setsid takes the sleep out of the process group, as a daemonising program would.
	res := runCommand(t, e, "setsid sleep 30 & echo orphan=$!", 20)
	if m := regexp.MustCompile(`orphan=(\d+)`).FindStringSubmatch(res.Output); m != nil {
		pid, _ := strconv.Atoi(m[1])
		defer syscall.Kill(pid, syscall.SIGKILL)
	}
	if res.Status != wire.ResultSuccess || !strings.Contains(res.Output, "a background process still holds the output") {
		t.Fatalf("got %q (%s), output %q", res.Status, res.ErrorMessage, res.Output)
	}
}

func TestKillProcessReal(t *testing.T) {
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	// A copy under a unique name (at most 15 bytes, the kernel's limit for process names),
	// so that pkill -x can hit nothing but it.
	name := "wcmsk" + hex.EncodeToString(randomBytes(t, 4))
	bin := filepath.Join(t.TempDir(), name)
	copyFile(t, sleepPath, bin)
	proc := exec.Command(bin, "60")
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()

	e := New(Options{})
	kill := wire.Command{Type: wire.TypeKillProcess, Parameters: map[string]any{"process_name": name}}
	if res := e.Execute(context.Background(), kill); res.Status != wire.ResultSuccess {
		t.Fatalf("got %q (%s), want success", res.Status, res.ErrorMessage)
	}
	select {
	case err := <-exited:
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("process ended with %v, want killed by SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the process is still running")
	}

	res := e.Execute(context.Background(), kill)
	if res.Status != wire.ResultError || res.ErrorMessage != "no process named "+name {
		t.Errorf("killing it again: got %q %q, want no process named %s", res.Status, res.ErrorMessage, name)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// newLinuxTest is the Linux executor over fakes; lookPath finds only the programs in found.
func newLinuxTest(run *fakeRunner, m Messenger, accountsDir string, found ...string) Executor {
	o := Options{Runner: run, Messenger: m}.withDefaults()
	p := procs{runner: run, codepage: utf8CodePage}
	lookPath := func(file string) (string, error) {
		for _, f := range found {
			if f == file {
				return "/usr/bin/" + file, nil
			}
		}
		return "", exec.ErrNotFound
	}
	return newExecutor(o, p, linuxSystem{procs: p, messenger: m, lookPath: lookPath, accountsDir: accountsDir})
}

func TestLinuxUserCommands(t *testing.T) {
	const password = "S3cret pass:1"
	tests := []struct {
		name    string
		typ     string
		params  map[string]any
		replies map[string]reply
		want    []Process
		status  string
		errMsg  string
		file    string // the user's AccountsService file afterwards; "" for none
	}{
		{name: "create", typ: wire.TypeCreateUser,
			params: map[string]any{"username": "kim", "password": password, "full_name": "Kim Minsu", "comment": "Lab 3"},
			want: []Process{
				{Path: "useradd", Args: []string{"-m", "-c", "Kim Minsu,Lab 3", "kim"}},
				{Path: "chpasswd", Stdin: "kim:" + password + "\n"},
			},
			status: wire.ResultSuccess},
		{name: "create with language", typ: wire.TypeCreateUser,
			params: map[string]any{"username": "lee", "password": password, "comment": "TA", "language": "ko-KR"},
			want: []Process{
				{Path: "useradd", Args: []string{"-m", "-c", ",TA", "lee"}},
				{Path: "chpasswd", Stdin: "lee:" + password + "\n"},
			},
			status: wire.ResultSuccess, file: "[User]\nLanguage=ko_KR.UTF-8\n"},
		{name: "create minimal", typ: wire.TypeCreateUser,
			params: map[string]any{"username": "lab01", "password": password},
			want: []Process{
				{Path: "useradd", Args: []string{"-m", "lab01"}},
				{Path: "chpasswd", Stdin: "lab01:" + password + "\n"},
			},
			status: wire.ResultSuccess},
		{name: "create fails", typ: wire.TypeCreateUser,
			params:  map[string]any{"username": "kim", "password": password},
			replies: map[string]reply{"useradd": {out: "useradd: user 'kim' already exists\n", code: 9}},
			want:    []Process{{Path: "useradd", Args: []string{"-m", "kim"}}},
			status:  wire.ResultError, errMsg: "useradd exited with code 9"},
		{name: "password fails", typ: wire.TypeCreateUser,
			params:  map[string]any{"username": "kim", "password": password},
			replies: map[string]reply{"chpasswd": {out: "chpasswd: (user kim) pam_chauthtok() failed, " + password + "\n", code: 1}},
			want: []Process{
				{Path: "useradd", Args: []string{"-m", "kim"}},
				{Path: "chpasswd", Stdin: "kim:" + password + "\n"},
			},
			status: wire.ResultError, errMsg: "user kim was created (locked), but setting its password failed: chpasswd exited with code 1"},
		{name: "gecos separators refused", typ: wire.TypeCreateUser,
			params: map[string]any{"username": "kim", "password": password, "full_name": "Kim:Minsu"},
			status: wire.ResultError, errMsg: "must not contain ':' or ','"},
		{name: "delete", typ: wire.TypeDeleteUser, params: map[string]any{"username": "kim"},
			want:   []Process{{Path: "userdel", Args: []string{"-r", "kim"}}},
			status: wire.ResultSuccess},
		{name: "delete unknown", typ: wire.TypeDeleteUser, params: map[string]any{"username": "nobody2"},
			replies: map[string]reply{"userdel": {out: "userdel: user 'nobody2' does not exist\n", code: 6}},
			want:    []Process{{Path: "userdel", Args: []string{"-r", "nobody2"}}},
			status:  wire.ResultError, errMsg: "no user named nobody2"},
		{name: "change password", typ: wire.TypeChangePassword, params: map[string]any{"username": "kim", "new_password": password},
			want:   []Process{{Path: "chpasswd", Stdin: "kim:" + password + "\n"}},
			status: wire.ResultSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			run := &fakeRunner{replies: tt.replies}
			res := newLinuxTest(run, &fakeMessenger{}, dir).Execute(context.Background(),
				wire.Command{Type: tt.typ, Parameters: tt.params})
			if res.Status != tt.status || !strings.Contains(res.ErrorMessage, tt.errMsg) {
				t.Fatalf("got %q %q, want %q %q", res.Status, res.ErrorMessage, tt.status, tt.errMsg)
			}
			if got := run.processes(); !reflect.DeepEqual(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("ran %+v\nwant %+v", got, tt.want)
			}
			for _, p := range run.processes() {
				if strings.Contains(strings.Join(p.Args, " "), password) {
					t.Errorf("the password is in the argv of %s", p.Path)
				}
			}
			if strings.Contains(res.Output+res.ErrorMessage, password) {
				t.Errorf("the password is in the result: %q %q", res.Output, res.ErrorMessage)
			}
			user, _ := tt.params["username"].(string)
			got, err := os.ReadFile(filepath.Join(dir, user))
			if tt.file == "" && !errors.Is(err, os.ErrNotExist) || tt.file != "" && string(got) != tt.file {
				t.Errorf("AccountsService file %q (%v), want %q", got, err, tt.file)
			}
		})
	}
}

func TestLinuxLanguageFile(t *testing.T) {
	dir := t.TempDir()
	e := newLinuxTest(&fakeRunner{}, &fakeMessenger{}, dir)
	create := wire.Command{Type: wire.TypeCreateUser, Parameters: map[string]any{"username": "kim", "password": "pw", "language": "en_us"}}
	res := e.Execute(context.Background(), create)
	path := filepath.Join(dir, "kim")
	if res.Status != wire.ResultSuccess || !strings.Contains(res.Output, "Language=en_US.UTF-8 written to "+path) {
		t.Fatalf("got %q %q, output %q", res.Status, res.ErrorMessage, res.Output)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file: %v, %v; want mode 0600", fi, err)
	}

	res = e.Execute(context.Background(), wire.Command{Type: wire.TypeDeleteUser, Parameters: map[string]any{"username": "kim"}})
	if _, err := os.Stat(path); res.Status != wire.ResultSuccess || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after delete_user: %q, settings file %v", res.Status, err)
	}

	// Without AccountsService the user is still made, and the result says what was not done.
	res = newLinuxTest(&fakeRunner{}, &fakeMessenger{}, filepath.Join(dir, "missing")).Execute(context.Background(), create)
	if res.Status != wire.ResultError || !strings.Contains(res.ErrorMessage, "user kim was created, but its language was not set: AccountsService is not installed") {
		t.Fatalf("got %q %q", res.Status, res.ErrorMessage)
	}
}

func TestLinuxPackages(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		found  []string
		want   []Process
		errMsg string
	}{
		{"apt install", wire.TypeInstall, []string{"apt-get", "dnf"},
			[]Process{{Path: "/usr/bin/apt-get", Args: []string{"install", "-y", "vlc"}, Env: []string{"DEBIAN_FRONTEND=noninteractive"}}}, ""},
		{"apt remove", wire.TypeUninstall, []string{"apt-get"},
			[]Process{{Path: "/usr/bin/apt-get", Args: []string{"remove", "-y", "vlc"}, Env: []string{"DEBIAN_FRONTEND=noninteractive"}}}, ""},
		{"dnf", wire.TypeInstall, []string{"dnf", "yum"}, []Process{{Path: "/usr/bin/dnf", Args: []string{"install", "-y", "vlc"}}}, ""},
		{"yum", wire.TypeUninstall, []string{"yum"}, []Process{{Path: "/usr/bin/yum", Args: []string{"remove", "-y", "vlc"}}}, ""},
		{"zypper", wire.TypeInstall, []string{"zypper"}, []Process{{Path: "/usr/bin/zypper", Args: []string{"--non-interactive", "install", "vlc"}}}, ""},
		{"pacman", wire.TypeUninstall, []string{"pacman"}, []Process{{Path: "/usr/bin/pacman", Args: []string{"-R", "--noconfirm", "vlc"}}}, ""},
		{"none", wire.TypeInstall, nil, nil, "no package manager found on PATH (looked for apt-get, dnf, yum, zypper, pacman)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &fakeRunner{}
			res := newLinuxTest(run, &fakeMessenger{}, t.TempDir(), tt.found...).Execute(context.Background(),
				wire.Command{Type: tt.typ, Parameters: map[string]any{"app_id": "vlc"}})
			if got := run.processes(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ran %+v\nwant %+v", got, tt.want)
			}
			if tt.errMsg == "" && res.Status != wire.ResultSuccess || tt.errMsg != "" && res.ErrorMessage != tt.errMsg {
				t.Errorf("got %q %q, want error %q", res.Status, res.ErrorMessage, tt.errMsg)
			}
		})
	}
}

func TestLinuxPower(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		params  map[string]any
		shown   []shown
		want    []Process
		showErr error
		output  string
	}{
		{"shutdown with message", wire.TypeShutdown, map[string]any{"message": "Lab closes now"},
			[]shown{{"Lab closes now", messageDuration}},
			[]Process{{Path: "shutdown", Args: []string{"-h", "now", "Lab closes now"}}}, nil, "shutdown in 0 s"},
		{"restart", wire.TypeRestart, map[string]any{}, nil,
			[]Process{{Path: "shutdown", Args: []string{"-r", "now"}}}, nil, "restart in 0 s"},
		{"reboot, message not shown", wire.TypeReboot, map[string]any{"message": "bye"},
			[]shown{{"bye", messageDuration}},
			[]Process{{Path: "shutdown", Args: []string{"-r", "now", "bye"}}}, errors.New("wall: no terminals"),
			"warning: the message was not shown: wall: no terminals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, m := &fakeRunner{}, &fakeMessenger{err: tt.showErr}
			res := newLinuxTest(run, m, t.TempDir()).Execute(context.Background(), wire.Command{Type: tt.typ, Parameters: tt.params})
			if res.Status != wire.ResultSuccess || !strings.Contains(res.Output, tt.output) || res.After == nil {
				t.Fatalf("got %q %q, output %q", res.Status, res.ErrorMessage, res.Output)
			}
			if !reflect.DeepEqual(m.shown, tt.shown) {
				t.Errorf("shown %+v, want %+v", m.shown, tt.shown)
			}
			if len(run.processes()) != 0 {
				t.Fatalf("ran %+v before the result was delivered", run.processes())
			}
			if err := res.After(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := run.processes(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after: ran %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The wait before a delayed shutdown ends with its context: a stopping agent does not take the
// machine down later.
func TestLinuxPowerDelayIsCancellable(t *testing.T) {
	run := &fakeRunner{}
	res := newLinuxTest(run, &fakeMessenger{}, t.TempDir()).Execute(context.Background(),
		wire.Command{Type: wire.TypeShutdown, Parameters: map[string]any{"delay": float64(3600)}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := res.After(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("After = %v, want canceled", err)
	}
	if len(run.processes()) != 0 {
		t.Fatalf("ran %+v after cancellation", run.processes())
	}
}

func TestWallMessenger(t *testing.T) {
	run := &fakeRunner{}
	e := New(Options{Runner: run})
	res := e.Execute(context.Background(), wire.Command{Type: wire.TypeMessage, Parameters: map[string]any{"message": "-n 'quoted' $HOME"}})
	want := []Process{{Path: "wall", Stdin: "-n 'quoted' $HOME"}}
	if res.Status != wire.ResultSuccess || !reflect.DeepEqual(run.processes(), want) {
		t.Fatalf("got %q, ran %+v; want %+v", res.Status, run.processes(), want)
	}
	run.replies = map[string]reply{"wall": {out: "wall: cannot get tty name\n", code: 1}}
	res = e.Execute(context.Background(), wire.Command{Type: wire.TypeMessage, Parameters: map[string]any{"message": "hi"}})
	if res.Status != wire.ResultError || res.ErrorMessage != "message: wall exited with code 1: wall: cannot get tty name" {
		t.Fatalf("got %q %q", res.Status, res.ErrorMessage)
	}
}

func TestLinuxKillProcessArgv(t *testing.T) {
	run := &fakeRunner{replies: map[string]reply{"pkill": {code: 1}}}
	res := New(Options{Runner: run}).Execute(context.Background(),
		wire.Command{Type: wire.TypeKillProcess, Parameters: map[string]any{"process_name": "python3.12"}})
	want := []Process{{Path: "pkill", Args: []string{"-x", "--", `python3\.12`}}}
	if !reflect.DeepEqual(run.processes(), want) || res.ErrorMessage != "no process named python3.12" {
		t.Fatalf("ran %+v, got %q; want %+v and no process named", run.processes(), res.ErrorMessage, want)
	}
}
