package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/app"
	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/logtest"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
)

const testPassword = "correct horse battery"

// testServer is a real server on a real listener with a real SQLite file.
type testServer struct {
	t      testing.TB
	URL    string
	store  *models.Store
	fleet  *fleet.Fleet
	hub    *events.Hub
	builds *agentbuilds.Builds
	srv    *httptest.Server
	logs   *logtest.Buffer // everything the server logged
	// logLevel is the server's log level, info unless a test sets it.
	logLevel *slog.LevelVar
	dsn      string // the database, for checks of what is really stored (testdb.DSN)
	dataDir  string // the PIN key, first password file and agent builds
	stop     func() // stops the server, as a signal does; once
}

type serverOption func(*handlers.Config, *fleet.Config)

// testPINKey keys the test servers' PIN hashes, so a test can store a PIN of its own.
var testPINKey = []byte("0123456789abcdef0123456789abcdef")

func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	return newTestServerWith(t, testPassword, opts...)
}

// newTestServerWith starts a server, built by app.New as main builds it, whose first admin has
// firstPassword; "" makes app.EnsureFirstAdmin generate one and write it to the data directory,
// as on a fresh install.
func newTestServerWith(t testing.TB, firstPassword string, opts ...serverOption) *testServer {
	t.Helper()
	return newTestServerOn(t, testdb.DSN(t), firstPassword, opts...)
}

// newTestServerOn starts a server on the database dsn; with another's dsn, a second instance
// of the same installation, as instances share a PostgreSQL database.
func newTestServerOn(t testing.TB, dsn, firstPassword string, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	logs, level := &logtest.Buffer{}, new(slog.LevelVar)
	cfg := app.Config{DB: dsn, DataDir: dir, AdminPassword: firstPassword,
		HTTP:  handlers.Config{Version: "test", LegacyClients: true, BcryptCost: bcrypt.MinCost, PINKey: testPINKey},
		Fleet: fleet.Config{OfflineAfter: 30 * time.Second}}
	for _, o := range opts {
		o(&cfg.HTTP, &cfg.Fleet)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	ts := &testServer{t: t, URL: srv.URL, store: a.Store, fleet: a.Fleet, hub: a.Hub, builds: a.Builds, srv: srv, logs: logs, logLevel: level, dsn: cfg.DB, dataDir: dir}
	ts.stop = sync.OnceFunc(func() {
		a.Drain()
		srv.Close()
		a.Close()
	})
	t.Cleanup(ts.stop)
	return ts
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// do sends a request with a JSON (or raw string) body.
func (ts *testServer) do(client *http.Client, method, path string, body any, header ...string) response {
	ts.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		ts.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if client == nil {
		client = noRedirect(nil)
	}
	return ts.send(client, req)
}

// send sends req with client and decodes the answer.
func (ts *testServer) send(client *http.Client, req *http.Request) response {
	ts.t.Helper()
	res, err := client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// admin is a logged-in admin client that sends the CSRF header.
type admin struct {
	ts     *testServer
	client *http.Client
	csrf   string
}

func (ts *testServer) login(username, password string) *admin {
	ts.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)
	res, err := c.PostForm(ts.URL+"/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		ts.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/" {
		ts.t.Fatalf("login as %s: %d to %q", username, res.StatusCode, res.Header.Get("Location"))
	}
	u, _ := url.Parse(ts.URL)
	a := &admin{ts: ts, client: c}
	for _, ck := range jar.Cookies(u) {
		if ck.Name == handlers.CSRFCookie {
			a.csrf = ck.Value
		}
	}
	if a.csrf == "" {
		ts.t.Fatal("no csrf_token cookie after login")
	}
	return a
}

func (ts *testServer) admin() *admin { return ts.login("admin", testPassword) }

func (a *admin) do(method, path string, body any) response {
	a.ts.t.Helper()
	return a.ts.do(a.client, method, path, body, handlers.CSRFHeader, a.csrf)
}

// must fails the test unless the response has the status.
func (r response) must(t testing.TB, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// get reads a JSON value at a dotted path.
func (r response) get(path string) any {
	var v any = r.Body
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// num reads a JSON number at a dotted path.
func (r response) num(path string) int64 {
	f, _ := r.get(path).(float64)
	return int64(f)
}

// agent is a registered PC speaking the contract.
type agent struct {
	ts        *testServer
	MachineID string
	PCID      int64
	Token     string
}

func (ts *testServer) pin(a *admin, usage string) string {
	ts.t.Helper()
	pin, _ := ts.pinWithID(a, usage)
	return pin
}

// pinWithID issues a PIN and returns its value (shown only now) and its id (what lists show).
func (ts *testServer) pinWithID(a *admin, usage string) (string, int64) {
	ts.t.Helper()
	res := a.do("POST", "/api/admin/registration-token", map[string]any{"usage_type": usage, "expires_in": 600}).must(ts.t, 200)
	return res.get("token").(string), res.num("id")
}

func (ts *testServer) register(pin, machineID string) *agent {
	ts.t.Helper()
	return ts.registerWith(map[string]any{
		"machine_id": machineID, "pin": pin, "hostname": "LAB-" + machineID, "mac_address": "A1:B2:C3:D4:E5:F6",
		"ip_address": "192.168.1.100", "cpu_model": "Intel Core i5-9400", "cpu_cores": 6, "cpu_threads": 6,
		"ram_total": 16.0, "disk_info": map[string]any{`C:\`: map[string]any{"total_gb": 237.0, "fstype": "NTFS"}},
		"os_edition": "Windows 10 Pro", "os_version": "10.0.19045",
	})
}

// registerWith registers a PC with body, which holds the machine_id and the PIN.
func (ts *testServer) registerWith(body map[string]any, header ...string) *agent {
	ts.t.Helper()
	res := ts.do(nil, "POST", "/api/client/register", body, header...).must(ts.t, 200)
	return &agent{ts: ts, MachineID: body["machine_id"].(string), PCID: res.num("pc_id"), Token: res.get("agent_token").(string)}
}

func (ag *agent) do(method, path string, body any) response {
	ag.ts.t.Helper()
	return ag.ts.do(nil, method, path, body, "Authorization", "Bearer "+ag.Token)
}

func (ag *agent) poll(extra map[string]any) response {
	ag.ts.t.Helper()
	body := map[string]any{"machine_id": ag.MachineID,
		"heartbeat": map[string]any{"cpu_usage": 12.5, "ram_usage_percent": 40.0, "ip_address": "192.168.1.100"}}
	for k, v := range extra {
		body[k] = v
	}
	return ag.do("POST", "/api/client/commands", body)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// account creates an account with the role, signs it in and makes its first password change, so
// its pages are not held at the forced change.
func (ts *testServer) account(a *admin, name, role string) *admin {
	ts.t.Helper()
	first := name + " first password"
	a.do("POST", "/api/admin/accounts", map[string]any{"username": name, "password": first, "role": role}).must(ts.t, 200)
	return ts.firstLogin(name, first, name+" password 123")
}

// firstLogin signs an account in with its first password and changes it to next, so that its
// pages and API calls are not held at the forced change.
func (ts *testServer) firstLogin(name, first, next string) *admin {
	ts.t.Helper()
	u := ts.login(name, first)
	u.do("POST", "/api/admin/password", map[string]any{"current_password": first, "new_password": next}).must(ts.t, 200)
	return u
}
