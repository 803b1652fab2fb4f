package execute

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/windows"

	"github.com/wcms-lab/wcms/wire"
)

// helperEnv makes the test binary a helper process instead of running the tests:
// "sleep" sleeps; "tree" starts a sleeping child, prints both pids, and sleeps.
const helperEnv = "WCMS_EXEC_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "sleep":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "tree":
		self, _ := os.Executable()
		child := exec.Command(self)
		child.Env = append(os.Environ(), helperEnv+"=sleep")
		if err := child.Start(); err != nil {
			fmt.Println("start child:", err)
			os.Exit(2)
		}
		fmt.Printf("self=%d\nchild=%d\n", os.Getpid(), child.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestExecuteRealCmd(t *testing.T) {
	tests := []struct {
		name     string
		command  string
		status   string
		exitCode int
		output   string
	}{
		{"echo", "echo hello", wire.ResultSuccess, 0, "hello\r\n"},
		{"exit code", "echo before& exit /b 3", wire.ResultError, 3, "before\r\n"},
		{"stderr kept", "echo out& echo err 1>&2", wire.ResultSuccess, 0, "err"},
		// The command reaches cmd.exe as typed, quotes and all.
		{"quotes", `echo "a  b" & echo c`, wire.ResultSuccess, 0, "\"a  b\" \r\nc\r\n"},
		{"quoted program", `"` + os.Getenv("SystemRoot") + `\system32\cmd.exe" /c echo nested`, wire.ResultSuccess, 0, "nested\r\n"},
	}
	e := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCommand(t, e, tt.command, 60)
			if res.Status != tt.status || res.ExitCode == nil || *res.ExitCode != tt.exitCode {
				t.Fatalf("got %q exit %v (%s), output %q; want %q exit %d", res.Status, res.ExitCode, res.ErrorMessage, res.Output, tt.status, tt.exitCode)
			}
			if !strings.Contains(res.Output, tt.output) {
				t.Errorf("output %q, want %q", res.Output, tt.output)
			}
		})
	}
}

// cmd.exe writes its messages in the console code page (949 on Korean Windows); they must
// arrive as clean UTF-8.
func TestExecuteDecodesConsoleOutput(t *testing.T) {
	res := runCommand(t, New(Options{}), `type C:\no-such-wcms-file.txt`, 60)
	t.Logf("code page %d, output %q", consoleCodePage(), res.Output)
	if res.Status != wire.ResultError || strings.TrimSpace(res.Output) == "" {
		t.Fatalf("got %q, output %q; want cmd's error message", res.Status, res.Output)
	}
	if !utf8.ValidString(res.Output) || strings.ContainsRune(res.Output, utf8.RuneError) {
		t.Errorf("output %q is not cleanly decoded", res.Output)
	}
}

func TestExecuteTimeoutKillsTheTree(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(helperEnv, "tree")
	res := runCommand(t, New(Options{}), `"`+self+`"`, 2)
	if res.Status != wire.ResultTimeout {
		t.Fatalf("got %q (%s), output %q; want timeout", res.Status, res.ErrorMessage, res.Output)
	}
	pids := regexp.MustCompile(`(?m)^(self|child)=(\d+)\r?$`).FindAllStringSubmatch(res.Output, -1)
	if len(pids) != 2 {
		t.Fatalf("output %q: the output before the timeout is lost", res.Output)
	}
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[2])
		if !waitGone(t, uint32(pid)) {
			t.Errorf("%s %d survived the timeout", m[1], pid)
		}
	}
}

// waitGone reports whether process pid has ended, giving it a moment to die.
func waitGone(t *testing.T, pid uint32) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return true // no such process any more
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 10000)
	if ev != windows.WAIT_OBJECT_0 {
		t.Logf("wait for %d: %v", pid, err)
		windows.TerminateProcess(h, 1)
		return false
	}
	return true
}

func TestKillProcessReal(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "wcmsk" + hex.EncodeToString(b) + ".exe"
	bin := filepath.Join(tempDir(t), name)
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(bin)
	proc.Env = append(os.Environ(), helperEnv+"=sleep")
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Process.Kill()
	exited := make(chan struct{})
	go func() { proc.Wait(); close(exited) }()

	e := New(Options{})
	kill := wire.Command{Type: wire.TypeKillProcess, Parameters: map[string]any{"process_name": name}}
	if res := e.Execute(context.Background(), kill); res.Status != wire.ResultSuccess {
		t.Fatalf("got %q (%s), output %q; want success", res.Status, res.ErrorMessage, res.Output)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the process is still running")
	}

	res := e.Execute(context.Background(), kill)
	if res.Status != wire.ResultError {
		t.Fatalf("killing it again: got %q, output %q; want an error", res.Status, res.Output)
	}
	if res.ExitCode == nil || *res.ExitCode != 128 {
		t.Skipf("taskkill here gives exit code %v, not Windows' 128, for no such process (output %q)", res.ExitCode, res.Output)
	}
	if res.ErrorMessage != "no process named "+name {
		t.Errorf("error message %q", res.ErrorMessage)
	}
}

func TestWindowsEnvironment(t *testing.T) {
	if cp := consoleCodePage(); cp == 0 {
		t.Error("no console code page")
	}
	if name := usersGroupName(); name == "" {
		t.Error("no Users group name")
	}
}
