package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/wcms-lab/wcms/wire"
)

// FuzzClientAnswers serves fuzzed answers (status, Retry-After, body) to the agent's register,
// poll and version calls through a real HTTP server. The client must never panic, and must
// report every answer that is not 2xx as an *APIError with that status. (A status with no
// standard name, such as 318, leaves Message empty when the body has none: cosmetic only.)
func FuzzClientAnswers(f *testing.F) {
	for _, s := range []struct {
		status uint16
		retry  string
		body   string
	}{
		{200, "", `{"status":"success","message":"Registration successful","pc_id":1,"agent_token":"abc"}`},
		{200, "", `{"status":"success","data":{"has_command":true,"command":{"id":7,"type":"execute","parameters":{"command":"hostname"},"timeout":300,"priority":5,"created_at":"2026-02-10T15:30:00Z"},"heartbeat_processed":true}}`},
		{200, "", `{"status":"success","data":{"has_command":true,"command":{"id":-1,"type":"","parameters":null,"created_at":"never"}}}`},
		{200, "", `{"status":"success","version":"9.9.9","download_url":"http://evil.example/x.exe","changelog":"","sha256":"zz"}`},
		{200, "", `{"status":"success","data":[]}`},
		{200, "", ``},
		{200, "", `{"status":"success","data":{"command":{"parameters":{"a":{"b":[1,2,{"c":null}]}}}}}`},
		{404, "", `{"status":"error","message":"PC not registered: M1","error":{"code":"PC_NOT_FOUND","message":"PC not registered: M1"}}`},
		{429, "3", `{"status":"error","message":"slow down","error":{"code":"RATE_LIMITED","message":"slow down"}}`},
		{429, "-1", `not json`},
		{503, "99999999999999999999", `<html>bad gateway</html>`},
		{302, "", ``},
		{204, "", ``},
	} {
		f.Add(s.status, s.retry, []byte(s.body))
	}

	var mu sync.Mutex // one answer at a time: the fuzz function sets it, the handler reads it
	var status int
	var retry string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		// A header value no HTTP server could send is a transport error, not an answer.
		if retry != "" && httpguts.ValidHeaderFieldValue(retry) {
			w.Header().Set("Retry-After", retry)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	f.Cleanup(srv.Close)
	c := newClient(srv.URL, "1.0.0")
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	f.Fuzz(func(t *testing.T, st uint16, ra string, data []byte) {
		code := 200 + int(st)%400 // 200-599: net/http refuses to write 1xx finals or nonsense codes
		mu.Lock()
		status, retry, body = code, ra, data
		mu.Unlock()
		ctx := context.Background()
		check := func(call string, err error) {
			t.Helper()
			var ae *APIError
			switch {
			case code/100 == 2:
				if errors.As(err, &ae) {
					t.Fatalf("%s: a %d answer reported as a server error: %v", call, code, err)
				}
			case !errors.As(err, &ae) || ae.Status != code || ae.RetryAfter < 0:
				t.Fatalf("%s: answer %d gave %#v", call, code, err)
			}
		}
		_, err := c.register(ctx, wire.RegisterRequest{MachineID: "M1", PIN: "123456", Hostname: "h", MACAddress: "m"})
		check("register", err)
		_, err = c.poll(ctx, wire.PollRequest{MachineID: "M1"})
		check("poll", err)
		_, err = c.version(ctx)
		check("version", err)
		_ = identityLost(err)
		_ = isPermanent(err)
	})
}
