package ratelimit

import (
	"testing"
	"time"
)

// AllowFirst lets a key with no failure in the window make one attempt, and then none until
// its failures have all left the window; Allow keeps its own limit meanwhile.
func TestAllowFirst(t *testing.T) {
	const window = 10 * time.Minute
	f := NewFailures(3, window, 100)
	steps := []struct {
		name  string
		first bool // AllowFirst, else Allow
		at    time.Duration
		ok    bool
		retry time.Duration
	}{
		{"a clean key gets its one attempt", true, 0, true, 0},
		{"then none", true, time.Minute, false, window - time.Minute},
		{"Allow still has its limit", false, 2 * time.Minute, true, 0},
		{"held until the newest failure leaves", true, 3 * time.Minute, false, window - time.Minute},
		{"clean again", true, window + 2*time.Minute, true, 0},
	}
	for _, st := range steps {
		allow := f.Allow
		if st.first {
			allow = f.AllowFirst
		}
		ok, retry := allow("k", at(st.at))
		if ok != st.ok || retry != st.retry {
			t.Errorf("%s: %v, %v; want %v, %v", st.name, ok, retry, st.ok, st.retry)
		}
		if ok {
			f.Fail("k", at(st.at)) // every attempt here fails
		}
		f.size(t)
	}
}
