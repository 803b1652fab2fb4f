package handlers_test

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"

	"github.com/wcms-lab/wcms/fleet"
)

// publicRoute reports the routes that need no session: the agent API, agent downloads and
// install scripts, the login page, the language switch, wall displays (their own token), health,
// metrics and static files. Every other route must refuse a request without a session.
func publicRoute(path string) bool {
	return strings.HasPrefix(path, "/api/client/") || strings.HasPrefix(path, "/static/") ||
		strings.HasPrefix(path, "/download/") || strings.HasPrefix(path, "/install/") ||
		strings.HasPrefix(path, "/lang/") || strings.HasPrefix(path, "/wall/") ||
		path == "/login" || path == "/healthz" || path == "/metrics"
}

// sessionRoute is one route behind the session, with its parameters filled in.
type sessionRoute struct {
	method, path string
	api          bool
}

// sessionRoutes walks the test server's routes and returns those behind
// the session.
func sessionRoutes(t *testing.T, ts *testServer) []sessionRoute {
	t.Helper()
	e := handlers.EchoOf(ts.srv.Config.Handler) // the routes of the server app.New built
	fill := strings.NewReplacer(":id", "999999", ":token", "123456", ":name", "Nowhere", ":username", "nobody", "*", "x")
	var out []sessionRoute
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		switch r.Method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			continue // echo's internal not-found routes
		}
		if publicRoute(r.Path) || seen[r.Method+r.Path] {
			continue
		}
		seen[r.Method+r.Path] = true
		out = append(out, sessionRoute{r.Method, fill.Replace(r.Path), strings.HasPrefix(r.Path, "/api/")})
	}
	return out
}

func stateChanging(method string) bool {
	return method != "GET" && method != "HEAD" && method != "OPTIONS"
}

func TestEveryAdminRouteNeedsSessionAndCSRF(t *testing.T) {
	ts := newTestServer(t)
	routes := sessionRoutes(t, ts)
	// The walk must find the routes we know of, so an empty walk cannot pass.
	have := map[string]bool{}
	changing := 0
	for _, r := range routes {
		have[r.method+" "+r.path] = true
		if stateChanging(r.method) {
			changing++
		}
	}
	for _, want := range []string{"GET /api/admin/pcs", "POST /api/admin/pc/999999/command", "DELETE /api/admin/pc/999999",
		"POST /api/admin/commands/bulk", "POST /api/admin/registration-token", "DELETE /api/admin/registration-token/123456",
		"PUT /api/admin/pc/999999/seat", "POST /api/admin/accounts", "PUT /api/admin/account/nobody/password",
		"POST /api/admin/password", "POST /logout", "GET /", "GET /api/admin/agent-builds", "POST /api/admin/agent-builds",
		"DELETE /api/admin/agent-build/999999"} {
		if !have[want] {
			t.Errorf("route walk missed %s", want)
		}
	}
	if len(routes) < 25 || changing < 15 {
		t.Fatalf("only %d session routes (%d state-changing) found: %v", len(routes), changing, routes)
	}

	t.Run("no session", func(t *testing.T) {
		for _, r := range routes {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				// A forged CSRF header without a session changes nothing either.
				res := ts.do(nil, r.method, r.path, `{}`, handlers.CSRFHeader, "forged")
				if r.api {
					checkEnvelope(t, res, 401, "UNAUTHORIZED")
					return
				}
				if res.Status != 302 || res.Header.Get("Location") != "/login" {
					t.Fatalf("page without a session: %d to %q", res.Status, res.Header.Get("Location"))
				}
			})
		}
	})

	t.Run("a stale or forged session cookie", func(t *testing.T) {
		for _, r := range routes[:min(len(routes), 5)] {
			res := ts.do(nil, r.method, r.path, `{}`, "Cookie", "session=0123456789abcdef")
			if r.api && res.Status != 401 || !r.api && res.Status != 302 {
				t.Errorf("%s %s with a forged session: %d", r.method, r.path, res.Status)
			}
		}
	})

	a := ts.admin()
	wrong := []byte(a.csrf)
	wrong[len(wrong)-1] ^= 1
	t.Run("CSRF", func(t *testing.T) {
		for _, r := range routes {
			if r.path == "/logout" {
				continue // tested last: it ends the session
			}
			if r.path == "/stream" {
				continue // a read that never ends; stream_test.go covers it
			}
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				for _, c := range []struct {
					name   string
					header []string
				}{
					{"no header", nil},
					{"wrong header", []string{handlers.CSRFHeader, string(wrong)}},
					{"empty header", []string{handlers.CSRFHeader, ""}},
					{"session token in the header", []string{handlers.CSRFHeader, "session"}},
				} {
					res := ts.do(a.client, r.method, r.path, `{}`, c.header...)
					if !stateChanging(r.method) {
						if res.Status == 403 || res.Status == 401 {
							t.Errorf("%s: a read needs no CSRF token, got %d: %s", c.name, res.Status, res.Raw)
						}
						continue
					}
					if r.api {
						checkEnvelope(t, res, 403, "CSRF_FAILED")
					} else if res.Status != 403 {
						t.Errorf("%s: page %d, want 403", c.name, res.Status)
					}
				}
				if !stateChanging(r.method) {
					return
				}
				// The same request with the right token gets past the CSRF check (it may then fail
				// for its own reasons: the ids do not exist).
				res := a.do(r.method, r.path, `{}`)
				if res.Status == 401 || res.get("error.code") == "CSRF_FAILED" {
					t.Fatalf("with the right token: %d %s", res.Status, res.Raw)
				}
			})
		}
	})

	t.Run("form field counts for pages only", func(t *testing.T) {
		res := a.sendForm("POST", "/api/admin/rooms?csrf_token="+url.QueryEscape(a.csrf), url.Values{"csrf_token": {a.csrf}})
		checkEnvelope(t, res, 403, "CSRF_FAILED")
		// A form posting to /logout with the field passes.
		s := ts.admin()
		res = s.sendForm("POST", "/logout", url.Values{"csrf_token": {s.csrf}})
		if res.Status != 302 || res.Header.Get("Location") != "/login" {
			t.Fatalf("logout with the form field: %d %q %s", res.Status, res.Header.Get("Location"), res.Raw)
		}
		checkEnvelope(t, s.do("GET", "/api/admin/pcs", nil), 401, "UNAUTHORIZED")
	})

	t.Run("logout", func(t *testing.T) {
		if res := ts.do(a.client, "POST", "/logout", nil); res.Status != 403 {
			t.Fatalf("logout without the token: %d", res.Status)
		}
		a.do("GET", "/api/admin/pcs", nil).must(t, 200)
		res := a.do("POST", "/logout", nil)
		if res.Status != 302 || res.Header.Get("Location") != "/login" {
			t.Fatalf("logout: %d %q", res.Status, res.Header.Get("Location"))
		}
		checkEnvelope(t, a.do("GET", "/api/admin/pcs", nil), 401, "UNAUTHORIZED")
	})
}

// cookieNamed returns the Set-Cookie of that name.
func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LoginFailures = 3 })

	t.Run("login page", func(t *testing.T) {
		res := ts.do(nil, "GET", "/login", nil)
		if res.Status != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("login page: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
	})
	t.Run("cookies", func(t *testing.T) {
		res := loginRaw(t, ts, "admin", testPassword)
		if res.StatusCode != 302 || res.Header.Get("Location") != "/" {
			t.Fatalf("right password: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		s, c := cookieNamed(res, "session"), cookieNamed(res, "csrf_token")
		if s == nil || c == nil {
			t.Fatalf("cookies: %v", res.Cookies())
		}
		if !s.HttpOnly || (s.SameSite != http.SameSiteLaxMode && s.SameSite != http.SameSiteStrictMode) || len(s.Value) < 32 || s.Path != "/" {
			t.Errorf("session cookie: %+v", s)
		}
		if c.HttpOnly || c.SameSite == http.SameSiteNoneMode || c.SameSite == http.SameSiteDefaultMode || len(c.Value) < 32 || c.Path != "/" {
			t.Errorf("csrf_token cookie must be readable by the page and SameSite: %+v", c)
		}
		if s.Value == c.Value {
			t.Error("the CSRF token must not be the session token")
		}
	})
	t.Run("same-origin Origin is fine", func(t *testing.T) {
		res := loginRaw(t, ts, "admin", testPassword, "Origin", ts.URL)
		if res.StatusCode != 302 || res.Header.Get("Location") != "/" {
			t.Fatalf("same-origin login: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("cross-origin Origin is refused", func(t *testing.T) {
		for _, origin := range []string{"http://evil.example", "null", ts.URL + ".evil.example"} {
			res := loginRaw(t, ts, "admin", testPassword, "Origin", origin)
			if res.StatusCode != 403 || cookieNamed(res, "session") != nil {
				t.Errorf("login with Origin %s: %d, cookies %v", origin, res.StatusCode, res.Cookies())
			}
		}
	})
	t.Run("wrong password and rate limit", func(t *testing.T) {
		for _, c := range []struct{ user, pw string }{{"admin", "wrong"}, {"nobody", testPassword}, {"admin", ""}} {
			res := loginRaw(t, ts, c.user, c.pw)
			if res.StatusCode != 302 || res.Header.Get("Location") != "/login" || cookieNamed(res, "session") != nil {
				t.Fatalf("login %s/%q: %d to %q", c.user, c.pw, res.StatusCode, res.Header.Get("Location"))
			}
		}
		// Three failures: now even the right password is refused.
		res := loginRaw(t, ts, "admin", testPassword)
		if res.StatusCode != 429 || cookieNamed(res, "session") != nil {
			t.Fatalf("login after the limit: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
	})
}

func TestPINBruteForce(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.PINFailures, c.FailureWindow = 3, 2*time.Second })
	a := ts.admin()
	pin := ts.pin(a, "single")
	reg := func(p string) response {
		return ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "BRUTE", "pin": p, "hostname": "h", "mac_address": "00:00:5E:00:53:01"})
	}
	wrong := unusedPIN(t, ts, pin)
	for _, p := range []string{wrong, "abc", wrong} {
		checkEnvelope(t, reg(p), 403, "INVALID_PIN")
	}
	res := reg(wrong)
	checkEnvelope(t, res, 429, "RATE_LIMITED")
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	checkEnvelope(t, reg(pin), 429, "RATE_LIMITED")
	// Headers a client can forge do not make a new source address.
	for i, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		res := ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "BRUTE", "pin": pin, "hostname": "h",
			"mac_address": "00:00:5E:00:53:01"}, h, "203.0.113."+strconv.Itoa(i+1))
		checkEnvelope(t, res, 429, "RATE_LIMITED")
	}
	if pcs := items(t, a.do("GET", "/api/admin/pcs", nil).must(t, 200), "pcs"); len(pcs) != 0 {
		t.Fatalf("registered while blocked: %v", pcs)
	}
	for _, p := range items(t, a.do("GET", "/api/admin/registration-tokens", nil).must(t, 200), "tokens") {
		if p["token"] == pin && p["used_count"] != 0.0 {
			t.Fatalf("the PIN was spent while blocked: %v", p)
		}
	}
	// When the window has passed, the right PIN works again.
	var last response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if last = reg(pin); last.Status != 429 {
			break
		}
	}
	if last.Status != 200 {
		t.Fatalf("after the window: %d %s", last.Status, last.Raw)
	}
}

func TestSecretsAreDeliveredOnceThenGone(t *testing.T) {
	ts := newTestServer(t)
	db, path := openDB(t, ts)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	pc := "/api/admin/pc/" + itoa(ag.PCID)
	secret := func(name string) string { return "S3cr3t-" + name + "-" + rand.Text()[:12] }
	create, change, cancelled, expired := secret("create"), secret("change"), secret("cancel"), secret("expire")
	secrets := []string{create, change, cancelled, expired}

	createID := a.do("POST", pc+"/command", map[string]any{"type": "create_user", "parameters": map[string]any{
		"username": "kim", "password": create, "full_name": "Kim Minsu", "comment": "lab", "language": "ko-KR"}, "priority": 1}).must(t, 200).num("command_id")
	changeID := a.do("POST", pc+"/command", map[string]any{"type": "change_password", "parameters": map[string]any{
		"username": "kim", "new_password": change}, "priority": 2}).must(t, 200).num("command_id")

	// Not shown to admins even before delivery.
	for _, id := range []int64{createID, changeID} {
		res := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
		if strings.Contains(res.Raw, create) || strings.Contains(res.Raw, change) || res.get("command.parameters.username") != "kim" {
			t.Fatalf("pending command shows its secret or lost its username: %s", res.Raw)
		}
	}

	// One delivery each, with the secret, exactly the keys the published client takes.
	res := ag.poll(nil).must(t, 200)
	if res.num("data.command.id") != createID || res.get("data.command.parameters.password") != create ||
		len(res.get("data.command.parameters").(map[string]any)) != 5 {
		t.Fatalf("create_user delivery: %s", res.Raw)
	}
	res = ag.poll(nil).must(t, 200)
	if res.num("data.command.id") != changeID || res.get("data.command.parameters.new_password") != change ||
		len(res.get("data.command.parameters").(map[string]any)) != 2 {
		t.Fatalf("change_password delivery: %s", res.Raw)
	}
	ag.do("POST", "/api/client/commands/"+itoa(createID)+"/result", map[string]any{"status": "success", "output": "created"}).must(t, 200)

	// Secrets of commands that end without delivery go too: one cancelled, one timed out.
	a.do("POST", pc+"/command", map[string]any{"type": "create_user", "parameters": map[string]any{
		"username": "lee", "password": cancelled}}).must(t, 200)
	a.do("DELETE", pc+"/commands/pending", nil).must(t, 200)
	expiredID := a.do("POST", pc+"/command", map[string]any{"type": "change_password", "parameters": map[string]any{
		"username": "lee", "new_password": expired}, "timeout": 1}).must(t, 200).num("command_id")
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if a.do("GET", "/api/admin/command/"+itoa(expiredID), nil).must(t, 200).get("command.status") == "timeout" {
			break
		}
	}
	if st := a.do("GET", "/api/admin/command/"+itoa(expiredID), nil).must(t, 200).get("command.status"); st != "timeout" {
		t.Fatalf("the undelivered command did not time out: %v", st)
	}

	for i := range 3 {
		if res := ag.poll(nil).must(t, 200); res.get("data.has_command") != false {
			t.Fatalf("poll %d after delivery: %s", i, res.Raw)
		}
	}

	places := map[string]string{
		"GET command create": a.do("GET", "/api/admin/command/"+itoa(createID), nil).must(t, 200).Raw,
		"GET command change": a.do("GET", "/api/admin/command/"+itoa(changeID), nil).must(t, 200).Raw,
		"history":            a.do("GET", pc+"/commands", nil).must(t, 200).Raw,
		"PC detail":          a.do("GET", pc, nil).must(t, 200).Raw,
	}
	settle(t, ts, db)
	places["commands table"] = strings.Join(queryRows(t, db, `SELECT * FROM commands`), "\n")
	places["whole database"] = strings.Join(func() []string {
		var all []string
		for table, rows := range dumpDB(t, db) {
			all = append(all, table+": "+strings.Join(rows, "\n"))
		}
		return all
	}(), "\n")
	// No checkpoint of the test's own: the server scrubs the write-ahead log itself. PostgreSQL's
	// files are its own (docs/SECURITY.md): the rows above are what this test reads there.
	for _, suffix := range []string{"", "-wal"} {
		if testdb.Postgres() {
			places["file wcms.db"] = places["whole database"]
			break
		}
		b, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		places["file wcms.db"+suffix] = string(b)
	}
	places["server log"] = ts.logs.String()
	// The file read is real: the parameters that are not secret are in it.
	if !strings.Contains(places["file wcms.db"]+places["file wcms.db-wal"], "Kim Minsu") {
		t.Fatal("the database files do not hold the command's other parameters: the file check checks nothing")
	}

	for place, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s still holds the secret %s", place, s)
			}
		}
	}
	// The rest of the parameters stay visible.
	if got := a.do("GET", "/api/admin/command/"+itoa(createID), nil).must(t, 200).get("command.parameters"); !reflect.DeepEqual(got,
		map[string]any{"username": "kim", "full_name": "Kim Minsu", "comment": "lab", "language": "ko-KR"}) {
		t.Fatalf("parameters after delivery: %v", got)
	}
}

// TestSecurityHeaders: pages, the admin API, static files and any path no route takes carry the
// pages' security headers; what agents and monitoring poll does not, for an agent would pay them
// 1,800 times an hour (routes.go agentRoutes).
func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "HEADERS-PC")
	for _, c := range []struct {
		name         string
		client       *http.Client
		method, path string
		body         any
		pageHeaders  bool
		noStore      bool
	}{
		{"login page", nil, "GET", "/login", nil, true, false},
		{"home page", a.client, "GET", "/", nil, true, false},
		{"page redirect", nil, "GET", "/", nil, true, false},
		{"unknown page", nil, "GET", "/no-such-page", nil, true, false},
		{"page method not allowed", nil, "PUT", "/login", nil, true, false},
		{"static file", nil, "GET", "/static/app.css", nil, true, false},
		{"admin API", a.client, "GET", "/api/admin/status", nil, true, true},
		{"admin 401", nil, "GET", "/api/admin/pcs", nil, true, true},
		{"agent version", nil, "GET", "/api/client/version", nil, false, true},
		{"agent poll", nil, "POST", "/api/client/commands", map[string]any{"machine_id": ag.MachineID}, false, false},
		{"agent heartbeat", nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID,
			"system_info": map[string]any{"cpu_usage": 1.0}}, false, false},
		{"agent error", nil, "POST", "/api/client/commands", nil, false, false},
		{"agent GET poll", nil, "GET", "/api/client/commands?timeout=0&machine_id=" + ag.MachineID, nil, false, true},
		{"health", nil, "GET", "/healthz", nil, false, false},
		{"metrics", nil, "GET", "/metrics", nil, false, false},
		{"install script", nil, "GET", "/install/install.sh", nil, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := ts.do(c.client, c.method, c.path, c.body, "Authorization", "Bearer "+ag.Token)
			checkPageHeaders(t, res.Header, c.pageHeaders)
			if got := res.Header.Get("Cache-Control") == "no-store"; got != c.noStore {
				t.Errorf("status %d: Cache-Control %q, want no-store %v", res.Status, res.Header.Get("Cache-Control"), c.noStore)
			}
		})
	}
}

// checkPageHeaders fails unless header has the pages' security headers, or none of them.
func checkPageHeaders(t *testing.T, header http.Header, want bool) {
	t.Helper()
	for name, value := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "same-origin", "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"} {
		if got := header.Get(name); want && got != value {
			t.Errorf("%s %q, want %q", name, got, value)
		} else if !want && got != "" {
			t.Errorf("%s %q on an answer for programs", name, got)
		}
	}
}

// TestPollAnswerWithCommandIsNotStored: the POST poll goes without Cache-Control (routes.go),
// except the answer that hands out a command, whose parameters may hold a password.
func TestPollAnswerWithCommandIsNotStored(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "NOSTORE-PC")
	a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/command", map[string]any{"type": "create_user",
		"parameters": map[string]any{"username": "kim", "password": "Secret-pass-1"}}).must(t, 200)
	res := ag.poll(nil).must(t, 200)
	if res.get("data.has_command") != true || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("poll with a command: has_command %v, Cache-Control %q, want no-store", res.get("data.has_command"), res.Header.Get("Cache-Control"))
	}
	checkPageHeaders(t, res.Header, false)
}

func TestAgentImpersonation(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = false })
	a := ts.admin()
	pin := ts.pin(a, "multi")
	pcA, pcB := ts.register(pin, "PC-A"), ts.register(pin, "PC-B")

	calls := []struct{ method, path, body string }{
		{"POST", "/api/client/heartbeat", `{"machine_id":"PC-A","full_update":true,"system_info":{"cpu_usage":99,"current_user":"intruder"}}`},
		{"POST", "/api/client/commands", `{"machine_id":"PC-A","heartbeat":{"cpu_usage":99}}`},
		{"POST", "/api/client/command", `{"machine_id":"PC-A"}`},
		{"GET", "/api/client/commands?machine_id=PC-A&timeout=0", ""},
		{"POST", "/api/client/shutdown", `{"machine_id":"PC-A"}`},
		{"POST", "/api/client/offline", `{"machine_id":"PC-A"}`},
	}
	tokens := []struct{ name, header string }{
		{"no token", ""},
		{"another PC's token", "Bearer " + pcB.Token},
		{"a made-up token", "Bearer " + strings.Repeat("ab", 32)},
		{"not a bearer", "Basic " + pcA.Token},
	}
	for _, c := range calls {
		for _, tok := range tokens {
			t.Run(c.method+" "+c.path+" "+tok.name, func(t *testing.T) {
				var body any
				if c.body != "" {
					body = c.body
				}
				var res response
				if tok.header == "" {
					res = ts.do(nil, c.method, c.path, body)
				} else {
					res = ts.do(nil, c.method, c.path, body, "Authorization", tok.header)
				}
				checkEnvelope(t, res, 401, "INVALID_AGENT_TOKEN")
			})
		}
	}
	// None of that reached PC A.
	detail := a.do("GET", "/api/admin/pc/"+itoa(pcA.PCID), nil).must(t, 200)
	if detail.get("pc.is_online") != false || detail.get("pc.cpu_usage") != nil || detail.get("pc.current_user") != nil {
		t.Fatalf("refused calls changed PC A: %s", detail.Raw)
	}
	if h := items(t, a.do("GET", "/api/admin/pc/"+itoa(pcA.PCID)+"/history", nil).must(t, 200), "history"); len(h) != 0 {
		t.Fatalf("refused calls recorded outages: %v", h)
	}

	// With its own token, A works; its command's result is bound to it.
	id := a.do("POST", "/api/admin/pc/"+itoa(pcA.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	if got := pcA.poll(nil).must(t, 200).num("data.command.id"); got != id {
		t.Fatalf("A's own poll got %d, want %d", got, id)
	}
	result := "/api/client/commands/" + itoa(id) + "/result"
	body := `{"status":"success","output":"forged"}`
	checkEnvelope(t, ts.do(nil, "POST", result, body), 401, "INVALID_AGENT_TOKEN")
	checkEnvelope(t, ts.do(nil, "POST", result, body, "Authorization", "Bearer nonsense"), 401, "INVALID_AGENT_TOKEN")
	checkEnvelope(t, pcB.do("POST", result, body), 403, "FORBIDDEN")
	if c := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200); c.get("command.status") != "executing" || c.get("command.output") != "" {
		t.Fatalf("a refused result changed the command: %s", c.Raw)
	}
	pcA.do("POST", result, `{"status":"success","output":"LAB-A"}`).must(t, 200)
	if c := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200); c.get("command.status") != "completed" || c.get("command.output") != "LAB-A" {
		t.Fatalf("A's result: %s", c.Raw)
	}
	// B's old token died when B registered again with it.
	old := pcB.Token
	pcB2 := ts.registerWith(map[string]any{"machine_id": "PC-B", "hostname": "LAB-PC-B", "mac_address": "A1:B2:C3:D4:E5:F6"},
		"Authorization", "Bearer "+old)
	checkEnvelope(t, ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"PC-B"}`, "Authorization", "Bearer "+old), 401, "INVALID_AGENT_TOKEN")
	pcB2.poll(nil).must(t, 200)
}

func TestResultBoundToPCWithLegacyClients(t *testing.T) {
	ts := newTestServer(t) // LegacyClients on
	a := ts.admin()
	pin := ts.pin(a, "multi")
	pcA, pcB := ts.register(pin, "PC-A"), ts.register(pin, "PC-B")
	id := a.do("POST", "/api/admin/pc/"+itoa(pcA.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	pcA.poll(nil).must(t, 200)
	result := "/api/client/commands/" + itoa(id) + "/result"
	checkEnvelope(t, pcB.do("POST", result, `{"status":"success","output":"forged"}`), 403, "FORBIDDEN")
	checkEnvelope(t, ts.do(nil, "POST", result, `{"status":"success","output":"forged"}`, "Authorization", "Bearer nonsense"), 401, "INVALID_AGENT_TOKEN")
	// A uses its token: a tokenless result for its command is refused.
	checkEnvelope(t, ts.do(nil, "POST", result, `{"status":"success","output":"forged"}`), 401, "INVALID_AGENT_TOKEN")
	pcA.do("POST", result, `{"status":"success","output":"real"}`).must(t, 200)
	// A tokenless (published) client is still served, from the address its command went to.
	pcC := ts.register(pin, "PC-C")
	idC := a.do("POST", "/api/admin/pc/"+itoa(pcC.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"PC-C"}`).must(t, 200)
	ts.do(nil, "POST", "/api/client/commands/"+itoa(idC)+"/result", `{"status":"success","output":"legacy"}`).must(t, 200)
}

func TestHostileStringsRoundTrip(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	machine := `M'1"; DROP TABLE pcs;--`
	want := map[string]any{
		"machine_id":  machine,
		"hostname":    `<script>alert(1)</script>`,
		"mac_address": "00:00:5E:00:53:01",
		"ip_address":  "2001:db8::1",
	}
	specs := map[string]any{
		"cpu_model":  "Intel\t\n\u202e <b>bold</b>",
		"os_edition": `Robert'); DROP TABLE students;--`,
		"os_version": `%s %d %x {{.}} ${jndi:ldap://x}`,
	}
	body := map[string]any{"pin": pin, "cpu_cores": 4}
	for k, v := range want {
		body[k] = v
	}
	for k, v := range specs {
		body[k] = v
	}
	res := ts.do(nil, "POST", "/api/client/register", body).must(t, 200)
	id := res.num("pc_id")
	user := "O'Brien \"the\" \t 학생"
	procs := []any{`<img src=x onerror=alert(1)>`, `a"b`, `c'd`, `\\server\share`, "日本語.exe", ""}
	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": machine, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 1.0, "current_user": user, "processes": procs}}).must(t, 200)
	room := `Lab 'A' "<b>" ; --`
	a.do("POST", "/api/admin/rooms", map[string]any{"name": room, "rows": 2, "cols": 2}).must(t, 200)
	a.do("PUT", "/api/admin/pc/"+itoa(id)+"/seat", map[string]any{"room": room, "row": 1, "col": 1}).must(t, 200)

	check := func(t *testing.T, pc map[string]any) {
		t.Helper()
		for k, v := range want {
			if pc[k] != v {
				t.Errorf("%s: %q, want %q", k, pc[k], v)
			}
		}
		if pc["current_user"] != user || pc["room_name"] != room {
			t.Errorf("current_user %q room %q", pc["current_user"], pc["room_name"])
		}
	}
	t.Run("detail", func(t *testing.T) {
		res := a.do("GET", "/api/admin/pc/"+itoa(id), nil).must(t, 200)
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("Content-Type %q", res.Header.Get("Content-Type"))
		}
		pc := res.get("pc").(map[string]any)
		check(t, pc)
		if !reflect.DeepEqual(pc["processes"], procs) {
			t.Errorf("processes %q, want %q", pc["processes"], procs)
		}
		for k, v := range specs {
			if got := res.get("pc.specs." + k); got != v {
				t.Errorf("specs.%s: %q, want %q", k, got, v)
			}
		}
	})
	t.Run("list filtered by the hostile room", func(t *testing.T) {
		res := a.do("GET", "/api/admin/pcs?room="+url.QueryEscape(room), nil).must(t, 200)
		pcs := items(t, res, "pcs")
		if len(pcs) != 1 {
			t.Fatalf("PCs in %q: %s", room, res.Raw)
		}
		check(t, pcs[0])
		if rs := items(t, a.do("GET", "/api/admin/rooms", nil).must(t, 200), "rooms"); len(rs) != 1 || rs[0]["name"] != room {
			t.Fatalf("rooms %v", rs)
		}
	})
	t.Run("a backslash before u0000 is not a NUL", func(t *testing.T) {
		// JSON "C:\\u0000" is the text C:\u0000: no NUL in it, so it must be taken as sent.
		cmd := `type C:\u0000\notes.txt`
		res := a.do("POST", "/api/admin/pc/"+itoa(id)+"/execute", map[string]any{"command": cmd})
		if res.Status != 200 {
			t.Fatalf("a command with a literal backslash-u0000 was refused: %d %s", res.Status, res.Raw)
		}
		got := a.do("GET", "/api/admin/command/"+itoa(res.num("command_id")), nil).must(t, 200)
		if got.get("command.parameters.command") != cmd {
			t.Fatalf("stored as %s", got.Raw)
		}
		a.do("DELETE", "/api/admin/pc/"+itoa(id)+"/commands/pending", nil).must(t, 200)
	})
	t.Run("the agent with the hostile machine_id still polls", func(t *testing.T) {
		cmd := a.do("POST", "/api/admin/pc/"+itoa(id)+"/execute", map[string]any{"command": `echo "'; DROP TABLE x; --" & <tag>`}).must(t, 200).num("command_id")
		res := ts.do(nil, "POST", "/api/client/commands", map[string]any{"machine_id": machine}).must(t, 200)
		if res.num("data.command.id") != cmd || res.get("data.command.parameters.command") != `echo "'; DROP TABLE x; --" & <tag>` {
			t.Fatalf("poll: %s", res.Raw)
		}
		out := "<script>\x00</script>"
		// NUL is refused; everything else in the output is kept as sent.
		checkEnvelope(t, ts.do(nil, "POST", "/api/client/commands/"+itoa(cmd)+"/result", map[string]any{"status": "success", "output": out}), 400, "INVALID_FIELD")
		out = "<script>\x07'\"</script>\r\n"
		ts.do(nil, "POST", "/api/client/commands/"+itoa(cmd)+"/result", map[string]any{"status": "error", "output": out, "error_message": out}).must(t, 200)
		c := a.do("GET", "/api/admin/command/"+itoa(cmd), nil).must(t, 200)
		if c.get("command.output") != out || c.get("command.error_message") != out {
			t.Fatalf("result: %s", c.Raw)
		}
	})
}

// The agent's own URLs never sit behind the admin login: an agent has no session.
func TestAgentURLsNeedNoSession(t *testing.T) {
	ts := newTestServer(t)
	res := ts.do(nil, "GET", "/api/client/version", nil).must(t, 200)
	download, _ := res.get("download_url").(string)
	if !strings.HasPrefix(download, ts.URL+"/") {
		t.Fatalf("download_url %q is not on this server", download)
	}
	res = ts.do(nil, "GET", strings.TrimPrefix(download, ts.URL), nil)
	if res.Status == 302 || res.Status == 401 || res.Status == 403 {
		t.Fatalf("GET %s (the version answer's download_url) without a session: %d to %q; an agent cannot log in",
			download, res.Status, res.Header.Get("Location"))
	}
}

// A handler that panics answers 500 (in the envelope, for the API) and logs the panic with the
// stack of its own goroutine; the server goes on serving.
func TestPanicIsAnswered(t *testing.T) {
	ts := newTestServer(t)
	e := handlers.EchoOf(ts.srv.Config.Handler)
	// A method the API's path does not have: the route answers as the API does.
	e.Add("PATCH", "/api/admin/pcs", func(echo.Context) error { panic("boom in a handler") })
	e.GET("/boom", func(echo.Context) error { panic("boom in a page") })

	checkEnvelope(t, ts.do(nil, "PATCH", "/api/admin/pcs", nil), 500, "INTERNAL")
	if res := ts.do(nil, "GET", "/boom", nil); res.Status != 500 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("a page's panic: %d %q", res.Status, res.Header.Get("Content-Type"))
	}
	logs := ts.logs.String()
	if n := strings.Count(logs, `msg=panic path=/api/admin/pcs panic="boom in a handler" stack=`); n != 1 {
		t.Errorf("the panic was logged with its stack %d times:\n%s", n, logs)
	}
	if !strings.Contains(logs, "security_test.go") || strings.Contains(logs, "goroutine 1 [") {
		t.Errorf("the log should carry the panicking goroutine's stack, and only it:\n%s", logs)
	}
	ts.do(nil, "GET", "/healthz", nil).must(t, 200)
}
