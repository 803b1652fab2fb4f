package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// at is a moment relative to t0, to keep the tables short.
func at(d time.Duration) time.Time { return t0.Add(d) }

// size reports how many keys are tracked, checking that the map and the list
// agree, so a bookkeeping slip shows up in any test that calls it.
func (f *Failures) size(t *testing.T) int {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	var prev *entry
	for e := f.head; e != nil; e = e.next {
		if e.prev != prev {
			t.Fatalf("list broken at %q", e.key)
		}
		if f.keys[e.key] != e {
			t.Fatalf("listed key %q not in the map", e.key)
		}
		if len(e.fails) == 0 || len(e.fails) > f.limit {
			t.Fatalf("key %q holds %d failures, want 1..%d", e.key, len(e.fails), f.limit)
		}
		prev = e
		n++
	}
	if prev != f.tail {
		t.Fatal("tail does not end the list")
	}
	if n != len(f.keys) {
		t.Fatalf("list has %d keys, map has %d", n, len(f.keys))
	}
	return n
}

// step is one call in a scenario: a Fail, a Reset, or an Allow with the
// expected answer.
type step struct {
	op    string // "fail", "reset" or "allow"
	key   string
	at    time.Duration
	ok    bool          // for allow
	retry time.Duration // for allow
}

func fail(key string, d time.Duration) step { return step{op: "fail", key: key, at: d} }
func reset(key string) step                 { return step{op: "reset", key: key} }
func allowed(key string, d time.Duration) step {
	return step{op: "allow", key: key, at: d, ok: true}
}
func refused(key string, d, retry time.Duration) step {
	return step{op: "allow", key: key, at: d, ok: false, retry: retry}
}

func TestFailures(t *testing.T) {
	const window = 10 * time.Minute
	tests := []struct {
		name    string
		limit   int
		maxKeys int
		steps   []step
	}{
		{
			name:  "allows up to the limit, refuses after",
			limit: 3, maxKeys: 100,
			steps: []step{
				allowed("a", 0),
				fail("a", 0),
				allowed("a", time.Second),
				fail("a", time.Second),
				allowed("a", 2*time.Second),
				fail("a", 2*time.Second),
				refused("a", 2*time.Second, window-2*time.Second),
				refused("a", 5*time.Minute, 5*time.Minute),
			},
		},
		{
			name:  "retryAfter counts from the oldest counted failure",
			limit: 2, maxKeys: 100,
			steps: []step{
				fail("a", 0),
				fail("a", 4*time.Minute),
				refused("a", 4*time.Minute, 6*time.Minute),
				refused("a", window-time.Nanosecond, time.Nanosecond),
				// The first failure has left the window: one more attempt.
				allowed("a", window),
				fail("a", window),
				// Now the 4-minute failure is the oldest counted.
				refused("a", window, 4*time.Minute),
				allowed("a", window+4*time.Minute),
			},
		},
		{
			name:  "recovers once the whole window has slid past",
			limit: 2, maxKeys: 100,
			steps: []step{
				fail("a", 0),
				fail("a", time.Minute),
				refused("a", time.Minute, 9*time.Minute),
				allowed("a", window+time.Minute),
				// A fresh window: the old failures no longer count.
				fail("a", window+time.Minute),
				allowed("a", window+time.Minute),
				fail("a", window+2*time.Minute),
				refused("a", window+2*time.Minute, 9*time.Minute),
			},
		},
		{
			name:  "failures beyond the limit keep the newest",
			limit: 2, maxKeys: 100,
			steps: []step{
				fail("a", 0),
				fail("a", time.Minute),
				fail("a", 2*time.Minute),
				fail("a", 3*time.Minute),
				// Counted: 2m and 3m, so free at 12m.
				refused("a", 3*time.Minute, 9*time.Minute),
				refused("a", 12*time.Minute-time.Nanosecond, time.Nanosecond),
				allowed("a", 12*time.Minute),
			},
		},
		{
			name:  "reset forgets a key",
			limit: 2, maxKeys: 100,
			steps: []step{
				fail("a", 0),
				fail("a", 0),
				refused("a", 0, window),
				reset("a"),
				allowed("a", 0),
				fail("a", 0),
				allowed("a", 0),
				reset("never-seen"),
			},
		},
		{
			name:  "keys are independent",
			limit: 1, maxKeys: 100,
			steps: []step{
				fail("10.0.0.1", 0),
				refused("10.0.0.1", 0, window),
				allowed("10.0.0.2", 0),
				fail("10.0.0.2", time.Minute),
				refused("10.0.0.2", time.Minute, window),
				reset("10.0.0.1"),
				allowed("10.0.0.1", time.Minute),
				refused("10.0.0.2", time.Minute, window),
			},
		},
		{
			name:  "when full, keys with only expired failures go first",
			limit: 1, maxKeys: 3,
			steps: []step{
				fail("old", 0),
				fail("b", 8*time.Minute),
				fail("c", 9*time.Minute),
				// At 12m "old" has expired; "b" and "c" still count.
				fail("d", 12*time.Minute),
				refused("b", 12*time.Minute, 6*time.Minute),
				refused("c", 12*time.Minute, 7*time.Minute),
				refused("d", 12*time.Minute, window),
			},
		},
		{
			name:  "when full of live keys, the least recently failed goes",
			limit: 2, maxKeys: 3,
			steps: []step{
				fail("a", 0),
				fail("a", 0),
				fail("b", time.Minute),
				fail("b", time.Minute),
				fail("c", 2*time.Minute),
				fail("c", 2*time.Minute),
				// "a" was added first but fails again now, so "b" is
				// the least recently failed.
				fail("a", 3*time.Minute),
				fail("d", 4*time.Minute),
				allowed("b", 4*time.Minute),
				refused("a", 4*time.Minute, 6*time.Minute),
				refused("c", 4*time.Minute, 8*time.Minute),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFailures(tt.limit, window, tt.maxKeys)
			for i, st := range tt.steps {
				switch st.op {
				case "fail":
					f.Fail(st.key, at(st.at))
				case "reset":
					f.Reset(st.key)
				case "allow":
					ok, retry := f.Allow(st.key, at(st.at))
					if ok != st.ok || retry != st.retry {
						t.Errorf("step %d: Allow(%q, +%v) = %v, %v; want %v, %v",
							i, st.key, st.at, ok, retry, st.ok, st.retry)
					}
				}
				if n := f.size(t); n > tt.maxKeys {
					t.Fatalf("step %d: %d keys tracked, max %d", i, n, tt.maxKeys)
				}
			}
		})
	}
}

// An attacker rotating source addresses must not grow memory without end.
func TestMaxKeysBound(t *testing.T) {
	tests := []struct {
		name string
		step time.Duration // time between failures
	}{
		{"all failures live", time.Microsecond},
		{"older failures expiring", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const (
				keys    = 1_000_000
				maxKeys = 1000
				limit   = 5
			)
			window := 10 * time.Minute
			f := NewFailures(limit, window, maxKeys)
			now := t0
			for i := range keys {
				f.Fail(strconv.Itoa(i), now)
				now = now.Add(tt.step)
			}
			if n := f.size(t); n > maxKeys {
				t.Fatalf("%d keys tracked after %d distinct keys, want <= %d", n, keys, maxKeys)
			}
			// The newest key is kept and still counted.
			last := strconv.Itoa(keys - 1)
			for range limit - 1 {
				f.Fail(last, now)
			}
			if ok, _ := f.Allow(last, now); ok {
				t.Errorf("Allow(%q) = true after %d failures, want false", last, limit)
			}
		})
	}
}

func TestNewFailuresRejectsBadArguments(t *testing.T) {
	tests := []struct {
		limit   int
		window  time.Duration
		maxKeys int
	}{
		{0, time.Minute, 10},
		{1, 0, 10},
		{1, time.Minute, 0},
		{-1, -time.Minute, -1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit, tt.window, tt.maxKeys), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewFailures did not panic")
				}
			}()
			NewFailures(tt.limit, tt.window, tt.maxKeys)
		})
	}
}

// Concurrent callers on shared and private keys, under -race. Every
// goroutine records its failures at one moment, so the shared key must end
// locked out and each private key exactly at its count.
func TestConcurrentUse(t *testing.T) {
	const (
		workers = 16
		rounds  = 2000
		limit   = 5
	)
	f := NewFailures(limit, time.Minute, 64)
	end := t0.Add(rounds * time.Millisecond)

	// Phase one: churn through many keys, forcing evictions.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				f.Allow("shared", now)
				f.Fail("shared", now)
				f.Fail(fmt.Sprintf("churn-%d-%d", w, i), now)
				if i%100 == 0 {
					f.Reset("shared")
				}
			}
		})
	}
	wg.Wait()

	// Phase two: fewer keys than maxKeys, so nothing here is evicted and
	// every recorded failure must count.
	for w := range workers {
		wg.Go(func() {
			private := fmt.Sprintf("worker-%d", w)
			for range limit - 1 {
				f.Allow(private, end)
				f.Fail(private, end)
			}
		})
	}
	wg.Wait()

	if n := f.size(t); n > 64 {
		t.Errorf("%d keys tracked, want <= 64", n)
	}
	for w := range workers {
		key := fmt.Sprintf("worker-%d", w)
		if ok, _ := f.Allow(key, end); !ok {
			t.Errorf("Allow(%q) = false after %d of %d failures", key, limit-1, limit)
		}
		f.Fail(key, end)
		if ok, retry := f.Allow(key, end); ok || retry != time.Minute {
			t.Errorf("Allow(%q) = %v, %v after %d failures; want false, 1m", key, ok, retry, limit)
		}
	}
}
