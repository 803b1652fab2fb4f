package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
)

// The limits' answers, waits exact to the nanosecond, as they are read from the database.
func TestFailureLimit(t *testing.T) {
	const window = 10 * time.Minute
	t0 := time.Date(2026, 12, 5, 3, 4, 5, 0, time.UTC)
	type step struct {
		op    string // "fail", "reset", "allow" or "first" (allowFirst)
		key   string
		at    time.Duration
		ok    bool
		retry time.Duration
	}
	fail := func(key string, at time.Duration) step { return step{op: "fail", key: key, at: at} }
	allowed := func(key string, at time.Duration) step { return step{op: "allow", key: key, at: at, ok: true} }
	refused := func(key string, at, retry time.Duration) step { return step{"allow", key, at, false, retry} }
	tests := []struct {
		name  string
		limit int
		steps []step
	}{
		{"allows up to the limit, refuses after", 3, []step{
			allowed("a", 0), fail("a", 0),
			allowed("a", time.Second), fail("a", time.Second),
			allowed("a", 2*time.Second), fail("a", 2*time.Second),
			refused("a", 2*time.Second, window-2*time.Second),
			refused("a", 5*time.Minute, 5*time.Minute),
		}},
		{"the wait counts from the oldest counted failure", 2, []step{
			fail("a", 0), fail("a", 4*time.Minute),
			refused("a", 4*time.Minute, 6*time.Minute),
			refused("a", window-time.Nanosecond, time.Nanosecond),
			allowed("a", window), // the first has left the window
			fail("a", window),
			refused("a", window, 4*time.Minute), // now the 4-minute one is the oldest counted
			allowed("a", window+4*time.Minute),
		}},
		{"failures beyond the limit: the newest count", 2, []step{
			fail("a", 0), fail("a", time.Minute), fail("a", 2*time.Minute), fail("a", 3*time.Minute),
			refused("a", 3*time.Minute, 9*time.Minute),
			allowed("a", 12*time.Minute),
		}},
		{"reset forgets a key, and only it", 2, []step{
			fail("a", 0), fail("a", 0), fail("b", 0), fail("b", 0),
			{op: "reset", key: "a"},
			allowed("a", 0), refused("b", 0, window),
		}},
		{"allowFirst: one attempt for a clean key, then none until its failures have left", 3, []step{
			{op: "first", key: "a", ok: true}, fail("a", 0),
			{op: "first", key: "a", at: time.Minute, retry: window - time.Minute},
			allowed("a", 2*time.Minute), fail("a", 2*time.Minute), // allow keeps its own limit
			{op: "first", key: "a", at: 3 * time.Minute, retry: window - time.Minute},
			{op: "first", key: "a", at: window + 2*time.Minute, ok: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := migrated(t)
			l := failureLimit{store, "pin", tt.limit, window}
			other := failureLimit{store, "login-addr", tt.limit, window} // another kind, same keys
			for i, st := range tt.steps {
				now := t0.Add(st.at)
				switch st.op {
				case "fail":
					must(t, l.fail(ctx, st.key, now))
				case "reset":
					must(t, l.reset(ctx, st.key))
				default:
					check := l.allow
					if st.op == "first" {
						check = l.allowFirst
					}
					ok, retry, err := check(ctx, st.key, now)
					if err != nil {
						t.Fatal(err)
					}
					if ok != st.ok || retry != st.retry {
						t.Errorf("step %d: %s(%q, +%v) = %v, %v; want %v, %v", i, st.op, st.key, st.at, ok, retry, st.ok, st.retry)
					}
				}
				if ok, _, err := other.allowFirst(ctx, st.key, now); !ok || err != nil {
					t.Fatalf("step %d: another kind's key %q is held: %v", i, st.key, err)
				}
			}
		})
	}
}

// pruneFailures deletes every failure that has left the window, however many batches it takes,
// and keeps the rest.
func TestPruneFailures(t *testing.T) {
	ctx := context.Background()
	store := migrated(t)
	const window = 10 * time.Minute
	now := time.Now()
	l := failureLimit{store, "pin", 1, window}
	old := 2*pruneBatch + 1 // three batches
	for i := range old {
		must(t, l.fail(ctx, fmt.Sprint("10.0.", i/256, ".", i%256), now.Add(-window-time.Second)))
	}
	must(t, l.fail(ctx, "10.9.9.9", now.Add(-window+time.Second)))
	s := &Server{store: store, cfg: Config{FailureWindow: window}, log: slog.New(slog.DiscardHandler)}
	s.pruneFailures(ctx, now)
	for _, key := range []string{"pin|10.0.0.0", "pin|10.0.7.208", "pin|10.9.9.9"} {
		_, found, err := store.NthAuthFailure(ctx, key, time.Time{}, 1)
		must(t, err)
		if want := key == "pin|10.9.9.9"; found != want {
			t.Errorf("%s: a failure found %v after pruning, want %v", key, found, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// migrated is a fresh, migrated store for t.
func migrated(t *testing.T) *models.Store {
	t.Helper()
	store, err := models.Open(context.Background(), testdb.DSN(t))
	must(t, err)
	t.Cleanup(func() { store.Close() })
	_, err = store.Migrate(context.Background())
	must(t, err)
	return store
}
