package models

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
)

func TestAuthFailures(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	const window = 10 * time.Minute
	// recent lists key's newest failures after since, newest first, at most n, one NthAuthFailure
	// after another.
	recent := func(key string, since time.Time, n int) []time.Duration {
		t.Helper()
		var got []time.Duration
		for i := 1; i <= n; i++ {
			at, found, err := s.NthAuthFailure(ctx, key, since, i)
			if err != nil {
				t.Fatal(err)
			}
			if !found {
				break
			}
			got = append(got, at.Sub(t0))
		}
		return got
	}
	record := func(key string, at time.Duration) {
		t.Helper()
		if err := s.RecordAuthFailure(ctx, key, t0.Add(at), window); err != nil {
			t.Fatal(err)
		}
	}
	want := func(got []time.Duration, want ...time.Duration) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	for _, at := range []time.Duration{0, time.Minute, 2 * time.Minute, 3*time.Minute + time.Nanosecond} {
		record("pin|10.0.0.1", at)
	}
	record("pin|10.0.0.2", time.Minute)
	want(recent("pin|10.0.0.1", t0, 10), 3*time.Minute+time.Nanosecond, 2*time.Minute, time.Minute) // after since, exact
	want(recent("pin|10.0.0.1", t0, 2), 3*time.Minute+time.Nanosecond, 2*time.Minute)               // newest n
	want(recent("pin|10.0.0.9", t0.Add(-time.Hour), 10))                                            // none

	// A new failure drops its key's failures that have left the window, and only its key's.
	record("pin|10.0.0.1", window+time.Minute)
	want(recent("pin|10.0.0.1", t0.Add(-time.Hour), 10), window+time.Minute, 3*time.Minute+time.Nanosecond, 2*time.Minute)
	want(recent("pin|10.0.0.2", t0.Add(-time.Hour), 10), time.Minute)

	if err := s.ResetAuthFailures(ctx, "pin|10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	want(recent("pin|10.0.0.1", t0.Add(-time.Hour), 10))
	want(recent("pin|10.0.0.2", t0.Add(-time.Hour), 10), time.Minute)

	// Pruning goes in batches and keeps what is newer than its cutoff.
	for i := range 25 {
		record(fmt.Sprint("login-addr|10.0.1.", i), time.Duration(i)*time.Second)
	}
	var batches []int
	for {
		n, err := s.PruneAuthFailures(ctx, t0.Add(20*time.Second), 8)
		if err != nil {
			t.Fatal(err)
		}
		if batches = append(batches, n); n < 8 {
			break
		}
	}
	// Before the cutoff: the failures at 0s to 19s; those at 20s to 24s and 1m stay.
	if !slices.Equal(batches, []int{8, 8, 4}) {
		t.Fatalf("pruned in batches of %v, want [8 8 4]", batches)
	}
	want(recent("login-addr|10.0.1.20", t0.Add(-time.Hour), 10), 20*time.Second)
	want(recent("login-addr|10.0.1.19", t0.Add(-time.Hour), 10))
	want(recent("pin|10.0.0.2", t0.Add(-time.Hour), 10), time.Minute)
}

// LockKey holds a key against other instances on one PostgreSQL database, and only that key;
// the locks never take the connections the checks read with; a wait given up leaks no lock.
func TestLockKey(t *testing.T) {
	if !testdb.Postgres() {
		s := openTest(t)
		unlock, err := s.LockKey(context.Background(), "pin|10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		unlock()
		t.Skip("SQLite: one process, whose own turns suffice; LockKey returns at once")
	}
	dsn := testdb.DSN(t)
	open := func() *Store {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lock := func(s *Store, key string) <-chan func() {
		got := make(chan func(), 1)
		go func() {
			unlock, err := s.LockKey(ctx, key)
			if err != nil {
				t.Error(err)
				close(got)
				return
			}
			got <- unlock
		}()
		return got
	}
	waiting := func(got <-chan func()) bool {
		select {
		case unlock := <-got:
			unlock()
			return false
		case <-time.After(200 * time.Millisecond):
			return true
		}
	}

	unlockA := <-lock(a, "pin|10.0.0.1")
	other := lock(b, "pin|10.0.0.2")
	if waiting(other) {
		t.Fatal("another key waited for a held one")
	}
	same := lock(b, "pin|10.0.0.1")
	if !waiting(same) {
		t.Fatal("the other instance took a held key")
	}
	unlockA()
	select {
	case unlock := <-same:
		unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("the key was not free after unlock")
	}

	// Every lock slot held: reads still find a connection.
	var unlocks []func()
	for i := range cap(a.keyLocks) {
		unlocks = append(unlocks, <-lock(a, fmt.Sprint("pin|10.0.2.", i)))
	}
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, _, err := a.NthAuthFailure(readCtx, "pin|10.0.0.1", time.Time{}, 10); err != nil {
		t.Fatalf("a read with every lock slot held: %v", err)
	}
	for _, unlock := range unlocks {
		unlock()
	}

	// A wait given up (the request ended) leaves no lock behind.
	unlockB := <-lock(b, "pin|10.0.0.3")
	giveUp, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := a.LockKey(giveUp, "pin|10.0.0.3"); err == nil {
		t.Fatal("LockKey took a held key")
	}
	unlockB()
	if waiting(lock(b, "pin|10.0.0.3")) {
		t.Fatal("the key stayed locked after a wait was given up")
	}
}
