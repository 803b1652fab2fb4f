package handlers_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// pcLab is a server with an admin, an operator, a viewer and two PCs, the first with a hostile
// hostname and a full heartbeat behind it.
type pcLab struct {
	ts               *testServer
	admin, op, viewr *admin
	pc1, pc2         *agent
}

func newPCLab(t *testing.T, opts ...serverOption) *pcLab {
	t.Helper()
	ts := newTestServer(t, opts...)
	a := ts.admin()
	l := &pcLab{ts: ts, admin: a, op: ts.account(a, "op", "operator"), viewr: ts.account(a, "view", "viewer")}
	pin := ts.pin(a, "multi")
	l.pc1 = ts.registerWith(map[string]any{"machine_id": "m-1", "pin": pin, "hostname": hostile,
		"mac_address": "A1:B2:C3:D4:E5:01", "cpu_model": "Intel Core i5-9400", "cpu_cores": 6, "cpu_threads": 6, "ram_total": 16.0,
		"disk_info":  map[string]any{`C:\`: map[string]any{"total_gb": 237.0, "fstype": "NTFS"}},
		"os_edition": "Windows 10 Pro", "os_version": "10.0.19045"})
	l.pc2 = ts.register(pin, "m-2")
	l.pc2.poll(nil).must(t, 200) // both on: a shutdown is not queued for a PC that is off
	l.pc1.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "m-1", "full_update": true, "system_info": map[string]any{
		"cpu_usage": 33.0, "ram_used": 6.4, "ram_usage_percent": 40.0, "current_user": hostile, "uptime": 3700,
		"ip_address": "192.168.1.100", "processes": []string{"chrome.exe", "explorer.exe", "chrome.exe", hostile},
		"disk_usage": map[string]any{`C:\`: map[string]any{"used_gb": 100.0, "free_gb": 137.0, "percent": 42.2}}}}).must(t, 200)
	return l
}

// commands are the PC's stored commands, newest first.
func (l *pcLab) commands(t *testing.T, pc *agent) []models.Command {
	t.Helper()
	cs, err := l.ts.store.PCCommands(context.Background(), pc.PCID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// finish has the PC fetch its next command and report status with output.
func (l *pcLab) finish(t *testing.T, pc *agent, status, output string) int64 {
	t.Helper()
	res := pc.poll(nil).must(t, 200)
	id := res.num("data.command.id")
	if id == 0 {
		t.Fatalf("PC %d got no command: %s", pc.PCID, res.Raw)
	}
	pc.do("POST", "/api/client/commands/"+itoa(id)+"/result", map[string]any{"status": status, "output": output}).must(t, 200)
	return id
}

func TestPCPage(t *testing.T) {
	l := newPCLab(t)
	a, pc := l.admin, l.pc1
	a.do("POST", "/api/admin/pc/"+itoa(pc.PCID)+"/execute", map[string]any{"command": "whoami"}).must(t, 200)
	l.finish(t, pc, "error", hostile)
	a.do("POST", "/api/admin/pc/"+itoa(pc.PCID)+"/command", map[string]any{"type": "message", "parameters": map[string]any{"message": "hi"}}).must(t, 200)
	pc.do("POST", "/api/client/shutdown", map[string]any{"machine_id": pc.MachineID}).must(t, 200)
	path := "/pc/" + itoa(pc.PCID)

	t.Run("operator", func(t *testing.T) {
		r := l.op.form("GET", path, nil, false).must(t, 200)
		doc := htmlDoc(t, r)
		noInlineScript(t, doc)
		byTestID(t, doc, "topbar")
		if got := textOf(byTestID(t, doc, "pc-hostname")); got != hostile {
			t.Errorf("hostname %q", got)
		}
		if got := attr(byTestID(t, doc, "pc-detail"), "sse-connect"); got != "/stream?pc="+itoa(pc.PCID) {
			t.Errorf("sse-connect %q", got)
		}
		live := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "pc-"+itoa(pc.PCID)+"-live" })
		if len(live) != 1 || len(byTestIDAll(live[0], "tile-body")) != 1 {
			t.Fatal("no live tile body")
		}
		if got := textOf(byTestID(t, live[0], "tile-status")); got != "오프라인" {
			t.Errorf("after the agent's shutdown the PC shows %q", got)
		}
		for id, want := range map[string]string{"spec-cpu": "Intel Core i5-9400", "spec-os": "Windows 10 Pro 10.0.19045",
			"spec-mac": "A1:B2:C3:D4:E5:01", "spec-machine-id": "m-1", "ram-used": "6.4 GB", "ram-total": "16.0 GB",
			"spec-uptime": "1시간 1분", "pc-seat": "배치 안 됨"} {
			if got := textOf(byTestID(t, doc, id)); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		disk := byTestID(t, doc, "disk")
		if attr(disk, "data-mount") != `C:\` || textOf(byTestID(t, disk, "disk-usage")) != "100.0 GB / 237.0 GB (42%)" ||
			attr(byTestID(t, disk, "disk-bar"), "width") != "42.2%" {
			t.Errorf("disk shown as %q", textOf(disk))
		}
		var names []string
		for _, p := range byTestIDAll(doc, "process") {
			names = append(names, textOf(byTestID(t, p, "process-name")))
			var vals map[string]string
			if err := json.Unmarshal([]byte(attr(byTestID(t, p, "process-kill"), "hx-vals")), &vals); err != nil ||
				vals["process_name"] != names[len(names)-1] || vals["pc_ids"] != itoa(pc.PCID) {
				t.Errorf("kill button of %q sends %v (%v)", names[len(names)-1], vals, err)
			}
		}
		if want := []string{hostile, "chrome.exe", "explorer.exe"}; !slices.Equal(names, want) {
			t.Errorf("processes %q, want %q", names, want)
		}
		rows := byTestIDAll(doc, "history-row")
		if len(rows) != 2 || textOf(byTestID(t, rows[0], "history-type")) != "메시지" {
			t.Fatalf("%d history rows, newest first expected", len(rows))
		}
		cell := byTestID(t, rows[1], "command-cell")
		if attr(cell, "data-status") != wire.StatusError || textOf(byTestID(t, cell, "command-output")) != hostile {
			t.Errorf("failed command shows %q", textOf(cell))
		}
		outage := byTestID(t, doc, "outage")
		if attr(byTestID(t, outage, "outage-reason"), "data-reason") != models.ReasonShutdown || len(byTestIDAll(outage, "outage-duration")) != 1 {
			t.Errorf("outage shown as %q", textOf(outage))
		}
		byTestID(t, doc, "pc-delete")
		byTestID(t, doc, "command-panel")
	})

	t.Run("viewer", func(t *testing.T) {
		doc := htmlDoc(t, l.viewr.form("GET", path, nil, false).must(t, 200))
		if n := len(byTestIDAll(doc, "process-kill")) + len(byTestIDAll(doc, "pc-delete")) + len(byTestIDAll(doc, "command-panel")); n != 0 {
			t.Errorf("a viewer gets %d operator controls", n)
		}
		if n := len(byTestIDAll(doc, "process")); n != 3 {
			t.Errorf("a viewer sees %d processes, want 3", n)
		}
	})

	t.Run("htmx fragment", func(t *testing.T) {
		r := l.op.form("GET", path, nil, true).must(t, 200)
		doc := htmlDoc(t, r)
		if len(byTestIDAll(doc, "topbar")) != 0 || strings.Contains(r.Raw, "<html") {
			t.Error("htmx got the whole page")
		}
		byTestID(t, doc, "pc-detail")
		if r.Header.Get("Vary") != "HX-Request" {
			t.Errorf("Vary %q", r.Header.Get("Vary"))
		}
	})

	t.Run("unknown and bad ids", func(t *testing.T) {
		for path, status := range map[string]int{"/pc/99999": 404, "/pc/abc": 400} {
			r := l.viewr.form("GET", path, nil, false)
			if r.Status != status || textOf(byTestID(t, htmlDoc(t, r), "error-status")) != itoa(int64(status)) {
				t.Errorf("%s: %d %s", path, r.Status, r.Raw)
			}
		}
	})

	t.Run("signed out", func(t *testing.T) {
		r := l.ts.do(nil, "GET", path, nil)
		if r.Status != 302 || r.Header.Get("Location") != "/login" {
			t.Errorf("%d to %q", r.Status, r.Header.Get("Location"))
		}
	})
}

func TestPCPageDelete(t *testing.T) {
	l := newPCLab(t)
	path := "/pc/" + itoa(l.pc1.PCID)
	exists := func() bool {
		return l.admin.do("GET", "/api/admin/pc/"+itoa(l.pc1.PCID), nil).Status == 200
	}

	admRefused(t, l.viewr.form("DELETE", path, nil, true), 403, "운영자 역할이 있어야")
	r := l.ts.do(l.op.client, "DELETE", path, nil, "HX-Request", "true")
	if r.Status != 403 || !strings.Contains(r.Raw, "보안 토큰이 맞지 않습니다") {
		t.Errorf("without CSRF: %d %s", r.Status, r.Raw)
	}
	if !exists() {
		t.Fatal("a refused delete removed the PC")
	}

	r = l.op.form("DELETE", path, nil, true).must(t, 200)
	if r.Header.Get("HX-Redirect") != "/" {
		t.Errorf("HX-Redirect %q, want /", r.Header.Get("HX-Redirect"))
	}
	if exists() {
		t.Error("the PC is still there")
	}
	admRefused(t, l.op.form("DELETE", path, nil, true), 404, "지워졌을 수 있습니다")

	r = l.op.form("DELETE", "/pc/"+itoa(l.pc2.PCID), nil, false)
	if r.Status != 303 || r.Header.Get("Location") != "/" {
		t.Errorf("plain delete: %d to %q", r.Status, r.Header.Get("Location"))
	}
}

// pcRoom creates a room and seats the PCs in it, in a row.
func (l *pcLab) pcRoom(t *testing.T, name string, pcs ...*agent) {
	t.Helper()
	l.admin.do("POST", "/api/admin/rooms", map[string]any{"name": name, "rows": 1, "cols": len(pcs) + 1}).must(t, 200)
	for i, pc := range pcs {
		l.admin.do("PUT", "/api/admin/pc/"+itoa(pc.PCID)+"/seat", map[string]any{"room": name, "row": 1, "col": i + 1}).must(t, 200)
	}
}

func TestCommandFormPage(t *testing.T) {
	l := newPCLab(t)
	l.pcRoom(t, "3F Lab", l.pc1, l.pc2)
	l.admin.do("POST", "/api/admin/rooms", map[string]any{"name": "empty", "rows": 1, "cols": 1}).must(t, 200)
	both := "/commands/new?pc_ids=" + itoa(l.pc1.PCID) + "&pc_ids=" + itoa(l.pc2.PCID)

	t.Run("PCs, htmx", func(t *testing.T) {
		doc := htmlDoc(t, l.op.form("GET", both+"&type=execute", nil, true).must(t, 200))
		noInlineScript(t, doc)
		if len(byTestIDAll(doc, "topbar")) != 0 {
			t.Error("htmx got the whole page")
		}
		var hosts []string
		for _, n := range byTestIDAll(doc, "command-target") {
			hosts = append(hosts, textOf(n))
		}
		if !slices.Equal(hosts, []string{hostile, "LAB-m-2"}) {
			t.Errorf("targets %q", hosts)
		}
		form := byTestID(t, doc, "command-form")
		if attr(form, "data-type") != "execute" {
			t.Error("type not taken from ?type")
		}

		// Post what the browser would: the form's hx-vals and its fields.
		var vals map[string][]string
		if err := json.Unmarshal([]byte(attr(form, "hx-vals")), &vals); err != nil {
			t.Fatalf("hx-vals %q: %v", attr(form, "hx-vals"), err)
		}
		post := url.Values(vals)
		post.Set("type", "execute")
		post.Set("command", "hostname")
		byTestID(t, htmlDoc(t, l.op.form("POST", attr(form, "hx-post"), post, true).must(t, 200)), "command-results")
		for _, pc := range []*agent{l.pc1, l.pc2} {
			if cs := l.commands(t, pc); len(cs) != 1 || cs[0].Parameters != `{"command":"hostname"}` {
				t.Errorf("PC %d: %+v", pc.PCID, cs)
			}
		}
	})

	t.Run("room, full page", func(t *testing.T) {
		doc := htmlDoc(t, l.op.form("GET", "/commands/new?type=shutdown&room="+url.QueryEscape("3F Lab"), nil, false).must(t, 200))
		byTestID(t, doc, "topbar")
		if got := attr(byTestID(t, doc, "commands-page"), "sse-connect"); got != "/stream?room=3F+Lab" {
			t.Errorf("sse-connect %q", got)
		}
		if n := len(byTestIDAll(doc, "command-target")); n != 2 {
			t.Errorf("%d targets, want the room's 2", n)
		}
	})

	t.Run("processes of the one PC", func(t *testing.T) {
		doc := htmlDoc(t, l.op.form("GET", "/commands/new?type=kill_process&pc_ids="+itoa(l.pc1.PCID), nil, true).must(t, 200))
		var got []string
		for _, o := range findAll(byTestID(t, doc, "process-list"), func(n *html.Node) bool { return n.DataAtom == atom.Option }) {
			got = append(got, attr(o, "value"))
		}
		if !slices.Equal(got, []string{hostile, "chrome.exe", "explorer.exe"}) {
			t.Errorf("offered %q", got)
		}
		doc = htmlDoc(t, l.op.form("GET", both+"&type=kill_process", nil, true).must(t, 200))
		if len(byTestIDAll(doc, "process-list")) != 0 {
			t.Error("processes offered for two PCs")
		}
	})

	// The form asks for exactly the catalogue's parameters, so no field can drift.
	t.Run("fields follow the catalogue", func(t *testing.T) {
		for _, typ := range command.Types() {
			doc := htmlDoc(t, l.op.form("GET", both+"&type="+typ.Name, nil, true).must(t, 200))
			var got, want []string
			for _, n := range findAll(byTestID(t, doc, "command-fields"), func(n *html.Node) bool { return attr(n, "name") != "" }) {
				got = append(got, attr(n, "name"))
			}
			for _, p := range typ.Params {
				want = append(want, p.Name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: form fields %v, parameters %v", typ.Name, got, want)
			}
		}
	})

	for _, tt := range []struct {
		name, query string
		as          *admin
		status      int
		mentions    string
	}{
		{"viewer", both, l.viewr, 403, "운영자 역할이 있어야"},
		{"no PCs", "type=message", l.op, 400, "고른 PC가 없습니다"},
		{"empty room", "room=", l.op, 400, "고른 PC가 없습니다"},
		{"both", "pc_ids=1&room=3F+Lab", l.op, 400, "하나만 고르세요"},
		{"unknown type", "type=format_disk&pc_ids=" + itoa(l.pc1.PCID), l.op, 400, "format_disk"},
		{"bad id", "pc_ids=x", l.op, 400, "PC의 번호가 올바르지 않습니다"},
		{"unknown PC", "pc_ids=99999", l.op, 404, "PC 99999"},
		{"unknown room", "room=nowhere", l.op, 404, "nowhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.query
			if !strings.HasPrefix(path, "/") {
				path = "/commands/new?" + path
			}
			admRefused(t, tt.as.form("GET", path, nil, true), tt.status, tt.mentions)
		})
	}

	doc := htmlDoc(t, l.op.form("GET", "/commands/new?room=empty", nil, true).must(t, 200))
	if n := len(byTestIDAll(doc, "command-target")); n != 0 {
		t.Errorf("an empty room lists %d targets", n)
	}
}

// pcValues builds a form.
func pcValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestSendCommandsPage(t *testing.T) {
	l := newPCLab(t)
	id1, id2 := itoa(l.pc1.PCID), itoa(l.pc2.PCID)

	t.Run("bad input sends nothing", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			form     url.Values
			as       *admin
			status   int
			mentions string
		}{
			{"viewer", pcValues("pc_ids", id1, "type", "message", "message", "hi"), l.viewr, 403, "운영자 역할이 있어야"},
			{"no PCs", pcValues("type", "message", "message", "hi"), l.op, 400, "고른 PC가 없습니다"},
			{"unknown type", pcValues("pc_ids", id1, "type", "format_disk"), l.op, 400, "format_disk"},
			{"no type", pcValues("pc_ids", id1), l.op, 400, "명령 종류를 고르세요"},
			{"missing parameter", pcValues("pc_ids", id1, "type", "message", "message", "  "), l.op, 400, "메시지: 꼭 넣어야 합니다"},
			{"bad app id", pcValues("pc_ids", id1, "type", "install", "app_id", "--source=evil"), l.op, 400, "Chocolatey 패키지 ID: 패키지 ID여야 합니다"},
			{"bad url", pcValues("pc_ids", id1, "type", "download", "url", "file:///etc/passwd", "destination", `C:\x`), l.op, 400, "URL: http:// 또는 https://로 시작하는 주소여야"},
			{"delay not a number", pcValues("pc_ids", id1, "type", "shutdown", "delay", "soon"), l.op, 400, "지연(초): 정수여야 합니다"},
			{"delay out of range", pcValues("pc_ids", id1, "type", "restart", "delay", "-5"), l.op, 400, "지연(초): 0부터 86400까지"},
			{"priority", pcValues("pc_ids", id1, "type", "message", "message", "hi", "priority", "11"), l.op, 400, "우선순위는 1(가장 급함)부터 10까지"},
			{"timeout not a number", pcValues("pc_ids", id1, "type", "message", "message", "hi", "timeout", "1.5"), l.op, 400, "제한 시간은(는) 정수여야"},
			{"NUL", pcValues("pc_ids", id1, "type", "message", "message", "a\x00b"), l.op, 400, "NUL"},
			{"unknown PC among known", pcValues("pc_ids", id1, "pc_ids", "99999", "type", "message", "message", "hi"), l.op, 404, "지워졌을 수 있습니다"},
			{"pc and room", pcValues("pc_ids", id1, "room", "x", "type", "message", "message", "hi"), l.op, 400, "하나만 고르세요"},
			{"unknown room", pcValues("room", "nowhere", "type", "message", "message", "hi"), l.op, 404, "nowhere"},
			{"password too long", pcValues("pc_ids", id1, "type", "create_user", "username", "kim", "password", strings.Repeat("x", 128)), l.op, 400, "비밀번호: 너무 깁니다: 영문 127자, 한글 42자까지"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				admRefused(t, tt.as.form("POST", "/commands", tt.form, true), tt.status, tt.mentions)
				if n := len(l.commands(t, l.pc1)) + len(l.commands(t, l.pc2)); n != 0 {
					t.Fatalf("%d commands queued", n)
				}
			})
		}
		r := l.op.sendForm("POST", "/commands", pcValues("pc_ids", id1, "type", "message", "message", "hi"), "HX-Request", "true")
		if r.Status != 403 || !strings.Contains(r.Raw, "보안 토큰이 맞지 않습니다") || len(l.commands(t, l.pc1)) != 0 {
			t.Errorf("without CSRF: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("two PCs", func(t *testing.T) {
		form := pcValues("pc_ids", id1, "pc_ids", id2, "pc_ids", id1, "type", "shutdown", "delay", " 30 ", "message", hostile,
			"priority", "2", "timeout", "600", "command", "ignored: not a shutdown parameter")
		r := l.op.form("POST", "/commands", form, true).must(t, 200)
		doc := htmlDoc(t, r)
		noInlineScript(t, doc)
		if len(byTestIDAll(doc, "topbar")) != 0 {
			t.Error("htmx got the whole page")
		}
		rows := byTestIDAll(doc, "result-row")
		if len(rows) != 2 {
			t.Fatalf("%d rows, want 2 (PC 1 was named twice)", len(rows))
		}
		for i, pc := range []*agent{l.pc1, l.pc2} {
			cs := l.commands(t, pc)
			if len(cs) != 1 {
				t.Fatalf("PC %d has %d commands", pc.PCID, len(cs))
			}
			c := cs[0]
			var params map[string]any
			_ = json.Unmarshal([]byte(c.Parameters), &params)
			if c.Type != "shutdown" || params["delay"] != 30.0 || params["message"] != hostile || len(params) != 2 ||
				c.Priority != 2 || c.Timeout != 600 || c.CreatedBy != "op" {
				t.Errorf("stored %+v", c)
			}
			live := byTestID(t, rows[i], "command-live")
			if attr(live, "id") != "cmd-"+itoa(c.ID) || attr(byTestID(t, live, "command-cell"), "data-status") != wire.StatusPending {
				t.Errorf("row %d: live cell %q", i, attr(live, "id"))
			}
		}
		if got := textOf(byTestID(t, rows[0], "result-hostname")); got != hostile {
			t.Errorf("hostname %q", got)
		}
		byTestID(t, doc, "retry-failed")
	})

	t.Run("defaults and the kill button's values", func(t *testing.T) {
		// Markup, but a process name the agent can kill: hostile has a '/', which names a path.
		const name = `<img src=x onerror=alert(1)>`
		r := l.op.form("POST", "/commands", pcValues("pc_ids", id2, "type", "kill_process", "process_name", name), true).must(t, 200)
		byTestID(t, htmlDoc(t, r), "result-row")
		c := l.commands(t, l.pc2)[0]
		if c.Type != "kill_process" || c.Parameters != `{"process_name":"`+strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(name)+`"}` ||
			c.Priority != 5 || c.Timeout != 300 {
			t.Errorf("stored %s %s prio %d timeout %d", c.Type, c.Parameters, c.Priority, c.Timeout)
		}
	})

	t.Run("full page without htmx", func(t *testing.T) {
		r := l.op.form("POST", "/commands", pcValues("pc_ids", id2, "type", "message", "message", "hello"), false).must(t, 200)
		doc := htmlDoc(t, r)
		byTestID(t, doc, "topbar")
		byTestID(t, doc, "command-results")
		if got := attr(byTestID(t, doc, "commands-page"), "sse-connect"); got != "/stream?pc="+id2 {
			t.Errorf("sse-connect %q", got)
		}
	})

	t.Run("passwords are not retryable", func(t *testing.T) {
		r := l.op.form("POST", "/commands", pcValues("pc_ids", id2, "type", "create_user", "username", "kim", "password", "s3cret pass",
			"language", "en-US"), true).
			must(t, 200)
		doc := htmlDoc(t, r)
		if len(byTestIDAll(doc, "retry-failed")) != 0 {
			t.Error("retry offered for create_user")
		}
		byTestID(t, doc, "retry-unavailable")
		if strings.Contains(r.Raw, "s3cret") || strings.Contains(l.ts.logs.String(), "s3cret") {
			t.Error("the password was shown or logged")
		}
	})
}

func TestJSONBulkRefusesEmptyRoom(t *testing.T) {
	l := newPCLab(t)
	r := l.admin.do("POST", "/api/admin/commands/bulk", map[string]any{"room": "", "type": "message", "parameters": map[string]any{"message": "hi"}})
	if r.Status != 400 || !strings.Contains(r.Raw, "room") {
		t.Errorf("empty room: %d %s", r.Status, r.Raw)
	}
	if n := len(l.commands(t, l.pc1)) + len(l.commands(t, l.pc2)); n != 0 {
		t.Errorf("an empty room name queued %d commands", n)
	}
}

func TestRetryCommandsPage(t *testing.T) {
	l := newPCLab(t)
	id1, id2 := itoa(l.pc1.PCID), itoa(l.pc2.PCID)
	send := func(form url.Values) []string {
		t.Helper()
		doc := htmlDoc(t, l.op.form("POST", "/commands", form, true).must(t, 200))
		var ids []string
		for _, in := range findAll(byTestID(t, doc, "command-results"), func(n *html.Node) bool { return attr(n, "name") == "command_ids" }) {
			ids = append(ids, attr(in, "value"))
		}
		return ids
	}
	ids := send(pcValues("pc_ids", id1, "pc_ids", id2, "type", "execute", "command", "gpupdate /force", "timeout", "120"))
	l.finish(t, l.pc1, "error", "access denied")
	l.finish(t, l.pc2, "success", "ok")

	r := l.op.form("POST", "/commands/retry", url.Values{"command_ids": ids}, true).must(t, 200)
	doc := htmlDoc(t, r)
	rows := byTestIDAll(doc, "result-row")
	if len(rows) != 1 || attr(rows[0], "data-pc-id") != id1 {
		t.Fatalf("retry rows: %d", len(rows))
	}
	cs := l.commands(t, l.pc1)
	if len(cs) != 2 || cs[0].Type != "execute" || cs[0].Parameters != `{"command":"gpupdate /force"}` || cs[0].Timeout != 120 ||
		cs[0].Status != wire.StatusPending || cs[0].CreatedBy != "op" {
		t.Errorf("re-sent %+v", cs[0])
	}
	if n := len(l.commands(t, l.pc2)); n != 1 {
		t.Errorf("the PC that succeeded got %d commands, want its 1", n)
	}
	byTestID(t, doc, "retry-failed")

	// Nothing failed among these: nothing to do.
	newIDs := []string{attr(byTestID(t, doc, "command-live"), "data-command-id")}
	admRefused(t, l.op.form("POST", "/commands/retry", url.Values{"command_ids": newIDs}, true), 400, "다시 보낼 것이 없습니다")

	// A failed create_user lost its password: it cannot be re-sent.
	secret := send(pcValues("pc_ids", id2, "type", "create_user", "username", "kim", "password", "s3cret pass"))
	l.finish(t, l.pc2, "error", "exists")
	admRefused(t, l.op.form("POST", "/commands/retry", url.Values{"command_ids": secret}, true), 400, "비밀번호는 전달 뒤 지워졌습니다")

	// Mixed: the execute goes again, the create_user is counted as skipped.
	doc = htmlDoc(t, l.op.form("POST", "/commands/retry", url.Values{"command_ids": append(secret, ids[0])}, true).must(t, 200))
	if n := len(byTestIDAll(doc, "result-row")); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	if got := textOf(byTestID(t, doc, "retry-skipped")); !strings.Contains(got, "1") {
		t.Errorf("skipped note %q", got)
	}

	for _, tt := range []struct {
		name     string
		form     url.Values
		as       *admin
		status   int
		mentions string
	}{
		{"viewer", url.Values{"command_ids": ids}, l.viewr, 403, "운영자 역할이 있어야"},
		{"none", url.Values{}, l.op, 400, "다시 보낼 명령을 고르세요"},
		{"bad id", pcValues("command_ids", "x"), l.op, 400, "명령의 번호가 올바르지 않습니다"},
		{"unknown", pcValues("command_ids", "99999"), l.op, 404, "지워졌을 수 있습니다"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(l.commands(t, l.pc1))
			admRefused(t, tt.as.form("POST", "/commands/retry", tt.form, true), tt.status, tt.mentions)
			if n := len(l.commands(t, l.pc1)); n != before {
				t.Errorf("%d commands queued", n-before)
			}
		})
	}
	r = l.op.sendForm("POST", "/commands/retry", url.Values{"command_ids": ids})
	if r.Status != 403 || !strings.Contains(r.Raw, "보안 토큰이 맞지 않습니다") {
		t.Errorf("without CSRF: %d", r.Status)
	}
}
