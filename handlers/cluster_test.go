package handlers_test

import (
	"database/sql"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
)

// twoInstances starts two servers on one PostgreSQL database, as two instances behind a proxy.
func twoInstances(t *testing.T, opts ...serverOption) (a, b *testServer) {
	t.Helper()
	if !testdb.Postgres() {
		t.Skip("several instances share a PostgreSQL database: WCMS_TEST_POSTGRES is not set")
	}
	a = newTestServer(t, opts...)
	b = newTestServerOn(t, a.dsn, testPassword, opts...)
	return a, b
}

// on is ag polling another instance.
func (ag *agent) on(ts *testServer) *agent {
	cp := *ag
	cp.ts = ts
	return &cp
}

// eventually waits up to 5 s for ok.
func eventually(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// A poll at one instance shows at the other, on its screens' hub and in its memory; a command
// queued at one wakes the long-poll held at the other; its result shows at the first.
func TestInstancesShareTheFleet(t *testing.T) {
	a, b := twoInstances(t)
	adminB := b.admin()
	pc := a.register(a.pin(a.admin(), models.PINMulti), "C1")

	// Registered at A, its first poll goes to B: B looks it up rather than refuse it.
	pc.on(b).poll(nil).must(t, 200)

	sub := b.hub.Subscribe()
	defer sub.Close()
	pc.poll(map[string]any{"heartbeat": map[string]any{"cpu_usage": 77.0, "ram_usage_percent": 33.0}}).must(t, 200)
	took := eventually(t, "A's heartbeat in B's memory", func() bool {
		v, ok := b.fleet.View(pc.PCID)
		return ok && v.CPUUsage != nil && *v.CPUUsage == 77
	})
	t.Logf("heartbeat at A → B's memory: %v", took)
	// On B's screens: a PC's events coalesce, so whichever kind came last carries the figures.
	eventually(t, "A's heartbeat on B's hub", func() bool {
		evs, _ := sub.Drain()
		return slices.ContainsFunc(evs, func(e events.Event) bool {
			return e.PC != nil && e.PC.ID == pc.PCID && e.PC.CPUUsage != nil && *e.PC.CPUUsage == 77
		})
	})

	// Long-polls held at A, commands queued at B: each wakes its poll.
	var waits []time.Duration
	for range 5 {
		got := make(chan response, 1)
		go func() { got <- pc.poll(map[string]any{"wait": 10}) }()
		time.Sleep(300 * time.Millisecond) // the long-poll is held at A
		queued := time.Now()
		adminB.do("POST", "/api/admin/pc/"+itoa(pc.PCID)+"/command", map[string]any{"type": "message",
			"parameters": map[string]any{"message": "hello"}}).must(t, 200)
		select {
		case r := <-got:
			waits = append(waits, time.Since(queued))
			if r.get("data.command") == nil {
				t.Fatalf("the long-poll at A ended without the command queued at B: %s", r.Raw)
			}
			id := r.num("data.command.id")
			pc.do("POST", "/api/client/commands/"+itoa(id)+"/result", map[string]any{"status": "success", "output": "shown"}).must(t, 200)
			eventually(t, "the result at A in B's screens", func() bool {
				evs, _ := sub.Drain()
				return slices.ContainsFunc(evs, func(e events.Event) bool {
					return e.Kind == events.CommandStatus && e.CommandID == id && e.Command.Status == "completed"
				})
			})
		case <-time.After(5 * time.Second):
			t.Fatal("a command queued at B did not wake the long-poll held at A")
		}
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	t.Logf("command queued at B → long-poll at A answered: %v", waits)
	if waits[len(waits)/2] > 100*time.Millisecond {
		t.Errorf("median wake across instances %v, want ≤ 100 ms", waits[len(waits)/2])
	}
}

// Exactly one instance leads; when it stops, the other takes over. A PC that polls the two in
// turn is never taken offline by the one it left.
func TestOneLeaderAndFailover(t *testing.T) {
	short := func(_ *handlers.Config, f *fleet.Config) { f.OfflineAfter = 2 * time.Second }
	a, b := twoInstances(t, short)
	pc := a.register(a.pin(a.admin(), models.PINMulti), "F1")
	eventually(t, "a leader", func() bool { return a.fleet.Leader() || b.fleet.Leader() })
	time.Sleep(1500 * time.Millisecond) // the other's next try
	if a.fleet.Leader() == b.fleet.Leader() {
		t.Fatalf("leaders: A %v, B %v; want exactly one", a.fleet.Leader(), b.fleet.Leader())
	}
	// Polls alternate between the instances for three times OfflineAfter.
	for i := range 12 {
		at := a
		if i%2 == 1 {
			at = b
		}
		pc.on(at).poll(nil).must(t, 200)
		time.Sleep(500 * time.Millisecond)
	}
	for _, ts := range []*testServer{a, b} {
		if v, _ := ts.fleet.View(pc.PCID); !v.Online {
			t.Error("a PC polling the two instances in turn was taken offline")
		}
	}
	var outages int
	if err := ts0(a).QueryRow(testdb.Bind("SELECT COUNT(*) FROM pc_outages WHERE pc_id = ?"), pc.PCID).Scan(&outages); err != nil {
		t.Fatal(err)
	}
	if outages != 0 {
		t.Errorf("%d outages recorded for a PC that never stopped polling", outages)
	}

	leader, other := a, b
	if b.fleet.Leader() {
		leader, other = b, a
	}
	leader.stop()
	took := eventually(t, "the other instance leads", other.fleet.Leader)
	t.Logf("failover: the other instance led %v after the leader stopped", took)
	// The new leader does the leader's work: the PC, now silent, goes offline.
	eventually(t, "the silent PC offline at the new leader", func() bool {
		v, _ := other.fleet.View(pc.PCID)
		return !v.Online
	})
}

// ts0 opens the test's database for checks of what is stored.
func ts0(ts *testServer) *sql.DB {
	db, err := sql.Open(testdb.Driver(), ts.dsn)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { db.Close() })
	return db
}
