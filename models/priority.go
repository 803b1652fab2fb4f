package models

import (
	"context"
	"sync"
	"time"
)

// maxYield bounds how long a batch write waits for urgent ones, so a flush is never starved.
const maxYield = 50 * time.Millisecond

// There is one writer. Writes that a person or an agent is waiting on at this moment (a command
// queued, handed to a long-polling agent, its result) are urgent; batch writes (light-state
// chunks, full heartbeats) yield to them. Under load, queueing behind batch writes was most of a
// command's delivery time.

// priority counts the urgent writes waiting or running.
type priority struct {
	mu     sync.Mutex
	urgent int
	idle   chan struct{} // closed when urgent drops to 0; nil before the first urgent write
}

// urgentWrite marks an urgent write until done is called.
func (s *Store) urgentWrite() (done func()) {
	p := &s.prio
	p.mu.Lock()
	if p.urgent == 0 {
		p.idle = make(chan struct{})
	}
	p.urgent++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if p.urgent--; p.urgent == 0 {
			close(p.idle)
		}
		p.mu.Unlock()
	}
}

// yieldToUrgent waits, at most maxYield, until no urgent write is waiting or running; it wakes
// when the last one ends.
func (s *Store) yieldToUrgent(ctx context.Context) {
	p := &s.prio
	p.mu.Lock()
	idle, busy := p.idle, p.urgent > 0
	p.mu.Unlock()
	if !busy {
		return
	}
	t := time.NewTimer(maxYield)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
}
