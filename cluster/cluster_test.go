package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/internal/testdb"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Every payload stays under PostgreSQL's 8,000 bytes and holds whole changes, in order.
func TestEncodeSplitsUnderTheLimit(t *testing.T) {
	b := New("", quiet())
	var cs []fleet.Change
	for i := range 5000 {
		cpu, ram := float64(i%100)+0.5, 42.25
		cs = append(cs, fleet.Change{Kind: fleet.ChangeBeat, ID: int64(100000 + i), CPU: &cpu, RAM: &ram, At: 1765000000000 + int64(i)})
	}
	cs = append(cs, fleet.Change{Kind: fleet.ChangeRoom, ID: 7, Room: strings.Repeat("강", 64)})
	payloads, err := b.encode(cs)
	if err != nil {
		t.Fatal(err)
	}
	var got []fleet.Change
	for _, p := range payloads {
		if len(p) > 8000 {
			t.Fatalf("payload of %d bytes", len(p))
		}
		from, body, _ := strings.Cut(p, "\n")
		if from != b.id {
			t.Fatalf("payload from %q, want %q", from, b.id)
		}
		var part []fleet.Change
		if err := json.Unmarshal([]byte(body), &part); err != nil {
			t.Fatal(err)
		}
		got = append(got, part...)
	}
	if len(got) != len(cs) || got[4999].ID != 104999 || got[5000].Room != cs[5000].Room {
		t.Fatalf("%d changes came back of %d", len(got), len(cs))
	}
	t.Logf("%d light states in %d notifications: %.0f bytes each", len(cs), len(payloads), float64(totalLen(payloads))/float64(len(cs)))
	// A change too big for any notification is left out, and the others reload instead.
	huge := []fleet.Change{{Kind: fleet.ChangeRoom, Room: strings.Repeat("x", 9000)}, {Kind: fleet.ChangeBeat, ID: 1}}
	payloads, _ = b.encode(huge)
	if len(payloads) != 1 || !strings.Contains(payloads[0], `{"k":1,"i":1}`) || !strings.Contains(payloads[0], `{"k":10}`) {
		t.Fatalf("a change too big: %q", payloads)
	}
}

func totalLen(ps []string) (n int) {
	for _, p := range ps {
		n += len(p)
	}
	return n
}

// receiver collects what a bus applies.
type receiver struct {
	mu      sync.Mutex
	got     []fleet.Change
	resyncs atomic.Int64
}

func (r *receiver) apply(_ context.Context, cs []fleet.Change) {
	r.mu.Lock()
	r.got = append(r.got, cs...)
	r.mu.Unlock()
}

func (r *receiver) resync(context.Context) { r.resyncs.Add(1) }

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// running starts a bus on dsn until the test ends.
func running(t testing.TB, dsn string) (*Bus, *receiver) {
	b, r := New(dsn, quiet()), &receiver{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx, r.apply, r.resync) }()
	t.Cleanup(func() { cancel(); <-done })
	return b, r
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

func postgres(t testing.TB) string {
	dsn := testdb.DSN(t)
	if !testdb.Postgres() {
		t.Skip("the cluster runs on PostgreSQL: WCMS_TEST_POSTGRES is not set")
	}
	return dsn
}

// Changes told on one bus reach the other, not itself; one bus leads; a lost listening
// connection comes back and resyncs; when the leader stops, the other leads.
func TestBus(t *testing.T) {
	dsn := postgres(t)
	a, ra := running(t, dsn)
	b, rb := running(t, dsn)
	waitFor(t, "both listening", func() bool { return ra.resyncs.Load() == 1 && rb.resyncs.Load() == 1 })
	for i := range 300 {
		a.Tell(fleet.Change{Kind: fleet.ChangeBeat, ID: int64(i)})
	}
	waitFor(t, "A's changes at B", func() bool { return rb.count() == 300 })
	time.Sleep(100 * time.Millisecond)
	if ra.count() != 0 {
		t.Errorf("A applied %d of its own changes", ra.count())
	}
	for i, c := range rb.got {
		if c.ID != int64(i) {
			t.Fatalf("change %d came as %d: out of order", i, c.ID)
		}
	}
	waitFor(t, "a leader", func() bool { return a.Leader() || b.Leader() })
	time.Sleep(2 * pollLeader)
	if a.Leader() == b.Leader() {
		t.Fatalf("A leads %v, B leads %v", a.Leader(), b.Leader())
	}

	// The database ends B's listening connection, as a restart would.
	db, err := sql.Open(testdb.Driver(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	if err := db.QueryRow("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", "wcms listen "+b.id).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listening connections of B: %v", killed, err)
	}
	waitFor(t, "B listening again, resynced", func() bool { return rb.resyncs.Load() == 2 })
	a.Tell(fleet.Change{Kind: fleet.ChangeOffline, ID: 9})
	waitFor(t, "a change after B's reconnection", func() bool { return rb.count() == 301 })
	if b.Stats().Reconnects.Load() != 1 {
		t.Errorf("B reconnected %d times", b.Stats().Reconnects.Load())
	}
}

// The cost of carrying light states between two instances: b.N polls told at A, until B has
// applied them all. At 10,000 agents polling every 2 s, an instance tells 5,000 a second.
func BenchmarkBeatsAcross(b *testing.B) {
	dsn := postgres(b)
	from, _ := running(b, dsn)
	_, to := running(b, dsn)
	waitFor(b, "both listening", func() bool { return to.resyncs.Load() == 1 })
	cpu, ram := 12.5, 40.0
	b.ResetTimer()
	for i := range b.N {
		from.Tell(fleet.Change{Kind: fleet.ChangeBeat, ID: int64(100000 + i%10000), CPU: &cpu, RAM: &ram, At: time.Now().UnixMilli()})
	}
	waitFor(b, "every poll at B", func() bool { return to.count() == b.N })
	b.StopTimer()
	st := from.Stats()
	b.ReportMetric(float64(st.Bytes.Load())/float64(b.N), "B/poll")
	b.ReportMetric(float64(st.Notifications.Load())*1000/float64(b.N), "notify/1k-polls")
}
