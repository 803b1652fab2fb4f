package handlers

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/internal/logtest"
)

func TestBucketsCoverEveryLatency(t *testing.T) {
	for _, us := range []int64{0, 1, 15, 16, 17, 31, 32, 999, 1000, 1 << 20, 1<<36 - 1} {
		i := bucketOf(us)
		start := int64(0)
		if i > 0 {
			start = bucketEnd(i - 1)
		}
		if us < start || us >= bucketEnd(i) {
			t.Errorf("%d µs in bucket %d [%d, %d)", us, i, start, bucketEnd(i))
		}
		if width := bucketEnd(i) - start; us >= linearBuckets && width*subBuckets > start {
			t.Errorf("bucket %d [%d, %d) is wider than 1/%d of its start", i, start, bucketEnd(i), subBuckets)
		}
	}
	if got := bucketOf(1 << 40); got != histogramBuckets-1 {
		t.Errorf("a latency past the last bucket went to %d", got)
	}
}

// TestHistogramQuantileWithinOneBucket: p50 and p99 of several distributions land in the bucket
// of the true value or the next one up, whatever the number of samples.
func TestHistogramQuantileWithinOneBucket(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		n    int
		draw func(i int) time.Duration
	}{
		{"one sample", 1, func(int) time.Duration { return 3 * time.Millisecond }},
		{"ramp 1..1000 µs", 1000, func(i int) time.Duration { return time.Duration(i+1) * time.Microsecond }},
		{"polls with a slow tail", 100_000, func(int) time.Duration {
			if r.IntN(100) == 0 {
				return time.Duration(50+r.IntN(2000)) * time.Millisecond
			}
			return time.Duration(200+r.IntN(600)) * time.Microsecond
		}},
		{"exponential", 50_000, func(int) time.Duration { return time.Duration(r.ExpFloat64() * float64(5*time.Millisecond)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h latencyHistogram
			all := make([]time.Duration, tt.n)
			for i := range all {
				all[i] = tt.draw(i)
				h.record(all[i])
			}
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.99} {
				exact := all[int(q*float64(tt.n)+0.999999)-1]
				got := h.quantile(q)
				// got is the end of a bucket: got-1µs lies in it.
				if want, b := bucketOf(exact.Microseconds()), bucketOf(got.Microseconds()-1); b != want && b != want+1 {
					t.Errorf("p%.0f = %v (bucket %d), exact %v (bucket %d)", q*100, got, b, exact, want)
				}
			}
		})
	}
	var empty latencyHistogram
	if got := empty.quantile(0.99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
}

func TestAgentSummaryCountsAndResets(t *testing.T) {
	start := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	a := newAgentSummary(start)
	for range 97 {
		a.record(http.MethodPost, "/api/client/commands", 200, 400*time.Microsecond)
	}
	a.record(http.MethodPost, "/api/client/commands", 429, time.Millisecond)
	a.record(http.MethodPost, "/api/client/register", 403, 2*time.Millisecond)
	a.record(http.MethodPost, "/api/client/commands/:id/result", 500, 30*time.Millisecond)
	line, ok := a.take(start.Add(time.Minute))
	want := summaryLine{seconds: 60, requests: 100, errors: 1, refusals: 2, p50: 416 * time.Microsecond,
		p99: 2048 * time.Microsecond, slowest: 30 * time.Millisecond, slowRequest: "POST /api/client/commands/:id/result"}
	if !ok || line != want {
		t.Errorf("take = %+v, %v\nwant %+v", line, ok, want)
	}
	// The next minute starts empty, and an empty minute is not logged.
	if line, ok := a.take(start.Add(2 * time.Minute)); ok || line.requests != 0 || line.seconds != 60 || line.slowest != 0 {
		t.Errorf("the minute after: %+v, %v; want nothing counted", line, ok)
	}
	// One request: its quantiles are its own time, not its bucket's end.
	a.record(http.MethodGet, "/api/client/version", 200, 700*time.Microsecond)
	if line, _ := a.take(start.Add(3 * time.Minute)); line.p50 != 700*time.Microsecond || line.p99 != 700*time.Microsecond {
		t.Errorf("one request of 700 µs: p50 %v, p99 %v", line.p50, line.p99)
	}
}

// TestSummaryLogged: runSummary logs the minute at info, nothing for a minute without requests, and
// what is left when it stops.
func TestSummaryLogged(t *testing.T) {
	logs := &logtest.Buffer{}
	s := &Server{log: slog.New(slog.NewTextHandler(logs, nil)), agentLog: newAgentSummary(time.Now())}
	now := time.Now()
	s.agentLog.log(t.Context(), s.log, now)
	if logs.String() != "" {
		t.Fatalf("a minute without agent requests logged %q", logs.String())
	}
	s.agentLog.record(http.MethodPost, "/api/client/commands", 200, time.Millisecond)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runSummary(ctx)
	}()
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("runSummary did not stop with its context")
	}
	got := logs.String()
	for _, w := range []string{"level=INFO", `msg="agent API"`, "requests=1 ", "errors=0 ", "refusals=0 ", "p99_ms=1 ", "slowest_ms=1 ",
		`slowest="POST /api/client/commands"`} {
		if !strings.Contains(got, w) {
			t.Errorf("summary %q lacks %s", got, w)
		}
	}
}

// BenchmarkLogRequests is the request log on an agent poll's success with debug off: it must
// add no allocation to the hot path (compare with -benchmem before and after a change).
func BenchmarkLogRequests(b *testing.B) {
	s := &Server{log: slog.New(slog.NewJSONHandler(io.Discard, nil)), agentLog: newAgentSummary(time.Now())}
	s.cfg.defaults()
	e := echo.New()
	s.kinds.set("/api/client/commands", forPrograms|quietSuccess|agentAPI|noPageHeaders)
	h := s.logRequests(func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	req := httptest.NewRequest(http.MethodPost, "/api/client/commands", nil)
	c := e.NewContext(req, httptest.NewRecorder())
	c.SetPath("/api/client/commands")
	b.ReportAllocs()
	for b.Loop() {
		c.Response().Committed = false
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
}
