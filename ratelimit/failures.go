// Package ratelimit limits failed attempts per key (a source address, a username), so secrets
// with few values, like 6-digit PINs, cannot be walked.
package ratelimit

import (
	"sync"
	"time"
)

// Failures counts failed attempts per key in a sliding window.
type Failures struct {
	limit   int
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string][]time.Time // failure times inside the window, oldest first
}

// NewFailures allows limit failures per key within window, remembering at most maxKeys keys.
func NewFailures(limit int, window time.Duration, maxKeys int) *Failures {
	return &Failures{limit: limit, window: window, maxKeys: maxKeys, keys: map[string][]time.Time{}}
}

// Allow reports whether another attempt may be made, and if not, when.
func (f *Failures) Allow(key string, now time.Time) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := f.prune(key, now)
	if len(ts) < f.limit {
		return true, 0
	}
	return false, ts[0].Add(f.window).Sub(now)
}

// Fail records one failed attempt.
func (f *Failures) Fail(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := f.prune(key, now)
	if ts == nil && len(f.keys) >= f.maxKeys {
		f.evict(now)
	}
	if len(ts) >= f.limit {
		ts = ts[1:]
	}
	f.keys[key] = append(ts, now)
}

// Reset forgets a key (a successful login).
func (f *Failures) Reset(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, key)
}

// prune drops the key's failures that left the window.
func (f *Failures) prune(key string, now time.Time) []time.Time {
	ts := f.keys[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= f.window {
		i++
	}
	if i == len(ts) {
		delete(f.keys, key)
		return nil
	}
	ts = ts[i:]
	f.keys[key] = ts
	return ts
}

// evict makes room for a new key: an attacker rotating addresses must not grow memory without
// end. Expired keys go first; failing that, the key whose last failure is oldest.
func (f *Failures) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, ts := range f.keys {
		last := ts[len(ts)-1]
		if now.Sub(last) >= f.window {
			delete(f.keys, k)
			continue
		}
		if oldestKey == "" || last.Before(oldest) {
			oldestKey, oldest = k, last
		}
	}
	if len(f.keys) >= f.maxKeys {
		delete(f.keys, oldestKey)
	}
}
