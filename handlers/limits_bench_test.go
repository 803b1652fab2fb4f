package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkFailedChecks measures what a wrong PIN and a wrong password cost the server, limits
// included (read, check, count), through the whole echo stack but without TCP, on the engine the
// tests run on (WCMS_TEST_POSTGRES). Each attempt comes from an address of its own, as from an
// attacker with many, so every one is checked and counted under the shipped limits rather than
// refused; the login uses bcrypt's lowest cost, so the limits' share shows.
func BenchmarkFailedChecks(b *testing.B) {
	ts := newTestServer(b)
	pin := ts.pin(ts.admin(), "multi")
	wrongPIN := `{"machine_id":"BENCH","pin":"` + unusedPIN(b, ts, pin) + `","hostname":"h","mac_address":"00:00:5E:00:53:01"}`
	wrongLogin := url.Values{"username": {"admin"}, "password": {"wrong password"}}.Encode()
	h := ts.srv.Config.Handler
	for _, bench := range []struct {
		name, path, contentType, body string
		want                          int
	}{
		{"PIN", "/api/client/register", "application/json", wrongPIN, http.StatusForbidden},
		{"login", "/login", "application/x-www-form-urlencoded", wrongLogin, http.StatusFound},
	} {
		b.Run(bench.name, func(b *testing.B) {
			addr := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bench.path, strings.NewReader(bench.body))
				req.Header.Set("Content-Type", bench.contentType)
				addr++
				req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", addr>>16&255, addr>>8&255, addr&255)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != bench.want {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
