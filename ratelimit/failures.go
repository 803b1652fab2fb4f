// Package ratelimit limits failed attempts per key, so that secrets with few
// possible values (six-digit registration PINs, passwords) cannot be walked.
package ratelimit

import (
	"strings"
	"sync"
	"time"
)

// Failures counts failed attempts per key (a source IP, a username) in a
// sliding window and refuses further attempts once a key reaches the limit.
//
// Memory is bounded by maxKeys. When the table is full, a new key evicts the
// least recently failed key; keys whose failures have all expired are always
// the least recently failed, so they go first. Without the bound, an attacker
// rotating source addresses would grow the table without end; with it, such an
// attacker can at worst push out other keys' records, which costs them as much
// effort as it gains, and the per-username key still holds.
//
// Allow and Fail are separate calls, so concurrent attempts for one key may
// all pass Allow before any Fail is recorded; the overshoot is bounded by the
// number of attempts in flight at once. Callers that must not overshoot take
// the key's turn around the check and the count (Turns).
//
// A Failures is safe for concurrent use.
type Failures struct {
	limit   int
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*entry
	// Doubly linked list of entries, most recently failed at head. Fail moves
	// an entry to the head, so the tail is the eviction candidate.
	head, tail *entry
}

// entry is one key's record.
type entry struct {
	key string
	// fails holds the times of the most recent failures, oldest first, at
	// most limit of them: only the newest limit can decide whether the key
	// is locked out, and they say when it will be free again. Unix
	// nanoseconds rather than time.Time: a third of the size.
	fails      []int64
	prev, next *entry
}

// NewFailures returns a limiter that allows at most limit failures per key
// within window, tracking at most maxKeys keys. It panics if any argument is
// not positive, as that is a programming error.
func NewFailures(limit int, window time.Duration, maxKeys int) *Failures {
	if limit <= 0 || window <= 0 || maxKeys <= 0 {
		panic("ratelimit: NewFailures needs a positive limit, window and maxKeys")
	}
	return &Failures{
		limit:   limit,
		window:  window,
		maxKeys: maxKeys,
		keys:    make(map[string]*entry),
	}
}

// Allow reports whether another attempt may be made for key at now. If not,
// retryAfter is how long until the oldest counted failure leaves the window
// and one more attempt becomes possible.
func (f *Failures) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.below(key, now, f.limit)
}

// AllowFirst is Allow for a key with no failure in the window at all: it
// allows one attempt, then none until every failure of key has left the
// window, which retryAfter tells.
func (f *Failures) AllowFirst(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.below(key, now, 1)
}

// below reports whether key has fewer than limit (at most f.limit) failures
// at now; if not, retryAfter is how long until it has. f.mu must be held.
func (f *Failures) below(key string, now time.Time, limit int) (ok bool, retryAfter time.Duration) {
	e := f.keys[key]
	if e == nil {
		return true, 0
	}
	f.expire(e, now)
	if len(e.fails) == 0 {
		// Nothing counts any more: free the slot now rather than waiting
		// for eviction.
		f.remove(e)
		return true, 0
	}
	if len(e.fails) < limit {
		return true, 0
	}
	// Below limit once this failure, and all before it, have left the window.
	return false, time.Duration(e.fails[len(e.fails)-limit] + int64(f.window) - now.UnixNano())
}

// Fail records one failed attempt for key at now.
func (f *Failures) Fail(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.keys[key]
	if e == nil {
		if len(f.keys) >= f.maxKeys {
			f.evict(now)
		}
		// A copy: key may be a slice of a much larger request string, which
		// the table must not keep alive.
		e = &entry{key: strings.Clone(key), fails: make([]int64, 0, f.limit)}
		f.keys[e.key] = e
	} else {
		f.unlink(e)
		f.expire(e, now)
	}
	f.pushFront(e)
	if len(e.fails) == f.limit {
		// Keep the newest limit: drop the oldest in place.
		copy(e.fails, e.fails[1:])
		e.fails = e.fails[:f.limit-1]
	}
	e.fails = append(e.fails, now.UnixNano())
}

// Reset forgets key, as after a successful login.
func (f *Failures) Reset(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.keys[key]; e != nil {
		f.remove(e)
	}
}

// expire drops e's failures that have left the window at now.
func (f *Failures) expire(e *entry, now time.Time) {
	cutoff := now.UnixNano() - int64(f.window)
	n := 0
	for n < len(e.fails) && e.fails[n] <= cutoff {
		n++
	}
	if n > 0 {
		e.fails = e.fails[:copy(e.fails, e.fails[n:])]
	}
}

// evict makes room for one key. It drops every key at the tail whose
// failures have all expired (their newest failure is out of the window), and
// if there was none, the least recently failed key.
func (f *Failures) evict(now time.Time) {
	cutoff := now.UnixNano() - int64(f.window)
	f.remove(f.tail)
	for f.tail != nil && f.tail.fails[len(f.tail.fails)-1] <= cutoff {
		f.remove(f.tail)
	}
}

func (f *Failures) remove(e *entry) {
	f.unlink(e)
	delete(f.keys, e.key)
}

func (f *Failures) pushFront(e *entry) {
	e.prev, e.next = nil, f.head
	if f.head != nil {
		f.head.prev = e
	} else {
		f.tail = e
	}
	f.head = e
}

func (f *Failures) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		f.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		f.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
