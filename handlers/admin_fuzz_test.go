package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"
)

// fuzzAdminRoutes are the admin routes that take a JSON body; {pc} is the probe PC.
var fuzzAdminRoutes = []struct{ method, path string }{
	{"POST", "/api/admin/pc/{pc}/command"},
	{"POST", "/api/admin/pc/{pc}/execute"},
	{"POST", "/api/admin/commands/bulk"},
	{"POST", "/api/admin/rooms"},
	{"PUT", "/api/admin/room/Lab%201"},
	{"PUT", "/api/admin/pc/{pc}/seat"},
	{"POST", "/api/admin/registration-token"},
	{"POST", "/api/admin/accounts"},
}

// FuzzAdminAPI sends fuzzed bodies to the admin routes that take one, as a signed-in admin with
// the CSRF header, on one in-process server.
func FuzzAdminAPI(f *testing.F) {
	ts := newTestServer(f)
	a := ts.admin()
	probe := ts.register(ts.pin(a, "single"), "FZ-ADMIN")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 4, "cols": 4}).must(f, 200)
	pc := itoa(probe.PCID)

	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, `{"type":"execute","parameters":{"command":"hostname"},"priority":1,"timeout":60}`},
		{0, `{"type":"create_user","parameters":{"username":"kim","password":"pw","full_name":"Kim","language":"ko-KR"}}`},
		{0, `{"type":"message","parameters":{"message":"hi","duration":"ten"}}`},
		{0, `{"type":"reboot","parameters":{"delay":-5}}`},
		{0, `{"type":"download","parameters":{"url":"http://x/y","destination":"C:\\t"},"priority":11}`},
		{1, `{"command":"dir C:\\"}`},
		{1, `{"command":"a\u0000b"}`},
		{2, `{"pc_ids":[` + pc + `],"type":"shutdown","parameters":{"delay":0}}`},
		{2, `{"room":"Lab 1","type":"kill_process","parameters":{"process_name":"chrome.exe"}}`},
		{2, `{"pc_ids":[-1,0,9223372036854775807],"type":"execute","parameters":{"command":"x"}}`},
		{3, `{"name":"Lab 2","rows":2,"cols":3}`},
		{3, `{"name":"","rows":0,"cols":-1}`},
		{4, `{"name":"Lab 1","rows":5,"cols":5}`},
		{4, `{"rows":1,"cols":1}`},
		{5, `{"room":"Lab 1","row":1,"col":1}`},
		{5, `{"room":null}`},
		{5, `{"room":"Lab 1","row":99,"col":-1}`},
		{6, `{"usage_type":"multi","expires_in":60}`},
		{6, `{"usage_type":"forever","expires_in":-1}`},
		{7, `{"username":"viewer1","password":"viewer password 1","role":"viewer"}`},
		{7, `{"username":"../x","password":"","role":"root"}`},
		{7, `[]`},
	} {
		f.Add(s.route, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzAdminRoutes[int(route)%len(fuzzAdminRoutes)]
		path := strings.Replace(r.path, "{pc}", pc, 1)
		res, err := fuzzDo(context.Background(), a.client, r.method, ts.URL+path, body, handlers.CSRFHeader, a.csrf)
		if err != nil {
			t.Fatalf("%s %s %q: %v", r.method, path, body, err)
		}
		checkFuzzAnswer(t, r.method+" "+path, res)

		ok, err := fuzzDo(context.Background(), a.client, "GET", ts.URL+"/api/admin/status", nil)
		if err != nil || ok.Status != 200 {
			t.Fatalf("status after %s %s %q: %v %d %s", r.method, path, body, err, ok.Status, ok.Raw)
		}
	})
}
