package ratelimit

import (
	"sync"
	"testing"
	"time"
)

// With the key's turn around reading a count of failures and adding to it, attempts in flight
// at once pass the limit no more often than it allows; other keys do not wait; nothing is kept
// once the attempts are done.
func TestTurns(t *testing.T) {
	const limit, attempts = 10, 200
	turns := NewTurns()
	failures, checked := 0, 0 // guarded by the key's turn alone: -race tells if it is not
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() {
			done := turns.Take("10.0.0.1")
			defer done()
			if failures >= limit {
				return
			}
			checked++
			time.Sleep(time.Millisecond) // the check: a PIN lookup
			failures++
		})
	}
	// Another key takes its turn while the first is busy.
	got := make(chan struct{})
	go func() { turns.Take("10.0.0.2")(); close(got) }()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("another key waited for the first")
	}
	wg.Wait()
	if checked != limit {
		t.Fatalf("%d of %d concurrent wrong attempts checked, want %d", checked, attempts, limit)
	}
	turns.mu.Lock()
	defer turns.mu.Unlock()
	if len(turns.keys) != 0 {
		t.Fatalf("%d keys kept after every attempt ended", len(turns.keys))
	}
}
