package handlers_test

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/wcms-lab/wcms/handlers"

	"golang.org/x/net/html"
)

// hostileValues are what an agent under a student's control could send in any text field.
var hostileValues = []struct{ name, v string }{
	{"script", `<script>alert(1)</script>`},
	{"attribute break", `"><img src=x onerror=alert(1)>`},
	{"SQL", `'; DROP TABLE pcs; --`},
	{"control characters", func() string {
		var b strings.Builder
		for c := byte(1); c < 0x20; c++ {
			b.WriteByte(c)
		}
		return "ctl" + b.String() + "end"
	}()},
	{"RTL override", "LAB\u202egnp.exe"},
	{"emoji", "🧪💻👩‍🎓 PC"},
}

// markupMarkers are substrings that exist only if a hostile value reached the page unescaped.
// (The escaped form keeps "onerror=alert" as text; the attribute check below catches it as markup.)
var markupMarkers = []string{"<script>alert", "<img src=x"}

// visible is how a value reads in parsed HTML: the parser turns CR into LF, and the helpers
// collapse white space.
func visible(v string) string { return strings.Join(strings.Fields(v), " ") }

// checkHTMLSafe fails when hostile text became markup: a raw marker, a script that is not a
// static file, an event-handler attribute or an image of the attack.
func checkHTMLSafe(t *testing.T, what, raw string, doc *html.Node) {
	t.Helper()
	for _, m := range markupMarkers {
		if strings.Contains(raw, m) {
			t.Errorf("%s: unescaped %q in the HTML", what, m)
		}
	}
	noInlineScript(t, doc)
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s> has an event handler %s=%q", what, n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "img" && attr(n, "src") == "x" {
			t.Errorf("%s: the attack's <img> became an element", what)
		}
	}
}

func TestHostileAgentValues(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	room := `<script>alert(1)</script> "Lab"`
	a.do("POST", "/api/admin/rooms", map[string]any{"name": room, "rows": 2, "cols": 4}).must(t, 200)

	type pc struct {
		id, cmd int64
		agent   *agent
		v, name string // name: v as a name may carry it (agent_input.go)
	}
	var pcs []pc
	for i, h := range hostileValues {
		v := h.v
		name := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && r != '\t' && r != '\n' {
				return -1
			}
			return r
		}, v)
		machine := fmt.Sprintf("HOSTILE-%d", i)
		ag := ts.registerWith(map[string]any{
			"machine_id": machine, "pin": pin, "hostname": name, "mac_address": hostileMAC, "ip_address": hostileIP,
			"cpu_model": name, "os_edition": name, "os_version": name,
			"disk_info": map[string]any{name: map[string]any{"total_gb": 100.0, "fstype": name}},
		})
		ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": machine, "full_update": true,
			"system_info": map[string]any{"cpu_usage": 50.0, "ram_usage_percent": 50.0, "current_user": name, "ip_address": hostileIP,
				"processes": []string{name, name + ".exe"}, "disk_usage": map[string]any{name: map[string]any{"used_gb": 1.0, "free_gb": 99.0, "percent": 1.0}}},
		}).must(t, 200)
		a.do("PUT", "/api/admin/pc/"+itoa(ag.PCID)+"/seat", map[string]any{"room": room, "row": 1 + i/4, "col": 1 + i%4}).must(t, 200)
		cmd := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
		if got := ag.do("POST", "/api/client/commands", map[string]any{"machine_id": machine}).must(t, 200).num("data.command.id"); got != cmd {
			t.Fatalf("%s: polled command %d, want %d", h.name, got, cmd)
		}
		pcs = append(pcs, pc{id: ag.PCID, cmd: cmd, agent: ag, v: v, name: name})
	}

	t.Run("NUL is refused with a clear 400", func(t *testing.T) {
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"/api/client/register", map[string]any{"machine_id": "NUL-1", "pin": pin, "hostname": "h", "mac_address": hostileMAC, "cpu_model": "a\x00b"}},
			{"/api/client/heartbeat", map[string]any{"machine_id": "HOSTILE-0", "full_update": true, "system_info": map[string]any{"current_user": "a\x00b"}}},
			{"/api/client/heartbeat", map[string]any{"machine_id": "HOSTILE-0", "full_update": true, "system_info": map[string]any{"processes": []string{"a\x00b"}}}},
			{"/api/client/commands/" + itoa(pcs[0].cmd) + "/result", map[string]any{"status": "error", "output": "x", "error_message": "a\x00b"}},
		} {
			checkEnvelope(t, pcs[0].agent.do("POST", c.path, c.body), 400, handlers.CodeInvalidField, "NUL")
		}
	})

	// The PC streams are open before the results, so their command cells carry the output.
	type stream struct {
		pc  pc
		evs <-chan sseEvent
	}
	var pcStreams []stream
	for _, p := range pcs {
		evs, stop := openStream(t, a, "/stream?pc="+itoa(p.id))
		defer stop()
		pcStreams = append(pcStreams, stream{p, evs})
	}
	for _, p := range pcs {
		p.agent.do("POST", "/api/client/commands/"+itoa(p.cmd)+"/result",
			map[string]any{"status": "error", "output": p.v, "error_message": p.v, "exit_code": 1}).must(t, 200)
	}

	t.Run("admin JSON API returns the values intact", func(t *testing.T) {
		for _, p := range pcs {
			res := a.do("GET", "/api/admin/pc/"+itoa(p.id), nil).must(t, 200)
			for _, k := range []string{"hostname", "current_user", "specs.cpu_model", "specs.os_edition", "specs.os_version"} {
				if got := res.get("pc." + k); got != p.name {
					t.Errorf("%s: %q, want %q", k, got, p.name)
				}
			}
			if got := res.get("pc.processes"); !reflect.DeepEqual(got, []any{p.name, p.name + ".exe"}) {
				t.Errorf("processes %q", got)
			}
			disks := items(t, res, "pc.disks")
			if len(disks) != 1 || disks[0]["mount"] != p.name || disks[0]["fstype"] != p.name {
				t.Errorf("disks %v", disks)
			}
			c := a.do("GET", "/api/admin/command/"+itoa(p.cmd), nil).must(t, 200)
			if c.get("command.output") != p.v || c.get("command.error_message") != p.v {
				t.Errorf("command %s", c.Raw)
			}
		}
	})

	t.Run("pages show them only as text", func(t *testing.T) {
		pages := map[string]string{"room view": "/?room=" + url.QueryEscape(room), "commands log": "/log?tab=commands"}
		for _, p := range pcs {
			pages["PC "+itoa(p.id)] = "/pc/" + itoa(p.id)
		}
		for what, path := range pages {
			res := a.do("GET", path, nil).must(t, 200)
			doc := htmlDoc(t, res)
			checkHTMLSafe(t, what, res.Raw, doc)
			text := textOf(doc)
			for _, p := range pcs {
				if (what == "room view" || what == "PC "+itoa(p.id)) && !strings.Contains(text, visible(p.name)) {
					t.Errorf("%s does not show %q as text", what, p.name)
				}
			}
		}
	})

	t.Run("stream fragments", func(t *testing.T) {
		roomEvs, stop := openStream(t, a, "/stream?room="+url.QueryEscape(room))
		defer stop()
		check := func(what string, ev sseEvent, want map[string]string) {
			t.Helper()
			if strings.ContainsRune(ev.data, '\r') {
				t.Errorf("%s: a carriage return in SSE data ends the line in a browser's EventSource (the rest of the fragment is lost or read as a field): %.80q", what, ev.data[max(0, strings.IndexRune(ev.data, '\r')-20):])
			}
			doc := parseHTML(t, "<!doctype html><body>"+ev.data) // the fragment as the body of a page
			checkHTMLSafe(t, what, ev.data, doc)
			for testid, v := range want {
				if got := textOf(byTestID(t, doc, testid)); got != visible(v) {
					t.Errorf("%s: %s %q, want %q", what, testid, got, visible(v))
				}
			}
		}
		seen := map[string]bool{}
		for len(seen) < len(pcs) {
			ev := until(t, roomEvs, "every tile of the room", func(ev sseEvent) bool { return strings.HasPrefix(ev.name, "pc-") && !seen[ev.name] })
			seen[ev.name] = true
			for _, p := range pcs {
				if ev.name == "pc-"+itoa(p.id)+"-live" {
					check("room tile "+ev.name, ev, map[string]string{"tile-hostname": p.name, "tile-ip": hostileIP, "tile-user": p.name})
				}
			}
		}
		for _, s := range pcStreams {
			name := "cmd-" + itoa(s.pc.cmd)
			ev := until(t, s.evs, "the command's result cell", func(ev sseEvent) bool {
				return ev.name == name && strings.Contains(ev.data, `data-status="error"`)
			})
			check("PC stream "+name, ev, map[string]string{"command-output": s.pc.v, "command-error": s.pc.v})
		}
	})

	t.Run("outage log after shutdown", func(t *testing.T) {
		for _, p := range pcs {
			p.agent.do("POST", "/api/client/shutdown", map[string]any{"machine_id": p.agent.MachineID}).must(t, 200)
		}
		res := a.do("GET", "/log", nil).must(t, 200)
		doc := htmlDoc(t, res)
		checkHTMLSafe(t, "outage log", res.Raw, doc)
		text := textOf(doc)
		for _, p := range pcs {
			if !strings.Contains(text, visible(p.name)) {
				t.Errorf("the outage log does not show %q as text", p.name)
			}
		}
	})
}

// hostileMAC and hostileIP are well formed: the bounds refuse anything else (agent_input.go).
const hostileMAC, hostileIP = "00:00:5E:00:53:01", "192.0.2.10"

// TestHostileHugeName: a name that fits the body cap (2 MB by default) is refused by the bound on
// hostnames; a body over the cap is refused with 413 before it is read.
func TestHostileHugeName(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	reg := func(machine, name string) response {
		return ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": machine, "pin": pin, "hostname": name, "mac_address": hostileMAC})
	}
	big := "<b>" + strings.Repeat("x", 1<<20) + "</b>" // 1 MB; JSON encodes < and > as 6 bytes each
	checkEnvelope(t, reg("BIG-1", big), 400, handlers.CodeInvalidField, "hostname", "255")
	checkEnvelope(t, reg("BIG-2", strings.Repeat("x", 2<<20)), 413, "BODY_TOO_LARGE")
	if pcs := items(t, a.do("GET", "/api/admin/pcs", nil).must(t, 200), "pcs"); len(pcs) != 0 {
		t.Fatalf("PCs after the refused body: %d", len(pcs))
	}
}
