package models

import (
	"context"
	"time"
)

// maxYield bounds how long a batch write waits for urgent ones, so a flush is never starved.
const maxYield = 50 * time.Millisecond

// There is one writer. Writes that a person or an agent is waiting on at this moment (a command
// queued, handed to a long-polling agent, its result) are urgent; batch writes (light-state
// chunks, full heartbeats) yield to them. Under load, queueing behind batch writes was most of a
// command's delivery time.

// urgentWrite marks an urgent write until done is called.
func (s *Store) urgentWrite() (done func()) {
	s.urgent.Add(1)
	return func() { s.urgent.Add(-1) }
}

// yieldToUrgent waits, at most maxYield, until no urgent write is waiting or running.
func (s *Store) yieldToUrgent(ctx context.Context) {
	deadline := time.Now().Add(maxYield)
	for s.urgent.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}
