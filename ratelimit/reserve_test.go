package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// However many attempts run at once, Reserve lets at most limit of them through.
func TestReserveBoundsConcurrentAttempts(t *testing.T) {
	const limit, attempts = 10, 500
	f := NewFailures(limit, time.Minute, 100)
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() {
			if ok, _ := f.Reserve("10.0.0.1", t0); ok {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != limit {
		t.Fatalf("%d of %d concurrent attempts passed, want %d", n, attempts, limit)
	}
	if ok, retry := f.Reserve("10.0.0.1", t0.Add(time.Second)); ok || retry != time.Minute-time.Second {
		t.Fatalf("Reserve after the limit = %v, %v; want false, 59s", ok, retry)
	}
	f.Reset("10.0.0.1") // a success undoes the reservations
	if ok, _ := f.Reserve("10.0.0.1", t0.Add(time.Second)); !ok {
		t.Fatal("Reserve after Reset refused")
	}
}

func TestReserveFirst(t *testing.T) {
	const window = 10 * time.Minute
	f := NewFailures(3, window, 100)
	steps := []struct {
		name  string
		first bool // ReserveFirst, else Reserve
		at    time.Duration
		ok    bool
		retry time.Duration
	}{
		{"a clean key gets its one attempt", true, 0, true, 0},
		{"then none", true, time.Minute, false, window - time.Minute},
		{"Reserve still has its limit", false, 2 * time.Minute, true, 0},
		{"held until the newest failure leaves", true, 3 * time.Minute, false, window - time.Minute},
		{"clean again", true, window + 2*time.Minute, true, 0},
	}
	for _, st := range steps {
		reserve := f.Reserve
		if st.first {
			reserve = f.ReserveFirst
		}
		if ok, retry := reserve("k", at(st.at)); ok != st.ok || retry != st.retry {
			t.Errorf("%s: %v, %v; want %v, %v", st.name, ok, retry, st.ok, st.retry)
		}
		f.size(t)
	}
}
