package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wcms-lab/wcms/app"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/logtest"
	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
)

// Stand-in agent builds, compiled from testdata/wcms-agent once per test binary run into one
// folder that TestMain removes.
var standins struct {
	mu    sync.Mutex
	dir   string
	built map[string]string // "goos version" -> path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if standins.dir != "" {
		os.RemoveAll(standins.dir)
	}
	os.Exit(code)
}

// standin returns a stand-in agent built for goos with -X main.version=version; no version is
// stamped when version is empty.
func standin(t testing.TB, goos, version string) string {
	if version == "" {
		return standinWith(t, goos)
	}
	return standinWith(t, goos, "-ldflags", "-X main.version="+version)
}

// standinWith builds the stand-in agent for goos (windows: amd64; linux: this machine's
// architecture, so it can run here) with these go build flags.
func standinWith(t testing.TB, goos string, flags ...string) string {
	t.Helper()
	standins.mu.Lock()
	defer standins.mu.Unlock()
	key := goos + " " + strings.Join(flags, " ")
	if p, ok := standins.built[key]; ok {
		return p
	}
	if standins.dir == "" {
		dir, err := os.MkdirTemp("", "wcms-standins-")
		if err != nil {
			t.Fatal(err)
		}
		standins.dir, standins.built = dir, map[string]string{}
	}
	arch := runtime.GOARCH
	if goos == "windows" {
		arch = "amd64"
	}
	out := filepath.Join(standins.dir, strconv.Itoa(len(standins.built)))
	args := append([]string{"build", "-buildvcs=false", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, "./testdata/wcms-agent")...)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+arch, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in agent: %v\n%s", err, msg)
	}
	standins.built[key] = out
	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// buildFolder is where the server keeps build files: agent-builds/ next to the database.
func (ts *testServer) buildFolder() string {
	return filepath.Join(ts.dataDir, "agent-builds")
}

// buildFiles lists the build folder (nothing when it does not exist).
func (ts *testServer) buildFiles() []string {
	ts.t.Helper()
	entries, err := os.ReadDir(ts.buildFolder())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		ts.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// multipartBody encodes a file (when content is not nil) and a changelog (when not empty).
func multipartBody(t testing.TB, content []byte, changelog string) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if changelog != "" {
		if err := mw.WriteField("changelog", changelog); err != nil {
			t.Fatal(err)
		}
	}
	if content != nil {
		fw, err := mw.CreateFormFile("file", "wcms-agent")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload posts a build as the admin a (no session when a is nil). chunked hides the length, so
// the server cannot refuse by Content-Length and must stream.
func (ts *testServer) upload(a *admin, content []byte, changelog string, chunked bool, header ...string) response {
	ts.t.Helper()
	body, ctype := multipartBody(ts.t, content, changelog)
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r)
	}
	req, err := http.NewRequest("POST", ts.URL+"/api/admin/agent-builds", r)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	client := http.DefaultClient
	if a != nil {
		client = a.client
		req.Header.Set(handlers.CSRFHeader, a.csrf)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return ts.send(client, req)
}

// uploadFile uploads a stand-in build as a and returns the registered build's id.
func (ts *testServer) uploadFile(a *admin, path string) int64 {
	ts.t.Helper()
	return ts.upload(a, readFile(ts.t, path), "", false).must(ts.t, 200).num("build.id")
}

func TestUploadAgentBuild(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	win := readFile(t, standin(t, "windows", "1.2.3"))
	if len(win) <= 2<<20 {
		t.Fatalf("the stand-in is %d bytes: it must pass the 2 MiB cap of other routes to show the upload's own cap", len(win))
	}
	testBinary, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("refused", func(t *testing.T) {
		op, viewer := ts.account(a, "op", "operator"), ts.account(a, "view", "viewer")
		for _, c := range []struct {
			name     string
			as       *admin
			content  []byte
			header   []string
			status   int
			code     string
			mentions []string
		}{
			{name: "no session", content: win, status: 401, code: "UNAUTHORIZED"},
			{name: "viewer", as: viewer, content: win, status: 403, code: "FORBIDDEN", mentions: []string{"admin role"}},
			{name: "operator", as: op, content: win, status: 403, code: "FORBIDDEN", mentions: []string{"admin role"}},
			{name: "no CSRF token", as: a, content: win, header: []string{handlers.CSRFHeader, ""}, status: 403, code: "CSRF_FAILED"},
			{name: "not a Go binary", as: a, content: []byte("#!/bin/sh\necho hello\n"), status: 400, code: "INVALID_BUILD",
				mentions: []string{"not a Go binary"}},
			{name: "a Go program that is not the agent", as: a, content: readFile(t, testBinary), status: 400, code: "INVALID_BUILD",
				mentions: []string{"not a wcms-agent build", "handlers.test"}},
			{name: "no version stamped", as: a, content: readFile(t, standin(t, "linux", "")), status: 400, code: "INVALID_BUILD",
				mentions: []string{"no version stamped", "-X main.version="}},
			{name: "built with -trimpath", as: a, content: readFile(t, standinWith(t, "linux", "-trimpath", "-ldflags", "-X main.version=1.0.0")),
				status: 400, code: "INVALID_BUILD", mentions: []string{"-trimpath"}},
			{name: "not a semantic version", as: a, content: readFile(t, standin(t, "linux", "dev")), status: 400, code: "INVALID_BUILD",
				mentions: []string{`"dev"`, "not a semantic version"}},
			{name: "no file", as: a, status: 400, code: "MISSING_FIELD", mentions: []string{"file"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				checkEnvelope(t, ts.upload(c.as, c.content, "notes", false, c.header...), c.status, c.code, c.mentions...)
			})
		}
		checkEnvelope(t, a.do("POST", "/api/admin/agent-builds", map[string]any{"file": "x"}), 400, "INVALID_FIELD", "multipart")
		if res := a.do("GET", "/api/admin/agent-builds", nil).must(t, 200); len(res.get("builds").([]any)) != 0 {
			t.Fatalf("refused uploads registered builds: %s", res.Raw)
		}
		if files := ts.buildFiles(); len(files) != 0 {
			t.Fatalf("refused uploads left files: %v", files)
		}
	})

	var id int64
	t.Run("as admin", func(t *testing.T) {
		res := ts.upload(a, win, "Faster heartbeats.\n", false).must(t, 200)
		id = res.num("build.id")
		sum := sha256Hex(win)
		for k, want := range map[string]any{"version": "1.2.3", "os": "windows", "arch": "amd64", "sha256": sum,
			"size": float64(len(win)), "changelog": "Faster heartbeats.", "created_by": "admin",
			"download_url": ts.URL + "/download/builds/" + itoa(id) + "/wcms-agent.exe"} {
			if got := res.get("build." + k); got != want {
				t.Errorf("build.%s = %v, want %v", k, got, want)
			}
		}
		utcTime(t, res.get("build.created_at"))
		if files := ts.buildFiles(); len(files) != 1 || files[0] != sum {
			t.Fatalf("build folder holds %v, want just %s", files, sum)
		}
		stored := filepath.Join(ts.buildFolder(), sum)
		if !bytes.Equal(readFile(t, stored), win) {
			t.Fatal("the stored file differs from the upload")
		}
		if st, _ := os.Stat(stored); st.Mode().Perm() != 0o644 {
			t.Errorf("stored with mode %v, want 0644", st.Mode().Perm())
		}
		if !strings.Contains(ts.logs.String(), "agent build uploaded") {
			t.Error("the upload was not logged")
		}
	})
	t.Run("the same build again", func(t *testing.T) {
		checkEnvelope(t, ts.upload(a, win, "", true), 409, "CONFLICT", "registered already", "build "+itoa(id))
		if files := ts.buildFiles(); len(files) != 1 {
			t.Fatalf("build folder holds %v after the duplicate", files)
		}
	})
	t.Run("streamed without a length", func(t *testing.T) {
		linux := readFile(t, standin(t, "linux", "1.9.0"))
		res := ts.upload(a, linux, "", true).must(t, 200)
		if res.get("build.os") != "linux" || res.get("build.arch") != runtime.GOARCH || res.get("build.sha256") != sha256Hex(linux) {
			t.Fatalf("linux build: %s", res.Raw)
		}
	})
	t.Run("list", func(t *testing.T) {
		res := ts.login("view", "view password 123").do("GET", "/api/admin/agent-builds", nil).must(t, 200)
		builds, _ := res.get("builds").([]any)
		if len(builds) != 2 {
			t.Fatalf("list: %s", res.Raw)
		}
		newest, oldest := builds[0].(map[string]any), builds[1].(map[string]any)
		if newest["version"] != "1.9.0" || oldest["version"] != "1.2.3" ||
			oldest["download_url"] != ts.URL+"/download/builds/"+itoa(id)+"/wcms-agent.exe" {
			t.Fatalf("list not newest first, or without download_url: %s", res.Raw)
		}
	})
	t.Run("other routes keep the 2 MiB cap", func(t *testing.T) {
		body := `{"name":"` + strings.Repeat("x", 3<<20) + `"}`
		checkEnvelope(t, a.do("POST", "/api/admin/rooms", body), 413, "BODY_TOO_LARGE")
	})
}

func TestUploadOverTheCap(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.MaxUpload = 1 << 20 })
	a := ts.admin()
	build := readFile(t, standin(t, "windows", "1.2.3"))
	for _, chunked := range []bool{false, true} {
		name := map[bool]string{false: "with Content-Length", true: "streamed"}[chunked]
		t.Run(name, func(t *testing.T) {
			checkEnvelope(t, ts.upload(a, build, "", chunked), 413, "BODY_TOO_LARGE")
			if res := a.do("GET", "/api/admin/agent-builds", nil).must(t, 200); len(res.get("builds").([]any)) != 0 {
				t.Fatalf("a refused upload was registered: %s", res.Raw)
			}
			if files := ts.buildFiles(); len(files) != 0 {
				t.Fatalf("a refused upload left files: %v", files)
			}
		})
	}
}

// Builds in the -agent-dir folder are registered at start (app.New), once: a second start finds
// them registered.
func TestRegisterAgentBuilds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	copyTo := func(src, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), readFile(t, src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Stripped, as release builds are.
	copyTo(standinWith(t, "linux", "-ldflags", "-s -w -X main.version=1.9.0"), "wcms-agent")
	copyTo(standinWith(t, "windows", "-ldflags", "-s -w -X main.version=1.2.3"), "wcms-agent.exe")
	copyTo(standin(t, "linux", ""), "wcms-agent-unversioned")
	copyTo(standin(t, "linux", "1.10.0"), "not-an-agent-name") // not wcms-agent*: ignored
	if err := os.WriteFile(filepath.Join(dir, "wcms-agent.sha256"), []byte("0123 wcms-agent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "wcms-agent.d"), 0o755); err != nil {
		t.Fatal(err)
	}

	dbPath := filepath.Join(t.TempDir(), "data", "wcms.db")
	start := func() (logs string, builds []models.AgentBuild) {
		t.Helper()
		buf := &logtest.Buffer{} // the app's goroutines log while this reads
		a, err := app.New(ctx, startConfig(dbPath, dir), slog.New(slog.NewTextHandler(buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if builds, err = a.Store.ListAgentBuilds(ctx); err != nil {
			t.Fatal(err)
		}
		return buf.String(), builds
	}
	check := func(builds []models.AgentBuild) {
		t.Helper()
		got := map[string]string{}
		for _, b := range builds {
			got[b.OS+" "+b.Version] = b.SHA256
			if b.CreatedBy != "agent-dir" {
				t.Errorf("created_by %q", b.CreatedBy)
			}
		}
		want := map[string]string{"linux 1.9.0": sha256Hex(readFile(t, filepath.Join(dir, "wcms-agent"))),
			"windows 1.2.3": sha256Hex(readFile(t, filepath.Join(dir, "wcms-agent.exe")))}
		if len(got) != len(want) || len(builds) != len(want) || got["linux 1.9.0"] != want["linux 1.9.0"] || got["windows 1.2.3"] != want["windows 1.2.3"] {
			t.Fatalf("registered %v, want %v", got, want)
		}
		files, _ := os.ReadDir(filepath.Join(filepath.Dir(dbPath), "agent-builds"))
		if len(files) != len(want) {
			t.Fatalf("build folder holds %d files, want %d", len(files), len(want))
		}
	}

	logs, builds := start()
	check(builds)
	if n := strings.Count(logs, "agent build registered"); n != 2 {
		t.Errorf("%d registrations logged, want 2:\n%s", n, logs)
	}
	if !strings.Contains(logs, "wcms-agent-unversioned") || !strings.Contains(logs, "no version stamped") {
		t.Errorf("the unversioned build's skip was not logged:\n%s", logs)
	}

	logs, builds = start()
	check(builds)
	if strings.Contains(logs, "agent build registered") {
		t.Errorf("the second start registered again:\n%s", logs)
	}

	a, err := app.New(ctx, startConfig(dbPath, filepath.Join(dir, "missing")), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("a missing folder: %v", err)
	}
	a.Close()
}

// startConfig is a start of the server on the database at dbPath with builds in agentDir.
func startConfig(dbPath, agentDir string) app.Config {
	return app.Config{DB: dbPath, AgentDir: agentDir, AdminPassword: testPassword,
		HTTP: handlers.Config{BcryptCost: bcrypt.MinCost, PINKey: testPINKey}}
}
