// Package ratelimit keeps attempts at a secret with few possible values (six-digit registration
// PINs, passwords) in turns, so that a limit on failed attempts cannot be passed by attempts in
// flight at once. The failures themselves are counted in the database (handlers/limits.go).
package ratelimit

import "sync"

// Turns lets one attempt per key run at a time. A limit read before a check and counted after
// it can be passed by attempts in flight at once; taking the key's turn around the read, the
// check and the count makes them one step. Unlike counting an attempt before it is made, it
// never refuses right attempts that merely arrive together (a room of PCs behind one address
// enrolling at once): they wait their turn instead.
//
// Memory: a key has an entry only while attempts for it run or wait, so the table is bounded
// by the requests in flight.
type Turns struct {
	mu   sync.Mutex
	keys map[string]*turn
}

type turn struct {
	sync.Mutex
	users int // attempts running or waiting; guarded by Turns.mu
}

// NewTurns returns an empty Turns.
func NewTurns() *Turns { return &Turns{keys: map[string]*turn{}} }

// Take waits for key's turn; the returned function ends it.
func (t *Turns) Take(key string) (done func()) {
	t.mu.Lock()
	k := t.keys[key]
	if k == nil {
		k = &turn{}
		t.keys[key] = k
	}
	k.users++
	t.mu.Unlock()
	k.Lock()
	return func() {
		k.Unlock()
		t.mu.Lock()
		if k.users--; k.users == 0 {
			delete(t.keys, key)
		}
		t.mu.Unlock()
	}
}
