package handlers

import (
	"context"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// failureLimit allows at most limit failed attempts per key within window. The failures are
// counted in the database (models/authfailures.go), so every server instance on one database
// sees the same counts: N instances give an attacker no more tries than one.
type failureLimit struct {
	store  *models.Store
	kind   string // what it limits, before its keys in the table: "pin", "login-addr", "login-name"
	limit  int
	window time.Duration
}

// key is the table's key for k.
func (l failureLimit) key(k string) string { return l.kind + "|" + k }

// allow reports whether another attempt may be made for k at now. If not, retryAfter is how long
// until the oldest counted failure leaves the window and one more attempt becomes possible.
func (l failureLimit) allow(ctx context.Context, k string, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	return l.below(ctx, k, now, l.limit)
}

// allowFirst is allow for a key with no failure in the window at all: it allows one attempt,
// then none until every failure of k has left the window, which retryAfter tells.
func (l failureLimit) allowFirst(ctx context.Context, k string, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	return l.below(ctx, k, now, 1)
}

// below reports whether k has fewer than n failures in the window at now; if not, retryAfter is
// how long until it has: until its n-th newest failure leaves the window.
func (l failureLimit) below(ctx context.Context, k string, now time.Time, n int) (ok bool, retryAfter time.Duration, err error) {
	nth, found, err := l.store.NthAuthFailure(ctx, l.key(k), now.Add(-l.window), n)
	if err != nil || !found {
		return err == nil, 0, err
	}
	return false, nth.Add(l.window).Sub(now), nil
}

// fail records a failed attempt for k at now, even when the client has gone meanwhile: its
// attempt was checked.
func (l failureLimit) fail(ctx context.Context, k string, now time.Time) error {
	return l.store.RecordAuthFailure(context.WithoutCancel(ctx), l.key(k), now, l.window)
}

// reset forgets k's failures, as after a successful login.
func (l failureLimit) reset(ctx context.Context, k string) error {
	return l.store.ResetAuthFailures(ctx, l.key(k))
}

// takeTurn waits for key's turn, first in this process (ratelimit.Turns), so a burst from one
// address waits here instead of each taking a database connection, then among every instance on
// the database (models.Store.LockKey). Checks that read a limit, check and count a failure take
// the turn around the three, so attempts in flight at once cannot pass the limit together, while
// right ones that arrive together only wait.
func (s *Server) takeTurn(ctx context.Context, key string) (done func(), err error) {
	ours := s.turns.Take(key)
	unlock, err := s.store.LockKey(ctx, key)
	if err != nil {
		ours()
		return nil, err
	}
	return func() {
		unlock()
		ours()
	}, nil
}

// pruneBatch is how many expired failures one statement deletes (models.PruneAuthFailures).
const pruneBatch = 1000

// pruneFailures deletes the failures that have left the window. A key's own are deleted when it
// fails again (models.RecordAuthFailure); these are the keys that stopped failing.
func (s *Server) pruneFailures(ctx context.Context, now time.Time) {
	for {
		n, err := s.store.PruneAuthFailures(ctx, now.Add(-s.cfg.FailureWindow), pruneBatch)
		if err != nil {
			s.log.Warn("prune failed attempts", "err", err)
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
