//go:build !windows

package handlers_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPollLightHeartbeat measures the hot path: one POST /api/client/commands with a light
// heartbeat and nothing queued, through the whole echo stack (routing, middleware, decoding,
// identification, rate limit, fleet update, event publish, JSON answer) but without the TCP
// stack. It reports the server CPU one poll costs: 10,000 PCs poll 5,000 times a second, so two
// cores hold them while cpu-µs/poll stays well under 400.
func BenchmarkPollLightHeartbeat(b *testing.B) {
	for _, pcs := range []int{100, 10_000} {
		// Set up once per fleet size: b.Run calls its function again for each b.N it tries.
		ts := newTestServer(b, func(_ *handlers.Config, f *fleet.Config) { f.PollRate, f.PollBurst = 1e9, 1e9 })
		a := ts.admin()
		pin := ts.pin(a, "multi")
		h := ts.srv.Config.Handler
		bodies := make([][]byte, pcs)
		for i := range pcs {
			id := fmt.Sprintf("BENCH-%05d", i)
			ts.register(pin, id)
			bodies[i] = fmt.Appendf(nil, `{"machine_id":%q,"heartbeat":{"cpu_usage":%d.5,"ram_usage_percent":58.3,"ip_address":"192.168.1.101"}}`, id, i%100)
			// The first poll brings the PC online and records its new IP: durable writes that
			// happen once, not on the steady path measured here.
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/client/commands", bytes.NewReader(bodies[i])))
			if rec.Code != http.StatusOK {
				b.Fatalf("warm-up poll: %d %s", rec.Code, rec.Body)
			}
		}
		// One dashboard-like subscriber that drains, so publishing does real work.
		sub := ts.hub.Subscribe()
		go func() {
			for range sub.Ready() {
				sub.Drain()
			}
		}()
		b.Cleanup(sub.Close)
		b.Run(fmt.Sprintf("pcs=%d", pcs), func(b *testing.B) {
			var next atomic.Int64
			var failed atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, wall0 := cpuTime(b), time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := bodies[int(next.Add(1))%pcs]
					req := httptest.NewRequest(http.MethodPost, "/api/client/commands", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						failed.Add(1)
					}
				}
			})
			cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d polls failed", n)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/poll")
			b.ReportMetric(float64(b.N)/wall.Seconds(), "polls/s")
		})
	}
}
