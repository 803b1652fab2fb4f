package handlers

import (
	"context"
	"log/slog"
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// The agent API's successes are logged at debug only (logRequests): at 10,000 agents a line per
// poll would be 5,000 lines a second. What an operator needs of them instead is one line a
// minute: how many, how many failed, how fast. agentSummary keeps that minute in fixed memory.

// summaryEvery is how often the agent API's summary is logged.
const summaryEvery = time.Minute

// agentSummary counts the agent API's requests since it was last logged.
type agentSummary struct {
	mu sync.Mutex
	p  summaryPeriod
}

// summaryPeriod is what the summary counts in one period.
type summaryPeriod struct {
	since    time.Time
	requests int64
	errors   int64 // 5xx
	refusals int64 // 4xx
	slowest  time.Duration
	// slowMethod and slowRoute (its pattern, which holds no secret) name the slowest request.
	slowMethod, slowRoute string
	latency               latencyHistogram
}

func newAgentSummary(now time.Time) *agentSummary { return &agentSummary{p: summaryPeriod{since: now}} }

// record counts one request of the route (its pattern) with its status and the time it took.
func (a *agentSummary) record(method, route string, status int, took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := &a.p
	p.requests++
	switch {
	case status >= 500:
		p.errors++
	case status >= 400:
		p.refusals++
	}
	if took > p.slowest {
		p.slowest, p.slowMethod, p.slowRoute = took, method, route
	}
	p.latency.record(took)
}

// summaryLine is one period of the summary, as logged.
type summaryLine struct {
	seconds                    float64
	requests, errors, refusals int64
	p50, p99, slowest          time.Duration
	slowRequest                string // method and route of the slowest
}

// take returns the period up to now and starts the next; ok is false when the period saw no
// request.
func (a *agentSummary) take(now time.Time) (line summaryLine, ok bool) {
	a.mu.Lock()
	p := a.p
	a.p = summaryPeriod{since: now}
	a.mu.Unlock()
	return summaryLine{seconds: now.Sub(p.since).Seconds(), requests: p.requests, errors: p.errors, refusals: p.refusals,
		p50: min(p.latency.quantile(0.5), p.slowest), p99: min(p.latency.quantile(0.99), p.slowest),
		slowest: p.slowest, slowRequest: p.slowMethod + " " + p.slowRoute}, p.requests > 0
}

// log logs the period up to now at info, unless it saw no request.
func (a *agentSummary) log(ctx context.Context, log *slog.Logger, now time.Time) {
	line, ok := a.take(now)
	if !ok {
		return
	}
	log.LogAttrs(ctx, slog.LevelInfo, "agent API", slog.Float64("seconds", math.Round(line.seconds)),
		slog.Int64("requests", line.requests), slog.Int64("errors", line.errors), slog.Int64("refusals", line.refusals),
		slog.Float64("p50_ms", millis(line.p50)), slog.Float64("p99_ms", millis(line.p99)),
		slog.Float64("slowest_ms", millis(line.slowest)), slog.String("slowest", line.slowRequest))
}

// Run logs the agent API's summary every minute, writes this instance's status row
// (instances.go) and each minute deletes the failed attempts that have left their window
// (limits.go), until ctx ends: app.New runs it beside the fleet's background work and stops it
// with the server.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.runInstance(ctx) })
	s.runSummary(ctx)
	wg.Wait()
}

// runSummary logs the agent API's summary and prunes the failed attempts every minute, then logs
// the last part-minute when ctx ends.
func (s *Server) runSummary(ctx context.Context) {
	tick := time.NewTicker(summaryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.agentLog.log(context.WithoutCancel(ctx), s.log, time.Now())
			return
		case now := <-tick.C:
			s.agentLog.log(ctx, s.log, now)
			s.pruneFailures(ctx, now)
		}
	}
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// latencyHistogram counts latencies in fixed buckets: 1 µs wide below 16 µs, then 8 a power of
// two (each at most 1/8 of its lower edge wide), up to about 19 hours; a quantile is therefore off
// by less than one bucket, 12.5 %, in fixed memory whatever the number of requests.
type latencyHistogram struct {
	counts [histogramBuckets]int64
	total  int64
}

const (
	linearBuckets    = 16 // 0–15 µs, one each
	subBuckets       = 8  // per power of two above
	maxPower         = 36 // 2^36 µs ≈ 19 h: the last bucket holds everything longer
	histogramBuckets = linearBuckets + (maxPower-4)*subBuckets
)

// bucketOf is the bucket of a latency of us microseconds.
func bucketOf(us int64) int {
	if us < linearBuckets {
		return int(max(us, 0))
	}
	power := bits.Len64(uint64(us)) - 1 // ≥ 4
	if power >= maxPower {
		return histogramBuckets - 1
	}
	sub := int(us>>(power-3)) & (subBuckets - 1)
	return linearBuckets + (power-4)*subBuckets + sub
}

// bucketEnd is the first latency, in microseconds, above bucket i.
func bucketEnd(i int) int64 {
	if i < linearBuckets {
		return int64(i) + 1
	}
	power, sub := 4+(i-linearBuckets)/subBuckets, int64((i-linearBuckets)%subBuckets)
	return (subBuckets + sub + 1) << (power - 3)
}

func (h *latencyHistogram) record(d time.Duration) {
	h.counts[bucketOf(d.Microseconds())]++
	h.total++
}

// quantile is the end of the bucket that holds the q-th latency (0 < q ≤ 1); 0 when empty.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	rank := int64(q*float64(h.total) + 0.999999) // the ceil of q·total: the rank-th smallest
	var seen int64
	for i, n := range h.counts {
		if seen += n; seen >= rank && n > 0 {
			return time.Duration(bucketEnd(i)) * time.Microsecond
		}
	}
	return 0
}

// heldKey is where a handler leaves how long its request was held waiting (hold).
const heldKey = "wcms.held"

// hold records that c's request waited from since until now for something to answer with (a
// long-poll's command, a stream's events): logRequests leaves that time out of the request's, so
// that a held answer is neither logged as slow nor counted in the latency. It costs the request
// a small map (echo's context store); only held requests pay it.
func hold(c echo.Context, since time.Time) { c.Set(heldKey, time.Since(since)) }

// workTime is how long c's request took from start, less the time it was held.
func workTime(c echo.Context, start time.Time) time.Duration {
	took := time.Since(start)
	if held, ok := c.Get(heldKey).(time.Duration); ok {
		took -= held
	}
	return took
}
