package handlers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pcsFixture is LAB-PC1…LAB-PC10 and a hostile hostname; PC2 is online with a user, PC3 sits in
// room ENG301.
func pcsFixture(t testing.TB) (*fleetFixture, string) {
	f := newFleetFixture(t.(*testing.T), 10)
	hostile := `<img src=x onerror=alert(1)>`
	f.ts.registerWith(map[string]any{"machine_id": "EVIL", "pin": f.ts.pin(f.a, "multi"), "hostname": hostile,
		"mac_address": "A1:B2:C3:D4:E5:F7", "ip_address": "10.9.9.9"})
	f.ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": f.pcs[1].MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 45.2, "ram_usage_percent": 53.1, "current_user": "Student7", "ip_address": "192.168.7.2"}}).must(t, 200)
	f.a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 2, "cols": 2}).must(t, 200)
	f.a.do("PUT", f.pcPaths[2]+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": 2}).must(t, 200)
	return f, hostile
}

func pcsHostnames(t *testing.T, r response) []string {
	t.Helper()
	return textsOf(htmlDoc(t, r.must(t, 200)), "pcs-hostname")
}

func TestPCsPage(t *testing.T) {
	f, hostile := pcsFixture(t)
	viewer := f.ts.account(f.a, "viewer1", "viewer")
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", append([]string{hostile}, "LAB-PC1", "LAB-PC2", "LAB-PC3", "LAB-PC4", "LAB-PC5", "LAB-PC6", "LAB-PC7", "LAB-PC8", "LAB-PC9", "LAB-PC10")},
		{"?q=pc1", []string{"LAB-PC1", "LAB-PC10"}},
		{"?q=student", []string{"LAB-PC2"}},    // the user, any case
		{"?q=192.168.7", []string{"LAB-PC2"}},  // the IP
		{"?q=eng3", []string{"LAB-PC3"}},       // the room
		{"?state=online", []string{"LAB-PC2"}}, // the heartbeat brought it online
		{"?q=LAB-PC1&state=unplaced", []string{"LAB-PC1", "LAB-PC10"}},
		{"?q=pc&sort=hostname&dir=desc", []string{"LAB-PC10", "LAB-PC9", "LAB-PC8", "LAB-PC7", "LAB-PC6", "LAB-PC5", "LAB-PC4", "LAB-PC3", "LAB-PC2", "LAB-PC1"}},
		{"?q=LAB-PC&sort=room", []string{"LAB-PC3", "LAB-PC1", "LAB-PC2", "LAB-PC4", "LAB-PC5", "LAB-PC6", "LAB-PC7", "LAB-PC8", "LAB-PC9", "LAB-PC10"}},
		{"?q=LAB-PC1&sort=cpu&dir=desc", []string{"LAB-PC10", "LAB-PC1"}},
		{"?q=PC2&sort=state", []string{"LAB-PC2"}},
		{"?q=nothing-like-this", nil},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if got := pcsHostnames(t, viewer.page("/pcs"+tt.query, false)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	doc := htmlDoc(t, viewer.page("/pcs?q=PC2", false))
	row := byTestID(t, doc, "pcs-row")
	if got := textOf(byTestID(t, row, "pcs-state")); !strings.Contains(got, "온라인") {
		t.Errorf("state %q", got)
	}
	if got := textOf(byTestID(t, row, "pcs-user")) + " " + textOf(byTestID(t, row, "pcs-cpu")); got != "Student7 45%" {
		t.Errorf("user and CPU %q", got)
	}
	if href := attr(byTestID(t, row, "pcs-hostname"), "href"); href != "/pc/"+itoa(f.pcs[1].PCID) {
		t.Errorf("link %q", href)
	}
	// The sorted column says so to screen readers; its header link turns the direction round.
	th := byTestID(t, doc, "pcs-sort-hostname")
	if attr(th, "aria-sort") != "ascending" || attr(byTestID(t, doc, "pcs-sort-cpu"), "aria-sort") != "none" {
		t.Errorf("aria-sort %q", attr(th, "aria-sort"))
	}
	if href := attr(findAll(th, func(n *html.Node) bool { return n.Data == "a" })[0], "href"); !strings.Contains(href, "dir=desc") || !strings.Contains(href, "q=PC2") {
		t.Errorf("header link %q", href)
	}
	noInlineScript(t, doc)

	// The hostile hostname is text, never an element.
	doc = htmlDoc(t, viewer.page("/pcs?q=img", false))
	if imgs := findAll(byTestID(t, doc, "pcs-body"), func(n *html.Node) bool { return n.Data == "img" }); len(imgs) > 0 {
		t.Errorf("hostname became markup: %d img elements", len(imgs))
	}

	// Typing asks htmx for the results alone.
	part := viewer.page("/pcs?q=PC2", true).must(t, 200)
	if !isFragment(part) || !strings.Contains(part.Raw, `id="pcs-results"`) {
		t.Errorf("htmx answer: %.200s", part.Raw)
	}
}

func TestPCsPageRefusesBadInput(t *testing.T) {
	f, _ := pcsFixture(t)
	for _, tt := range []struct{ query, lang, mentions string }{
		{"?sort=password", "ko", "정렬할 열을 알 수 없습니다"},
		{"?sort=password", "en", "unknown sort column"},
		{"?dir=sideways", "en", "dir must be asc or desc"},
		{"?state=asleep", "ko", "알 수 없는 상태"},
	} {
		t.Run(tt.query+"_"+tt.lang, func(t *testing.T) {
			res := f.ts.do(f.a.client, "GET", "/pcs"+tt.query, nil, "Accept-Language", tt.lang)
			if res.Status != 400 || !strings.Contains(res.Raw, tt.mentions) {
				t.Errorf("%d, want 400 mentioning %q: %.300s", res.Status, tt.mentions, res.Raw)
			}
		})
	}
	if res := f.ts.do(nil, "GET", "/pcs", nil); res.Status != 303 && res.Status != 302 {
		t.Errorf("signed out: %d", res.Status)
	}
}

// BenchmarkPCsPage renders /pcs for a fleet of 1,000 PCs, sorted by hostname (natural order) and
// filtered by a search that keeps 450 of them and sorted by CPU, through the real server.
func BenchmarkPCsPage(b *testing.B) {
	ts := newTestServer(b)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	for i := range 1000 {
		ts.register(pin, fmt.Sprintf("ENG%d-PC%02d", 301+i/50, i%50+1))
	}
	for _, query := range []string{"", "?q=eng30&sort=cpu&dir=desc"} {
		b.Run("q="+query, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := a.page("/pcs"+query, false); res.Status != 200 {
					b.Fatalf("%d", res.Status)
				}
			}
		})
	}
}
