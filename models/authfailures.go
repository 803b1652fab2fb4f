package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Failed PIN and login attempts live in the database, so that every server instance on it counts
// the same attempts (handlers/limits.go keeps the limits). A key is the limit's kind and what it
// limits, as "pin|10.0.0.5"; it must not hold anything secret.

// authFailure is one failed attempt: failed_at is Unix nanoseconds.
type authFailure struct {
	bun.BaseModel `bun:"table:auth_failures"`
	ID            int64  `bun:"id,pk,autoincrement"`
	LimitKey      string `bun:"limit_key"`
	FailedAt      int64  `bun:"failed_at"`
}

// RecordAuthFailure records a failed attempt for key at at, and drops key's failures from before
// at-window, which no longer count: a key that keeps failing keeps only its window's rows.
func (s *Store) RecordAuthFailure(ctx context.Context, key string, at time.Time, window time.Duration) error {
	if _, err := s.w.NewInsert().Model(&authFailure{LimitKey: key, FailedAt: at.UnixNano()}).Exec(ctx); err != nil {
		return fmt.Errorf("record auth failure: %w", err)
	}
	if _, err := s.w.NewDelete().Model((*authFailure)(nil)).
		Where("limit_key = ? AND failed_at <= ?", key, at.Add(-window).UnixNano()).Exec(ctx); err != nil {
		return fmt.Errorf("record auth failure: drop expired: %w", err)
	}
	return nil
}

// NthAuthFailure returns the time of key's n-th newest failure after since (n ≥ 1); found is
// false when key has fewer than n failures after since.
func (s *Store) NthAuthFailure(ctx context.Context, key string, since time.Time, n int) (at time.Time, found bool, err error) {
	var nanos int64
	err = s.r.NewSelect().Model((*authFailure)(nil)).Column("failed_at").
		Where("limit_key = ? AND failed_at > ?", key, since.UnixNano()).
		OrderExpr("failed_at DESC").Limit(1).Offset(int64(n-1)).Scan(ctx, &nanos)
	if noRows(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("auth failure: %w", err)
	}
	return time.Unix(0, nanos), true, nil
}

// ResetAuthFailures forgets key's failures, as after a successful login.
func (s *Store) ResetAuthFailures(ctx context.Context, key string) error {
	if _, err := s.w.NewDelete().Model((*authFailure)(nil)).Where("limit_key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("reset auth failures: %w", err)
	}
	return nil
}

// PruneAuthFailures deletes at most limit failures from before before and says how many it
// deleted; the caller repeats it while it deletes limit, so each statement stays short.
func (s *Store) PruneAuthFailures(ctx context.Context, before time.Time, limit int) (int, error) {
	s.yieldToUrgent(ctx)
	res, err := s.w.NewDelete().Model((*authFailure)(nil)).Where("id IN (?)",
		s.w.NewSelect().Model((*authFailure)(nil)).Column("id").Where("failed_at < ?", before.UnixNano()).Limit(int64(limit))).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune auth failures: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// LockKey waits until no other server instance on the database holds key's lock, takes it, and
// returns the function that lets it go. Checks that read a limit, check an attempt and count a
// failure take it around those steps, so attempts at several instances at once cannot pass the
// limit together. SQLite has one server process, whose own turns suffice: there it returns at
// once.
//
// On PostgreSQL it is a session advisory lock on a connection of the read pool, held until
// unlock: never the writer's one connection, which the check itself may need (a registration).
// At most half the pool holds locks at once (keyLocks), so the checks' own reads always find a
// connection; otherwise locks held on every connection would wait forever for a connection to
// read with.
func (s *Store) LockKey(ctx context.Context, key string) (unlock func(), err error) {
	if !s.pg {
		return func() {}, nil
	}
	select {
	case s.keyLocks <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("lock key: %w", ctx.Err())
	}
	conn, err := s.r.DB.Conn(ctx)
	if err != nil {
		<-s.keyLocks
		return nil, fmt.Errorf("lock key: %w", err)
	}
	if _, err := conn.ExecContext(ctx, s.bind("SELECT pg_advisory_lock(hashtextextended(?, 0))"), key); err != nil {
		releaseLockConn(conn, err)
		<-s.keyLocks
		return nil, fmt.Errorf("lock key: %w", err)
	}
	return func() {
		// Not ctx: a request that has ended must still let its lock go. Bounded: past the bound
		// the connection is closed, which lets the lock go too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		_, err := conn.ExecContext(ctx, s.bind("SELECT pg_advisory_unlock(hashtextextended(?, 0))"), key)
		releaseLockConn(conn, err)
		<-s.keyLocks
	}, nil
}

// unlockTimeout bounds how long LockKey's unlock waits for the database.
const unlockTimeout = 10 * time.Second

// releaseLockConn returns a locking connection to the pool, or closes it after a failed
// statement: it may still hold its lock, and ending the session surely lets the lock go.
func releaseLockConn(conn *sql.Conn, failed error) {
	if failed != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}
