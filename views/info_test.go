package views_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/views"
)

const buildSHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func agentsView(role string) views.AgentsView {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return views.AgentsView{
		Page:   views.Page{Title: hostile, User: hostile, Role: role, CSRF: "tok", Nav: "agents", Path: "/agents"},
		Notice: hostile,
		Builds: []views.BuildRow{
			{ID: 3, Version: "1.3.0", OS: "windows", Arch: "amd64", SHA256: buildSHA, Size: 9_856_000, Changelog: hostile + "\nline 2",
				CreatedBy: hostile, CreatedAt: at, DownloadURL: "/download/builds/3/wcms-agent.exe", Newest: true},
			{ID: 2, Version: hostile, OS: "windows", Arch: "amd64", SHA256: "ff" + buildSHA[2:], Size: 512,
				CreatedBy: "agent-dir", CreatedAt: at, DownloadURL: "/download/builds/2/wcms-agent.exe"},
		},
	}
}

func TestAgentsPage(t *testing.T) {
	doc := render(t, views.AgentsPage(agentsView("admin")))
	checkCSP(t, doc)
	if got := text(byTestID(t, doc, "agents-notice")); got != hostile {
		t.Errorf("notice %q, want the text itself", got)
	}
	rows := byTestIDAll(doc, "build")
	if len(rows) != 2 {
		t.Fatalf("%d build rows, want 2", len(rows))
	}
	first, second := rows[0], rows[1]
	if attr(first, "id") != "build-3" || attr(first, "data-build-id") != "3" {
		t.Errorf("first row id %q data-build-id %q", attr(first, "id"), attr(first, "data-build-id"))
	}
	if len(byTestIDAll(first, "build-newest")) != 1 || len(byTestIDAll(second, "build-newest")) != 0 {
		t.Error("the newest badge is not on the newest build alone")
	}
	if got := text(byTestIDAll(second, "build-version")[0]); got != hostile {
		t.Errorf("version shown as %q", got)
	}
	shaCode := byTestIDAll(first, "build-sha")[0]
	if text(shaCode) != buildSHA[:12] || attr(shaCode, "title") != buildSHA {
		t.Errorf("sha shown as %q, title %q: want the start, and the whole in the title", text(shaCode), attr(shaCode, "title"))
	}
	if got := attr(byTestIDAll(first, "build-copy")[0], "data-copy"); got != buildSHA {
		t.Errorf("copy button copies %q", got)
	}
	if got := text(byTestIDAll(first, "build-size")[0]); got != "9.4 MiB" {
		t.Errorf("size %q, want 9.4 MiB", got)
	}
	if got := text(byTestIDAll(second, "build-size")[0]); got != "512 B" {
		t.Errorf("size %q, want 512 B", got)
	}
	if got := text(byTestIDAll(first, "build-changelog")[0]); got != hostile+" line 2" {
		t.Errorf("changelog %q", got)
	}
	if got := text(byTestIDAll(first, "build-created-by")[0]); got != hostile {
		t.Errorf("created by %q", got)
	}
	if got := attr(byTestIDAll(first, "build-created-at")[0], "datetime"); got != "2026-03-02T09:00:00Z" {
		t.Errorf("created at datetime %q", got)
	}
	if got := attr(byTestIDAll(first, "build-download")[0], "href"); got != "/download/builds/3/wcms-agent.exe" {
		t.Errorf("download link %q", got)
	}

	del := byTestIDAll(first, "build-delete")
	if len(del) != 1 || attr(del[0], "hx-delete") != "/agents/3" || attr(del[0], "hx-target") != "#agents-body" ||
		!strings.Contains(attr(del[0], "hx-confirm"), "1.3.0") {
		t.Fatalf("delete button: want hx-delete=/agents/3 targeting #agents-body with a confirmation naming the version")
	}
	// The hostile version ends up in the confirmation as text of an attribute, never as markup.
	if got := attr(byTestIDAll(second, "build-delete")[0], "hx-confirm"); !strings.Contains(got, hostile) {
		t.Errorf("confirmation %q does not name the version", got)
	}

	form := byTestID(t, doc, "upload-form")
	if attr(form, "hx-post") != "/agents" || attr(form, "hx-encoding") != "multipart/form-data" || attr(form, "hx-target") != "#agents-body" {
		t.Errorf("upload form: hx-post %q hx-encoding %q hx-target %q", attr(form, "hx-post"), attr(form, "hx-encoding"), attr(form, "hx-target"))
	}
	if file := inputNamed(t, form, "file"); attr(file, "type") != "file" {
		t.Errorf("file input type %q", attr(file, "type"))
	}
	if ta := byTestID(t, form, "upload-changelog"); ta.DataAtom != atom.Textarea || attr(ta, "name") != "changelog" {
		t.Error("no changelog textarea")
	}
}

func TestAgentsPageRoles(t *testing.T) {
	for _, role := range []string{"viewer", "operator"} {
		t.Run(role, func(t *testing.T) {
			doc := render(t, views.AgentsPage(agentsView(role)))
			if hasTestID(doc, "upload-form") || hasTestID(doc, "build-delete") {
				t.Errorf("a %s sees the upload form or delete buttons", role)
			}
			if n := len(byTestIDAll(doc, "build-download")); n != 2 {
				t.Errorf("a %s sees %d download links, want 2", role, n)
			}
		})
	}
	v := agentsView("viewer")
	v.Builds, v.Notice = nil, ""
	doc := render(t, views.AgentsBody(v))
	byTestID(t, doc, "builds-empty")
	if hasTestID(doc, "agents-notice") {
		t.Error("an empty notice is shown")
	}
	if body := byTestID(t, doc, "agents-body"); attr(body, "id") != "agents-body" {
		t.Error("the body fragment has no id to swap")
	}
}

func TestStatusNumbers(t *testing.T) {
	st := views.ServerStatus{Version: hostile, Uptime: 26*time.Hour + 3*time.Minute, PCs: 40, Online: 31, Offline: 9,
		PollsPerSecond: 15.46, PollWindow: 5 * time.Second, Pending: 3, Subscribers: 2, DatabaseBytes: 3 << 20,
		LegacyClients: true, Builds: 4}
	tests := []struct {
		name string
		ctx  context.Context
		edit func(*views.ServerStatus)
		want map[string]string // data-testid → text
	}{
		{"korean", context.Background(), func(*views.ServerStatus) {}, map[string]string{
			"stat-version-value": hostile, "stat-uptime-value": "1일 2시간", "stat-pcs-value": "40",
			"stat-online-value": "31", "stat-offline-value": "9", "stat-polls-value": "15.5 최근 5초",
			"stat-pending-value": "3", "stat-subscribers-value": "2", "stat-database-value": "3.0 MiB",
			"stat-builds-value": "4", "stat-legacy-value": "허용", "stat-legacy-flag": "-legacy-clients=true",
		}},
		{"English, refused, not measured yet", inEnglish, func(s *views.ServerStatus) {
			s.LegacyClients, s.PollWindow, s.Uptime = false, 0, 90*time.Second
		}, map[string]string{
			"stat-uptime-value": "1m 30s", "stat-polls-value": "measuring", "stat-legacy-value": "refused",
			"stat-legacy-flag": "-legacy-clients=false",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := st
			tt.edit(&s)
			doc := renderCtx(t, tt.ctx, views.StatusNumbers(s))
			for id, want := range tt.want {
				if got := text(byTestID(t, doc, id)); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			nums := byTestID(t, doc, "status-numbers")
			if attr(nums, "id") != "status-numbers" || attr(nums, "hx-get") != "/status" ||
				attr(nums, "hx-trigger") != "every 5s" || attr(nums, "hx-swap") != "outerHTML" {
				t.Errorf("numbers do not refresh themselves every 5 s: %v", nums.Attr)
			}
		})
	}
	doc := render(t, views.StatusPage(views.StatusView{Page: views.Page{Title: "x", Role: "viewer", Nav: "status"}, Status: st}))
	checkCSP(t, doc)
	byTestID(t, doc, "status-numbers")
}

func logView(tab string) views.LogView {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	code := 1
	return views.LogView{
		Page: views.Page{Title: "log", Role: "viewer", Nav: "log", Path: "/log"},
		Tab:  tab, Filter: views.LogFilter{Hostname: hostile, CreatedBy: hostile},
		Outages: []views.OutageRow{
			{PCID: 7, Hostname: hostile, Start: start, Duration: 50 * time.Hour, Reason: "network_error"},
			{PCID: 8, Hostname: "LAB-08", Start: start, End: &end, Duration: 90 * time.Second, Reason: "shutdown"},
		},
		Sends: []views.CommandSend{
			{Commands: []views.CommandView{{ID: 41, PCID: 7, Hostname: hostile, Type: "execute", Summary: `{"command":"` + hostile + `"}`,
				Status: "error", Output: hostile, ExitCode: &code, CreatedBy: hostile, CreatedAt: start}}},
			{Commands: []views.CommandView{{ID: 40, PCID: 8, Hostname: "LAB-08", Type: "shutdown", Summary: `{"delay":0}`, Status: "pending",
				CreatedBy: "admin", CreatedAt: start}}},
		},
		Older: views.LogURL(tab, views.LogFilter{Hostname: hostile}, 40), Newest: views.LogURL(tab, views.LogFilter{Hostname: hostile}, 0),
	}
}

func TestLogPageOutages(t *testing.T) {
	doc := render(t, views.LogPage(logView(views.LogOutages)))
	checkCSP(t, doc)
	if hasTestID(doc, "command-log") || hasTestID(doc, "log-filter-by") {
		t.Error("the outages tab shows the command audit or its account filter")
	}
	rows := byTestIDAll(doc, "outage")
	if len(rows) != 2 {
		t.Fatalf("%d outage rows, want 2", len(rows))
	}
	want := []struct{ pc, duration, reason string }{{hostile, "2일 2시간", "네트워크 끊김"}, {"LAB-08", "1분 30초", "종료"}}
	for i, w := range want {
		if got := text(byTestIDAll(rows[i], "outage-pc")[0]); got != w.pc {
			t.Errorf("row %d PC %q, want %q", i, got, w.pc)
		}
		if got := text(byTestIDAll(rows[i], "outage-duration")[0]); got != w.duration {
			t.Errorf("row %d duration %q, want %q", i, got, w.duration)
		}
		if got := text(byTestIDAll(rows[i], "outage-reason")[0]); got != w.reason {
			t.Errorf("row %d reason %q, want %q", i, got, w.reason)
		}
	}
	if len(byTestIDAll(rows[0], "outage-ongoing")) != 1 || len(byTestIDAll(rows[0], "outage-end")) != 0 {
		t.Error("an outage still going on is not shown as such")
	}
	if end := byTestIDAll(rows[1], "outage-end"); len(end) != 1 || attr(end[0], "datetime") != "2026-03-02T09:01:30Z" {
		t.Error("an ended outage does not show when it ended")
	}
	if got := attr(byTestIDAll(rows[0], "outage-pc")[0], "href"); got != "/pc/7" {
		t.Errorf("PC link %q", got)
	}

	// Tabs keep the PC filter; the current one is marked.
	outTab, cmdTab := byTestID(t, doc, "log-tab-outages"), byTestID(t, doc, "log-tab-commands")
	if len(findAll(outTab, func(n *html.Node) bool { return attr(n, "aria-current") == "page" })) != 1 {
		t.Error("the outages tab is not marked current")
	}
	if want := views.LogURL(views.LogCommands, views.LogFilter{Hostname: hostile, CreatedBy: hostile}, 0); attr(cmdTab, "href") != want || attr(cmdTab, "hx-get") != want {
		t.Errorf("commands tab links %q, want %q", attr(cmdTab, "href"), want)
	}
	form := byTestID(t, doc, "log-filter")
	if attr(form, "hx-get") != "/log" || attr(form, "hx-target") != "#log-body" || strings.ToLower(attr(form, "method")) != "get" {
		t.Error("the filter form does not fetch the log body")
	}
	if attr(inputNamed(t, form, "tab"), "value") != views.LogOutages || attr(inputNamed(t, form, "pc"), "value") != hostile {
		t.Error("the filter form does not keep the tab and the PC filter")
	}
	older := byTestID(t, doc, "log-older")
	if attr(older, "href") != "/log?before=40&pc=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&tab=outages" ||
		attr(older, "hx-target") != "#log-body" || attr(older, "hx-push-url") != "true" {
		t.Errorf("older link: href %q", attr(older, "href"))
	}
	byTestID(t, doc, "log-newest")
	byTestID(t, doc, "log-filter-clear")
}

func TestLogPageCommands(t *testing.T) {
	doc := renderCtx(t, inEnglish, views.LogPage(logView(views.LogCommands)))
	checkCSP(t, doc)
	if hasTestID(doc, "outages") {
		t.Error("the commands tab shows outages")
	}
	live := byTestID(t, doc, "command-log")
	if attr(live, "hx-ext") != "sse" || attr(live, "sse-connect") != "/stream" {
		t.Errorf("command log: hx-ext %q sse-connect %q", attr(live, "hx-ext"), attr(live, "sse-connect"))
	}
	rows := byTestIDAll(doc, "audit")
	if len(rows) != 2 {
		t.Fatalf("%d audit rows, want 2", len(rows))
	}
	first := rows[0]
	for id, want := range map[string]string{"audit-by": hostile, "audit-pc": hostile, "audit-type": "Run command",
		"audit-params": "Command: “" + hostile + "”", "command-output": hostile, "command-exit": "exit 1"} {
		if got := text(byTestIDAll(first, id)[0]); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	for i, id := range []string{"cmd-41", "cmd-40"} {
		cell := byTestIDAll(rows[i], "command-live")
		if len(cell) != 1 || attr(cell[0], "id") != id {
			t.Errorf("row %d has no live cell listening to %s", i, id)
		}
	}
	if got := attr(byTestIDAll(rows[1], "command-cell")[0], "data-status"); got != "pending" {
		t.Errorf("second command status %q", got)
	}
	if got := attr(byTestID(t, doc, "log-filter-by"), "value"); got != hostile {
		t.Errorf("account filter %q", got)
	}

	// With no entries and no other page, the body says so and links nowhere.
	v := logView(views.LogCommands)
	v.Sends, v.Older, v.Newest, v.Filter = nil, "", "", views.LogFilter{}
	body := render(t, views.LogBody(v))
	byTestID(t, body, "log-empty")
	for _, id := range []string{"log-older", "log-newest", "log-filter-clear"} {
		if hasTestID(body, id) {
			t.Errorf("an empty first page shows %s", id)
		}
	}
}

// The pages render inside the signed-in frame, with their section marked in the navigation.
func TestInfoPagesInShell(t *testing.T) {
	pages := map[string]templ.Component{
		"agents": views.AgentsPage(agentsView("viewer")),
		"status": views.StatusPage(views.StatusView{Page: views.Page{Role: "viewer", Nav: "status"}}),
		"log":    views.LogPage(logView(views.LogOutages)),
	}
	for nav, page := range pages {
		t.Run(nav, func(t *testing.T) {
			doc := render(t, page)
			byTestID(t, doc, "topbar")
			if attr(byTestID(t, doc, "nav-"+nav), "aria-current") != "page" {
				t.Errorf("nav-%s is not marked current", nav)
			}
		})
	}
}
