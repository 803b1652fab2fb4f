package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// toolsWithout makes a PATH folder holding the tools install.sh uses, minus the ones named, so
// each downloader can be tried.
func toolsWithout(t *testing.T, missing ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"id", "uname", "mktemp", "rm", "sed", "tail", "tr", "sha256sum", "cut", "mkdir", "cp",
		"chmod", "mv", "curl", "wget"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("install.sh needs %s, which this machine lacks", tool)
		}
		if slices.Contains(missing, tool) {
			continue
		}
		if err := os.Symlink(path, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runInstallSh runs the served script as root the way the one-liner does, in a new session so it
// has no terminal to ask on, and returns its exit status and output.
func runInstallSh(t *testing.T, script, path, installDir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-s", "--"}, args...)...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append([]string{"PATH=" + path, "WCMS_INSTALL_DIR=" + installDir, "HOME=" + t.TempDir()}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run install.sh: %v\n%s", err, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// install.sh, run for real: it fetches the newest build for this machine, checks it, installs
// it and calls "wcms-agent install -server … -pin …" (the stand-in writes its calls to
// calls.txt beside itself).
func TestInstallShRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("install.sh must run as root, and this test is not root")
	}
	ts := newTestServer(t)
	a := ts.admin()
	ts.uploadFile(a, standin(t, "linux", "1.10.0"))
	ts.uploadFile(a, standin(t, "linux", "1.9.0"))
	newest := readFile(t, standin(t, "linux", "1.10.0"))
	script := ts.do(nil, "GET", "/install/install.sh", nil).must(t, 200).Raw

	for _, dl := range []struct{ name, without string }{{"curl", ""}, {"wget", "curl"}} {
		t.Run(dl.name, func(t *testing.T) {
			path := toolsWithout(t, dl.without)
			dir := filepath.Join(t.TempDir(), "bin")
			bin := filepath.Join(dir, "wcms-agent")
			calls := func() string {
				b, _ := os.ReadFile(filepath.Join(dir, "calls.txt"))
				return string(b)
			}

			code, out := runInstallSh(t, script, path, dir, nil, "123456")
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if got := readFile(t, bin); sha256Hex(got) != sha256Hex(newest) {
				t.Fatalf("installed %d bytes that are not the newest build", len(got))
			}
			if st, _ := os.Stat(bin); st.Mode().Perm() != 0o755 {
				t.Errorf("installed with mode %v", st.Mode().Perm())
			}
			if want := "1.10.0 install -server " + ts.URL + " -pin 123456\n"; calls() != want {
				t.Fatalf("calls %q, want %q", calls(), want)
			}

			// Again over the installed agent: it is stopped and uninstalled first (its failures
			// ignored), and the script exits with the status of "install".
			code, out = runInstallSh(t, script, path, dir, []string{"STANDIN_EXIT=3"}, "654321")
			if code != 3 {
				t.Fatalf("exit %d, want the agent's 3:\n%s", code, out)
			}
			if want := "1.10.0 install -server " + ts.URL + " -pin 123456\n1.10.0 stop\n1.10.0 uninstall\n1.10.0 install -server " +
				ts.URL + " -pin 654321\n"; calls() != want {
				t.Fatalf("calls %q, want %q", calls(), want)
			}
		})
	}

	t.Run("refusals", func(t *testing.T) {
		path := toolsWithout(t)
		for _, c := range []struct {
			name, say string
			args      []string
		}{
			{"short PIN", "6 digits", []string{"12345"}},
			{"letters", "6 digits", []string{"12a456"}},
			{"no PIN and no terminal", "no PIN given", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "bin")
				code, out := runInstallSh(t, script, path, dir, nil, c.args...)
				if code == 0 || !strings.Contains(out, c.say) {
					t.Fatalf("exit %d:\n%s", code, out)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("something was installed: %v", err)
				}
			})
		}
	})
	t.Run("a download that does not match its checksum", func(t *testing.T) {
		// Corrupt the newest build on the server's disk: its header still names the true hash.
		stored := filepath.Join(ts.buildFolder(), sha256Hex(newest))
		if err := os.WriteFile(stored, append([]byte("tampered"), newest...), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "bin")
		code, out := runInstallSh(t, script, toolsWithout(t), dir, nil, "123456")
		if code == 0 || !strings.Contains(out, "checksum mismatch") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "wcms-agent")); !os.IsNotExist(err) {
			t.Fatalf("a corrupt build was installed: %v", err)
		}
	})
}
