// Package e2e runs the real server binary and the real agent binary against each other over
// loopback: nothing is faked. The binaries are built once per test run.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const adminPassword = "e2e-admin-password-1"

var bins struct {
	once sync.Once
	dir  string
	err  error
}

// root is the module root, where the binaries are built from.
func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// build compiles pkg into the shared binary folder as name, for goos, with version stamped the
// way `make build` does.
func build(t *testing.T, pkg, name, goos, version string) string {
	t.Helper()
	bins.once.Do(func() { bins.dir, bins.err = os.MkdirTemp("", "wcms-e2e-bin-") })
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	out := filepath.Join(bins.dir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", out, pkg)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// proc is a running binary whose output is kept in a file.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func start(t *testing.T, logPath string, env []string, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s output:\n%s", filepath.Base(bin), tail(string(b), 60))
		}
	})
	return p
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (p *proc) signal(sig os.Signal) {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of SIGTERM", p.cmd.Path)
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// server is the real server binary on a fixed loopback port, so it can be restarted in place.
type server struct {
	t       *testing.T
	bin     string
	dir     string
	addr    string
	URL     string
	args    []string
	proc    *proc
	http    *http.Client
	csrf    string
	started int
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServer(t *testing.T, extra ...string) *server {
	dir := t.TempDir()
	return startServerIn(t, dir, append([]string{"-db", filepath.Join(dir, "wcms.db")}, extra...)...)
}

// startServerIn starts the server with its logs in dir.
func startServerIn(t *testing.T, dir string, args ...string) *server {
	s := &server{t: t, bin: build(t, ".", "wcms-server", "linux", "0.9.0-e2e"), dir: dir, addr: freeAddr(t)}
	s.URL = "http://" + s.addr
	s.args = append([]string{"-addr", s.addr, "-offline-after", "10s"}, args...)
	s.start()
	s.login()
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.started++
	s.proc = start(s.t, filepath.Join(s.dir, fmt.Sprintf("server-%d.log", s.started)),
		[]string{"WCMS_ADMIN_PASSWORD=" + adminPassword}, s.bin, s.args...)
	waitFor(s.t, "the server's /healthz", 20*time.Second, func() bool {
		res, err := http.Get(s.URL + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

func (s *server) login() {
	s.t.Helper()
	var err error
	if s.http, s.csrf, err = s.signIn(); err != nil {
		s.t.Fatalf("login: %v", err)
	}
}

// signIn signs in as admin with its own cookie jar (one browser) and returns the client and
// its CSRF token.
func (s *server) signIn() (*http.Client, string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(s.URL+"/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if err != nil {
		return c, "", err
	}
	res.Body.Close()
	u, _ := url.Parse(s.URL)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "csrf_token" {
			return c, ck.Value, nil
		}
	}
	return c, "", fmt.Errorf("%d, no csrf cookie", res.StatusCode)
}

// send sends body (when not nil) as JSON to target, with the agent's bearer token and the
// admin's CSRF token when they are not empty, and decodes a 2xx answer into out (when not nil).
func send(client *http.Client, method, target, token, csrf string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%d %s", res.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// api calls an admin endpoint and decodes the JSON answer; it fails the test on a non-2xx.
func (s *server) api(method, path string, body any) map[string]any {
	s.t.Helper()
	var out map[string]any
	if err := send(s.http, method, s.URL+path, "", s.csrf, body, &out); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return out
}

// newPIN creates a registration PIN ("single" or "multi" use) valid for expiresIn seconds.
func (s *server) newPIN(usage string, expiresIn int) string {
	return s.api("POST", "/api/admin/registration-token", map[string]any{"usage_type": usage, "expires_in": expiresIn})["token"].(string)
}

func (s *server) pin() string { return s.newPIN("single", 600) }

func (s *server) pcs() []map[string]any {
	var out []map[string]any
	for _, p := range s.api("GET", "/api/admin/pcs", nil)["pcs"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func (s *server) command(pcID float64, typ string, params map[string]any) int64 {
	res := s.api("POST", fmt.Sprintf("/api/admin/pc/%d/command", int64(pcID)), map[string]any{"type": typ, "parameters": params})
	return int64(res["command_id"].(float64))
}

func (s *server) commandState(id int64) map[string]any {
	return s.api("GET", fmt.Sprintf("/api/admin/command/%d", id), nil)["command"].(map[string]any)
}

// waitCommand waits until the command reaches one of the final states and returns it.
func (s *server) waitCommand(id int64, within time.Duration) map[string]any {
	s.t.Helper()
	var c map[string]any
	waitFor(s.t, fmt.Sprintf("command %d to finish", id), within, func() bool {
		c = s.commandState(id)
		st := c["status"]
		return st == "completed" || st == "error" || st == "timeout"
	})
	return c
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countLines counts the lines of path that contain substr.
func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}
