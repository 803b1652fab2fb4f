package handlers_test

import (
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// Signed in at the loopback address, the PIN and status pages say PCs cannot reach it and how
// to fix it; with -public-url set to a LAN address they say nothing.
func TestInstallURLWarning(t *testing.T) {
	ts := newTestServer(t) // the browser's address is 127.0.0.1: what PCs would be given
	a := ts.admin()
	for _, path := range []string{"/pins", "/status"} {
		doc := htmlDoc(t, a.page(path, false).must(t, 200))
		w := textOf(byTestID(t, doc, "install-url-warning"))
		if !strings.Contains(w, "127.0.0.1") || !strings.Contains(w, "-public-url") || !strings.Contains(w, "닿을 수 없습니다") {
			t.Errorf("%s: warning %q", path, w)
		}
	}

	lan := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.PublicURL = "http://10.1.2.3:5050" })
	for _, path := range []string{"/pins", "/status"} {
		if n := len(byTestIDAll(htmlDoc(t, lan.admin().page(path, false).must(t, 200)), "install-url-warning")); n != 0 {
			t.Errorf("%s with a LAN public URL: %d warnings", path, n)
		}
	}
}

// A fresh install's home page is a checklist to the first tile, each step ticked as it is done;
// once a PC has registered the checklist is gone.
func TestFirstRunChecklist(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	done := func() map[string]string {
		t.Helper()
		doc := htmlDoc(t, a.page("/", false).must(t, 200))
		out := map[string]string{}
		for _, id := range []string{"first-run-url", "first-run-pin", "first-run-agent", "first-run-room"} {
			if n := byTestIDAll(doc, id); len(n) == 1 {
				out[id] = attr(n[0], "data-done")
			}
		}
		return out
	}
	if got := done(); len(got) != 4 || got["first-run-url"] != "false" || got["first-run-pin"] != "false" || got["first-run-room"] != "false" {
		t.Fatalf("a fresh install: %v", got)
	}
	pin := ts.pin(a, "multi")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 1, "cols": 1}).must(t, 200)
	if got := done(); got["first-run-pin"] != "true" || got["first-run-room"] != "true" || got["first-run-agent"] != "false" {
		t.Errorf("with a PIN and a room: %v", got)
	}
	ts.register(pin, "FIRST-1")
	if got := done(); len(got) != 0 {
		t.Errorf("with a PC: %v, want no checklist", got)
	}
}
