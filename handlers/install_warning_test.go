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
