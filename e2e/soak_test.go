package e2e

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// metric reads one value from the server's /metrics.
func (s *server) metric(name string) float64 {
	s.t.Helper()
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			return v
		}
	}
	s.t.Fatalf("no %s in /metrics", name)
	return 0
}

type sample struct {
	at                  time.Duration
	goroutines, fds     float64
	rssMB, heapMB, subs float64
}

func (s *server) sample(since time.Time) sample {
	return sample{at: time.Since(since).Round(time.Second), goroutines: s.metric("go_goroutines"),
		fds: s.metric("process_open_fds"), rssMB: s.metric("process_resident_memory_bytes") / (1 << 20),
		heapMB: s.metric("go_memstats_heap_inuse_bytes") / (1 << 20), subs: s.metric("wcms_event_subscribers")}
}

// TestSoak is a load run (`make bench-soak`, WCMS_SOAK=30m by default there): 2,000 agents poll
// while dashboard streams connect and leave all the time; afterwards the server's goroutines,
// file descriptors and heap must be back at their baseline.
func TestSoak(t *testing.T) {
	length, err := time.ParseDuration(os.Getenv("WCMS_SOAK"))
	if err != nil {
		t.Skip("a long run; `make bench-soak` (or WCMS_SOAK=5m) runs it")
	}
	const agents, streams = 2000, 20
	srv := startServer(t)
	runAgents(t, srv, agents, "SOAK", 100*time.Millisecond, slog.New(slog.DiscardHandler), &herdExecutor{runs: map[int64]int{}})
	waitFor(t, "all agents online", 120*time.Second, func() bool { return len(srv.pcs()) == agents })
	time.Sleep(10 * time.Second)
	start := time.Now()
	base := srv.sample(start)

	// Browsers come and go: each stays 1–20 s, about `streams` at a time.
	churn, stopChurn := context.WithCancel(context.Background())
	defer stopChurn()
	var cwg sync.WaitGroup
	opened := 0
	for range streams {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			client, _, _ := srv.signIn()
			// Idle keep-alive connections would hold server goroutines until its idle timeout.
			defer client.CloseIdleConnections()
			for churn.Err() == nil {
				sctx, scancel := context.WithTimeout(churn, time.Duration(1+rand.IntN(20))*time.Second)
				req, _ := http.NewRequestWithContext(sctx, "GET", srv.URL+"/stream?room=", nil)
				if res, err := client.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				scancel()
			}
		}()
		opened++
	}
	var curve []sample
	for time.Since(start) < length {
		time.Sleep(min(30*time.Second, length/10))
		curve = append(curve, srv.sample(start))
	}
	stopChurn()
	cwg.Wait()
	time.Sleep(10 * time.Second)
	end := srv.sample(start)
	t.Logf("baseline  %+v", base)
	for _, s := range curve {
		t.Logf("during    %+v", s)
	}
	t.Logf("after     %+v", end)
	if end.goroutines > base.goroutines+10 || end.fds > base.fds+10 || end.subs != 0 {
		t.Errorf("after the browsers left: goroutines %v (baseline %v), fds %v (baseline %v), subscribers %v",
			end.goroutines, base.goroutines, end.fds, base.fds, end.subs)
	}
	if end.heapMB > base.heapMB*1.5+20 {
		t.Errorf("heap in use %.0f MB after the run, %.0f MB at the start", end.heapMB, base.heapMB)
	}
}
