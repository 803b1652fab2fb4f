package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wcms-lab/wcms/handlers"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

func TestInfoPagesByRole(t *testing.T) {
	ts := newTestServer(t)
	owner := ts.admin()
	clients := map[string]*admin{models.RoleAdmin: owner,
		models.RoleOperator: ts.account(owner, "oper", models.RoleOperator),
		models.RoleViewer:   ts.account(owner, "watcher", models.RoleViewer)}
	pages := []struct{ path, nav, body string }{
		{"/agents", "agents", "agents-body"},
		{"/status", "status", "status-numbers"},
		{"/log", "log", "log-body"},
		{"/log?tab=commands", "log", "log-body"},
	}
	for role, a := range clients {
		for _, p := range pages {
			t.Run(role+" "+p.path, func(t *testing.T) {
				full := a.do("GET", p.path, nil).must(t, 200)
				doc := htmlDoc(t, full)
				if isFragment(full) || attr(byTestID(t, doc, "nav-"+p.nav), "aria-current") != "page" {
					t.Fatalf("GET %s is not a whole page with its section current", p.path)
				}
				byTestID(t, doc, p.body)
				if full.Header.Get("Vary") != "HX-Request" {
					t.Errorf("Vary %q: a cache could serve the fragment for the page", full.Header.Get("Vary"))
				}
				if got := len(byTestIDAll(doc, "upload-form")); got != 0 && role != models.RoleAdmin {
					t.Errorf("a %s sees the upload form", role)
				}

				frag := a.htmx("GET", p.path).must(t, 200)
				fdoc := htmlDoc(t, frag)
				if !isFragment(frag) || len(byTestIDAll(fdoc, "topbar")) != 0 {
					t.Fatalf("htmx GET %s is not a fragment: %.200s", p.path, frag.Raw)
				}
				if root := byTestID(t, fdoc, p.body); attr(root, "id") == "" {
					t.Errorf("fragment %s has no id to swap", p.body)
				}
			})
		}
	}
	t.Run("signed out", func(t *testing.T) {
		for _, p := range pages {
			if r := ts.do(nil, "GET", p.path, nil); r.Status != http.StatusFound || r.Header.Get("Location") != "/login" {
				t.Errorf("GET %s signed out: %d to %q", p.path, r.Status, r.Header.Get("Location"))
			}
			if r := ts.do(nil, "GET", p.path, nil, "HX-Request", "true"); r.Status != http.StatusUnauthorized || r.Header.Get("HX-Redirect") != "/login" {
				t.Errorf("htmx GET %s signed out: %d, HX-Redirect %q", p.path, r.Status, r.Header.Get("HX-Redirect"))
			}
		}
	})
}

// uploadPage posts a build to the agents page as its form does (htmx, multipart).
func uploadPage(a *admin, content []byte, changelog string, header ...string) response {
	a.ts.t.Helper()
	body, ctype := multipartBody(a.ts.t, content, changelog)
	return a.ts.do(a.client, "POST", "/agents", body, append([]string{"Content-Type", ctype}, header...)...)
}

// storedBuilds is what the store has registered, as "version os/arch".
func storedBuilds(t testing.TB, ts *testServer) []string {
	t.Helper()
	bs, err := ts.store.ListAgentBuilds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		out = append(out, b.Version+" "+b.OS+"/"+b.Arch)
	}
	return out
}

func TestAgentsPageUploadAndDelete(t *testing.T) {
	ts := newTestServer(t)
	owner := ts.admin()
	oper, viewer := ts.account(owner, "oper", models.RoleOperator), ts.account(owner, "watcher", models.RoleViewer)
	// Stripped (-s -w), the stand-in stays under the 2 MiB body cap of page requests.
	win := readFile(t, standinWith(t, "windows", "-ldflags", "-s -w -X main.version=2.0.1"))
	withCSRF := func(a *admin) []string { return []string{handlers.CSRFHeader, a.csrf, "HX-Request", "true"} }
	const hostileLog = `<img src=x onerror=alert(1)>`

	refused := []struct {
		name    string
		send    func() response
		status  int
		message string
	}{
		{"viewer", func() response { return uploadPage(viewer, win, "", withCSRF(viewer)...) }, 403, "관리자 역할이 있어야"},
		{"operator", func() response { return uploadPage(oper, win, "", withCSRF(oper)...) }, 403, "관리자 역할이 있어야"},
		{"no CSRF token", func() response { return uploadPage(owner, win, "", "HX-Request", "true") }, 403, "보안 토큰이 맞지 않습니다"},
		{"not a Go binary", func() response { return uploadPage(owner, []byte("MZ not really"), "", withCSRF(owner)...) }, 400, "Go 프로그램이 아닙니다"},
		{"no file", func() response { return uploadPage(owner, nil, "notes", withCSRF(owner)...) }, 400, "wcms-agent 실행 파일을 고르세요"},
		{"not multipart", func() response { return owner.htmx("POST", "/agents") }, 400, "multipart/form-data"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			admRefused(t, tt.send(), tt.status, tt.message)
			if got := storedBuilds(t, ts); len(got) != 0 {
				t.Fatalf("a refused upload stored %v", got)
			}
			if files := ts.buildFiles(); len(files) != 0 {
				t.Fatalf("a refused upload left files %v", files)
			}
		})
	}

	var id string
	t.Run("upload", func(t *testing.T) {
		r := uploadPage(owner, win, hostileLog, withCSRF(owner)...).must(t, 200)
		doc := htmlDoc(t, r)
		if !isFragment(r) {
			t.Fatal("an htmx upload answered with a whole page")
		}
		if got := textOf(byTestID(t, doc, "agents-notice")); !strings.Contains(got, "2.0.1") || !strings.Contains(got, "windows/amd64") {
			t.Errorf("notice %q does not name the build", got)
		}
		row := byTestID(t, doc, "build")
		id = attr(row, "data-build-id")
		if got := textOf(byTestID(t, row, "build-changelog")); got != hostileLog {
			t.Errorf("changelog shown as %q", got)
		}
		if len(byTestIDAll(doc, "img")) != 0 || strings.Contains(r.Raw, "<img") {
			t.Error("the changelog became markup")
		}
		if got := textOf(byTestID(t, row, "build-created-by")); got != "admin" {
			t.Errorf("created by %q", got)
		}
		if got := attr(byTestID(t, row, "build-download"), "href"); got != "/download/builds/"+id+"/wcms-agent.exe" {
			t.Errorf("download link %q", got)
		}
		if got := attr(byTestID(t, row, "build-sha"), "title"); got != sha256Hex(win) {
			t.Errorf("sha title %q, want the file's hash", got)
		}
		if got := storedBuilds(t, ts); !slices.Equal(got, []string{"2.0.1 windows/amd64"}) {
			t.Fatalf("stored %v", got)
		}
		// The page's download link serves the very file.
		dl := ts.do(nil, "GET", "/download/builds/"+id+"/wcms-agent.exe", nil).must(t, 200)
		if !bytes.Equal([]byte(dl.Raw), win) {
			t.Error("the download link serves another file")
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		admRefused(t, uploadPage(owner, win, "", withCSRF(owner)...), 409, "이미 등록된 빌드입니다")
		if got := storedBuilds(t, ts); len(got) != 1 {
			t.Fatalf("stored %v", got)
		}
	})

	deletes := []struct {
		name    string
		send    func() response
		status  int
		message string
	}{
		{"viewer", func() response { return viewer.htmx("DELETE", "/agents/"+id) }, 403, "관리자 역할이 있어야"},
		{"operator", func() response { return oper.htmx("DELETE", "/agents/"+id) }, 403, "관리자 역할이 있어야"},
		{"no CSRF token", func() response {
			return ts.do(owner.client, "DELETE", "/agents/"+id, nil, "HX-Request", "true")
		}, 403, "보안 토큰이 맞지 않습니다"},
		{"bad id", func() response { return owner.htmx("DELETE", "/agents/abc") }, 400, "양의 정수여야"},
		{"unknown id", func() response { return owner.htmx("DELETE", "/agents/99999") }, 404, "지워졌을 수 있습니다"},
	}
	for _, tt := range deletes {
		t.Run("delete refused: "+tt.name, func(t *testing.T) {
			admRefused(t, tt.send(), tt.status, tt.message)
			if got := storedBuilds(t, ts); len(got) != 1 || len(ts.buildFiles()) != 1 {
				t.Fatalf("a refused delete changed the builds: %v, files %v", got, ts.buildFiles())
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		r := owner.htmx("DELETE", "/agents/"+id).must(t, 200)
		doc := htmlDoc(t, r)
		if !isFragment(r) || len(byTestIDAll(doc, "build")) != 0 {
			t.Fatalf("after delete: %s", r.Raw)
		}
		byTestID(t, doc, "builds-empty")
		if got := textOf(byTestID(t, doc, "agents-notice")); !strings.Contains(got, "2.0.1") {
			t.Errorf("notice %q", got)
		}
		if got := storedBuilds(t, ts); len(got) != 0 || len(ts.buildFiles()) != 0 {
			t.Fatalf("after delete: builds %v, files %v", got, ts.buildFiles())
		}
	})
	t.Run("upload without htmx", func(t *testing.T) {
		r := uploadPage(owner, win, "", handlers.CSRFHeader, owner.csrf).must(t, 200)
		if isFragment(r) {
			t.Fatal("a plain upload answered with a fragment")
		}
		byTestID(t, htmlDoc(t, r), "build")
	})
}

// addStoredBuild registers a build straight in the store: the badge depends on versions only,
// so the file need not be a real agent.
func addStoredBuild(t testing.TB, ts *testServer, version, goos, arch string) int64 {
	t.Helper()
	sb, err := ts.builds.Stage(strings.NewReader(version + goos + arch))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Discard()
	b := &models.AgentBuild{Version: version, OS: goos, Arch: arch, CreatedBy: "test"}
	if err := ts.builds.Store(context.Background(), b, sb); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func TestAgentsPageNewestBadge(t *testing.T) {
	ts := newTestServer(t)
	a := ts.login("admin", testPassword)
	// 1.10.0 is newer than 1.9.9 though it sorts before it as text, and it was not added last.
	addStoredBuild(t, ts, "1.9.9", "windows", "amd64")
	newestWin := addStoredBuild(t, ts, "1.10.0", "windows", "amd64")
	addStoredBuild(t, ts, "1.2.0", "windows", "amd64")
	newestLinux := addStoredBuild(t, ts, "0.9.0", "linux", "amd64")

	doc := htmlDoc(t, a.do("GET", "/agents", nil).must(t, 200))
	var newest []string
	for _, row := range byTestIDAll(doc, "build") {
		if len(byTestIDAll(row, "build-newest")) == 1 {
			newest = append(newest, attr(row, "data-build-id"))
		}
	}
	want := []string{itoa(newestLinux), itoa(newestWin)} // the list is newest registered first
	if !slices.Equal(newest, want) {
		t.Fatalf("newest badges on builds %v, want %v", newest, want)
	}
	// The badge agrees with what the version endpoint hands out.
	v := ts.do(nil, "GET", "/api/client/version?os=windows&arch=amd64", nil).must(t, 200)
	if v.get("version") != "1.10.0" {
		t.Fatalf("the version endpoint hands out %v", v.get("version"))
	}
}

func TestStatusPage(t *testing.T) {
	for _, legacy := range []bool{true, false} {
		t.Run(fmt.Sprintf("legacy clients %v", legacy), func(t *testing.T) {
			ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = legacy })
			a := ts.admin()
			pin := ts.pin(a, models.PINMulti)
			one, two := ts.register(pin, "S1"), ts.register(pin, "S2")
			one.poll(nil).must(t, 200)
			a.do("POST", "/api/admin/pc/"+itoa(two.PCID)+"/command", map[string]any{"type": "message",
				"parameters": map[string]any{"message": "hello"}}).must(t, 200)
			addStoredBuild(t, ts, "1.0.0", "linux", "amd64")

			api := a.do("GET", "/api/admin/status", nil).must(t, 200)
			r := a.htmx("GET", "/status").must(t, 200)
			if !isFragment(r) {
				t.Fatal("htmx GET /status is not a fragment")
			}
			doc := htmlDoc(t, r)
			root := byTestID(t, doc, "status-numbers")
			if attr(root, "hx-trigger") != "every 5s" || attr(root, "hx-get") != "/status" {
				t.Errorf("the numbers do not refresh themselves: %v", root.Attr)
			}
			want := map[string]string{
				"stat-version-value": "test", "stat-pcs-value": fmt.Sprint(api.num("pcs")),
				"stat-online-value": fmt.Sprint(api.num("pcs_online")), "stat-offline-value": fmt.Sprint(api.num("pcs_offline")),
				"stat-pending-value": "1", "stat-builds-value": "1",
				"stat-subscribers-value": fmt.Sprint(api.num("event_subscribers")),
				"stat-legacy-flag":       fmt.Sprintf("-legacy-clients=%v", legacy),
			}
			for id, w := range want {
				if got := textOf(byTestID(t, doc, id)); got != w {
					t.Errorf("%s = %q, want %q", id, got, w)
				}
			}
			if api.num("pcs") != 2 || api.num("commands_pending") != 1 {
				t.Errorf("the fleet counts %d PCs, %d pending; want 2 and 1", api.num("pcs"), api.num("commands_pending"))
			}
			if got := attr(byTestID(t, doc, "stat-legacy"), "data-legacy"); got != fmt.Sprint(legacy) {
				t.Errorf("legacy shown as %q, want %v", got, legacy)
			}
			if got := textOf(byTestID(t, doc, "stat-database-value")); got == "" || strings.HasPrefix(got, "0 ") {
				t.Errorf("database size %q", got)
			}
			byTestID(t, doc, "stat-polls-value")
		})
	}
}

// auditTypes are the command types of the audit's rows, as stored.
func auditTypes(doc *html.Node) []string {
	var types []string
	for _, e := range byTestIDAll(doc, "audit-type") {
		types = append(types, attr(e, "data-type"))
	}
	return types
}

func TestLogPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	owner := ts.admin()
	oper := ts.account(owner, "oper", models.RoleOperator)
	viewer := ts.account(owner, "watcher", models.RoleViewer)
	pin := ts.pin(owner, models.PINMulti)
	m1, m2 := ts.register(pin, "M1"), ts.register(pin, "M2")

	// M1 was off for 90 s and is back; M2 went off later and still is.
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, step := range []error{
		ts.store.SetOffline(ctx, m1.PCID, t0, models.ReasonShutdown),
		ts.store.SetOnline(ctx, m1.PCID, t0.Add(90*time.Second)),
		ts.store.SetOffline(ctx, m2.PCID, t0.Add(10*time.Minute), models.ReasonNetworkError),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	const secret = "Secret-Pa55word!"
	send := func(a *admin, pc int64, typ string, params map[string]any) {
		a.do("POST", "/api/admin/pc/"+itoa(pc)+"/command", map[string]any{"type": typ, "parameters": params}).must(t, 200)
	}
	send(owner, m1.PCID, "execute", map[string]any{"command": "dir"})
	send(oper, m2.PCID, "create_user", map[string]any{"username": "student", "password": secret})
	send(oper, m1.PCID, "message", map[string]any{"message": "<b>hi</b>"})

	t.Run("outages", func(t *testing.T) {
		doc := htmlDoc(t, viewer.do("GET", "/log", nil).must(t, 200))
		if got := textsOf(doc, "outage-pc"); !slices.Equal(got, []string{"LAB-M2", "LAB-M1"}) {
			t.Fatalf("outages of %v, want LAB-M2 then LAB-M1", got)
		}
		rows := byTestIDAll(doc, "outage")
		if len(byTestIDAll(rows[0], "outage-ongoing")) != 1 || attr(byTestID(t, rows[0], "outage-reason"), "data-reason") != models.ReasonNetworkError {
			t.Error("M2's outage is not shown as ongoing, from a network error")
		}
		if got := textOf(byTestID(t, rows[1], "outage-duration")); got != "1분 30초" {
			t.Errorf("M1's outage lasted %q, want 1분 30초", got)
		}
		if got := attr(byTestID(t, rows[1], "outage-end"), "datetime"); got != t0.Add(90*time.Second).UTC().Format(time.RFC3339) {
			t.Errorf("M1 came back at %q", got)
		}
	})
	t.Run("commands", func(t *testing.T) {
		r := viewer.do("GET", "/log?tab=commands", nil).must(t, 200)
		if strings.Contains(r.Raw, secret) {
			t.Fatal("the command audit shows a password")
		}
		doc := htmlDoc(t, r)
		if got := auditTypes(doc); !slices.Equal(got, []string{"message", "create_user", "execute"}) {
			t.Fatalf("commands %v, want newest first", got)
		}
		if got := textsOf(doc, "audit-by"); !slices.Equal(got, []string{"oper", "oper", "admin"}) {
			t.Errorf("sent by %v", got)
		}
		if got := textsOf(doc, "audit-pc"); !slices.Equal(got, []string{"LAB-M1", "LAB-M2", "LAB-M1"}) {
			t.Errorf("PCs %v", got)
		}
		params := textsOf(doc, "audit-params")
		if params[1] != "사용자 이름: “student”" || params[0] != "메시지: “<b>hi</b>”, 표시 시간(초): 10" {
			t.Errorf("parameters %v", params)
		}
		if log := byTestID(t, doc, "command-log"); attr(log, "sse-connect") != "/stream" || attr(log, "hx-ext") != "sse" {
			t.Error("the command audit does not listen to the stream")
		}
		for _, cell := range byTestIDAll(doc, "command-live") {
			if attr(cell, "id") != "cmd-"+attr(cell, "data-command-id") {
				t.Errorf("live cell %v", cell.Attr)
			}
		}
		if got := textsOf(doc, "command-status"); !slices.Equal(got, []string{"대기", "대기", "대기"}) {
			t.Errorf("statuses %v", got)
		}
	})

	filters := []struct {
		query string
		types []string
	}{
		{"tab=commands&by=oper", []string{"message", "create_user"}},
		{"tab=commands&by=admin", []string{"execute"}},
		{"tab=commands&pc=lab-m2", []string{"create_user"}},
		{"tab=commands&pc=LAB-M1&by=oper", []string{"message"}},
		{"tab=commands&by=nobody", nil},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			r := viewer.htmx("GET", "/log?"+f.query).must(t, 200)
			if !isFragment(r) {
				t.Fatal("not a fragment")
			}
			doc := htmlDoc(t, r)
			if got := auditTypes(doc); !slices.Equal(got, f.types) {
				t.Errorf("commands %v, want %v", got, f.types)
			}
			if len(f.types) == 0 {
				byTestID(t, doc, "log-empty")
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		more := make([]models.Command, handlers.LogPageSize)
		for i := range more {
			more[i] = models.Command{PCID: m2.PCID, Type: wire.TypeMessage, Parameters: fmt.Sprintf(`{"message":"%d"}`, i),
				Priority: 5, Timeout: 600, CreatedBy: "bulk"}
		}
		if err := ts.store.EnqueueCommands(ctx, more, time.Now()); err != nil {
			t.Fatal(err)
		}
		first := htmlDoc(t, viewer.do("GET", "/log?tab=commands", nil).must(t, 200))
		if n := len(byTestIDAll(first, "audit")); n != handlers.LogPageSize {
			t.Fatalf("first page has %d commands, want %d", n, handlers.LogPageSize)
		}
		if len(byTestIDAll(first, "log-newest")) != 0 {
			t.Error("the first page links to the first page")
		}
		older := attr(byTestID(t, first, "log-older"), "hx-get")
		second := htmlDoc(t, viewer.htmx("GET", older).must(t, 200))
		if got := auditTypes(second); !slices.Equal(got, []string{"message", "create_user", "execute"}) {
			t.Fatalf("second page %v, want the 3 oldest", got)
		}
		if len(byTestIDAll(second, "log-older")) != 0 {
			t.Error("the last page links to an older one")
		}
		if got := attr(byTestID(t, second, "log-newest"), "href"); got != "/log?tab=commands" {
			t.Errorf("back to the newest: %q", got)
		}
	})

	bad := []struct{ query, message string }{
		{"tab=everything", "기록 종류는"},
		{"before=abc", "양의 정수여야"},
		{"tab=commands&before=0", "양의 정수여야"},
		{"before=-5", "양의 정수여야"},
	}
	for _, b := range bad {
		t.Run("bad "+b.query, func(t *testing.T) {
			admRefused(t, viewer.htmx("GET", "/log?"+b.query), 400, b.message)
			if r := viewer.do("GET", "/log?"+b.query, nil); r.Status != 400 || isFragment(r) || !strings.Contains(r.Raw, b.message) {
				t.Errorf("without htmx: %d %s", r.Status, r.Raw)
			}
		})
	}
}
