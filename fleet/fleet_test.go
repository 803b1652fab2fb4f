package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/wire"
)

// countingStore is the real SQLite store, counting the calls that write.
type countingStore struct {
	*models.Store
	mu     sync.Mutex
	writes map[string]int
}

func (c *countingStore) count(name string) {
	c.mu.Lock()
	c.writes[name]++
	c.mu.Unlock()
}

func (c *countingStore) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.writes {
		n += v
	}
	return n
}

func (c *countingStore) SaveLive(ctx context.Context, s []models.LightState, o []models.Online) error {
	c.count("SaveLive")
	return c.Store.SaveLive(ctx, s, o)
}

func (c *countingStore) SaveFullState(ctx context.Context, id int64, f models.FullState) error {
	c.count("SaveFullState")
	return c.Store.SaveFullState(ctx, id, f)
}

func (c *countingStore) RecordIP(ctx context.Context, id int64, ip string, now time.Time) error {
	c.count("RecordIP")
	return c.Store.RecordIP(ctx, id, ip, now)
}

func (c *countingStore) SetOnline(ctx context.Context, id int64, now time.Time) error {
	c.count("SetOnline")
	return c.Store.SetOnline(ctx, id, now)
}

func (c *countingStore) NextCommand(ctx context.Context, id int64, addr string, now time.Time) (*models.Command, error) {
	c.count("NextCommand")
	return c.Store.NextCommand(ctx, id, addr, now)
}

// newTestStore is a migrated SQLite store in a temporary directory, counting its writes.
func newTestStore(t testing.TB) *countingStore {
	t.Helper()
	ctx := context.Background()
	s, err := models.Open(ctx, testdb.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &countingStore{Store: s, writes: map[string]int{}}
}

func newTestFleet(t *testing.T) (*Fleet, *countingStore, *events.Hub) {
	t.Helper()
	ctx := context.Background()
	cs := newTestStore(t)
	hub := events.NewHub(0)
	f, err := New(ctx, cs, hub, Config{OfflineAfter: time.Minute, FlushEvery: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return f, cs, hub
}

func register(t *testing.T, f *Fleet, cs *countingStore, machineID string) int64 {
	t.Helper()
	now := time.Now()
	pin, _, err := cs.CreatePIN(context.Background(), tokens.Hash, models.PINMulti, now.Add(time.Hour), "admin", now)
	if err != nil {
		t.Fatal(err)
	}
	pc := &models.PC{MachineID: machineID, Hostname: "h", MACAddress: "m", IPAddress: "10.0.0.1"}
	if _, err := f.Register(context.Background(), Enrolment{PINHash: pin.TokenHash, PC: pc}); err != nil {
		t.Fatal(err)
	}
	return pc.ID
}

func ptr[T any](v T) *T { return &v }

// Coming online and steady light heartbeats (same IP, nothing queued) touch memory only.
func TestSteadyPollWritesNothing(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx := context.Background()
	id := register(t, f, cs, "M1")
	info := &wire.SystemInfo{CPUUsage: ptr(10.0), RAMUsagePercent: ptr(20.0), IPAddress: ptr("10.0.0.1")}
	before := cs.total()
	for i := range 100 {
		info.CPUUsage = ptr(float64(i))
		if _, err := f.Heartbeat(ctx, id, Beat{Info: info}); err != nil {
			t.Fatal(err)
		}
		if c, err := f.NextCommand(ctx, id, Caller{}, 0); err != nil || c != nil {
			t.Fatalf("next command: %v %v", c, err)
		}
	}
	if n := cs.total() - before; n != 0 {
		t.Fatalf("coming online and 100 steady polls made %d store calls that write: %v", n, cs.writes)
	}
	f.Flush(ctx)
	if cs.writes["SaveLive"] != 1 {
		t.Fatalf("one flush, %d batch writes", cs.writes["SaveLive"])
	}
	d, err := cs.PCDetail(ctx, id)
	if err != nil || *d.State.CPUUsage != 99 || !d.IsOnline {
		t.Fatalf("after the flush the store has the PC online with the last CPU value: %v %v %v", d.IsOnline, d.State.CPUUsage, err)
	}
}

// A PC that comes back and says goodbye before the flush keeps a true history: the old outage
// closed, the new one open.
func TestOfflineRightAfterComingBack(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx := context.Background()
	id := register(t, f, cs, "M1")
	if _, err := f.Heartbeat(ctx, id, Beat{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Offline(ctx, id, models.ReasonNetworkError); err != nil {
		t.Fatal(err)
	}
	f.Flush(ctx)
	if _, err := f.Heartbeat(ctx, id, Beat{}); err != nil { // back, not flushed yet
		t.Fatal(err)
	}
	if err := f.Offline(ctx, id, models.ReasonShutdown); err != nil {
		t.Fatal(err)
	}
	f.Flush(ctx)
	os, err := cs.Outages(ctx, id, 10)
	if err != nil || len(os) != 2 {
		t.Fatalf("outages: %+v %v", os, err)
	}
	if os[0].Reason != models.ReasonShutdown || os[0].EndedAt != nil || os[1].Reason != models.ReasonNetworkError || os[1].EndedAt == nil {
		t.Fatalf("history: newest %+v, older %+v", os[0], os[1])
	}
}

// Run's last flush on shutdown stores what is still batched.
func TestRunFlushesOnStop(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	id := register(t, f, cs, "M1")
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	if _, err := f.Heartbeat(context.Background(), id, Beat{Info: &wire.SystemInfo{CPUUsage: ptr(77.0)}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	d, err := cs.PCDetail(context.Background(), id)
	if err != nil || d.State.CPUUsage == nil || *d.State.CPUUsage != 77 {
		t.Fatalf("state after stop: %v %v", d.State.CPUUsage, err)
	}
}

// Every visible change reaches the hub: registration, state, online, commands, removal.
func TestPublishesChanges(t *testing.T) {
	f, cs, hub := newTestFleet(t)
	ctx := context.Background()
	sub := hub.Subscribe()
	defer sub.Close()
	id := register(t, f, cs, "M1")
	if _, err := f.Heartbeat(ctx, id, Beat{Info: &wire.SystemInfo{CPUUsage: ptr(5.0)}}); err != nil {
		t.Fatal(err)
	}
	cmds := []models.Command{{PCID: id, Type: wire.TypeChangePassword, Parameters: `{"username":"u","new_password":"secret-pw"}`, Priority: 5, Timeout: 60}}
	if err := f.Enqueue(ctx, cmds); err != nil {
		t.Fatal(err)
	}
	c, err := f.NextCommand(ctx, id, Caller{}, 0)
	if err != nil || c == nil || c.Parameters != cmds[0].Parameters {
		t.Fatalf("delivery keeps the secret for the agent: %+v %v", c, err)
	}
	evs, _ := sub.Drain()
	var pcEv, cmdEv *events.Event
	for i := range evs {
		switch evs[i].Kind {
		case events.CommandStatus:
			cmdEv = &evs[i]
		default:
			pcEv = &evs[i]
		}
	}
	if pcEv == nil || pcEv.PC.CPUUsage == nil || *pcEv.PC.CPUUsage != 5 || !pcEv.PC.Online {
		t.Fatalf("PC event: %+v", pcEv)
	}
	if cmdEv == nil || cmdEv.Command.Status != wire.StatusExecuting || cmdEv.Command.Parameters != `{"username":"u"}` {
		t.Fatalf("command event (secrets must be stripped): %+v", cmdEv)
	}
	if err := f.Delete(ctx, id, "admin"); err != nil {
		t.Fatal(err)
	}
	evs, _ = sub.Drain()
	if len(evs) != 1 || evs[0].Kind != events.PCRemoved {
		t.Fatalf("after delete: %+v", evs)
	}
	if _, err := f.Identify(ctx, Caller{MachineID: "M1"}, true); err != ErrUnknownPC {
		t.Fatalf("a deleted PC is unknown: %v", err)
	}
}

// A long-poll parked on one PC is woken by a command for it, and by nothing else.
func TestLongPollWakesOnEnqueue(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx := context.Background()
	a, b := register(t, f, cs, "A"), register(t, f, cs, "B")
	got := make(chan *models.Command, 1)
	go func() {
		c, _ := f.NextCommand(ctx, a, Caller{}, 20*time.Second)
		got <- c
	}()
	if err := f.Enqueue(ctx, []models.Command{{PCID: b, Type: wire.TypeExecute, Parameters: `{"command":"x"}`, Priority: 5, Timeout: 60}}); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		t.Fatalf("a command for B woke A's long-poll with %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
	if err := f.Enqueue(ctx, []models.Command{{PCID: a, Type: wire.TypeExecute, Parameters: `{"command":"y"}`, Priority: 5, Timeout: 60}}); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c == nil || c.PCID != a {
		t.Fatalf("A's long-poll got %+v", c)
	}
	f.Close()
	if c, err := f.NextCommand(ctx, b, Caller{}, 20*time.Second); err != nil || c == nil {
		t.Fatalf("B's command is still delivered: %+v %v", c, err)
	}
	if c, err := f.NextCommand(ctx, b, Caller{}, 20*time.Second); err != nil || c != nil {
		t.Fatalf("after Close a long-poll returns at once: %+v %v", c, err)
	}
}

// Concurrent polls of one PC never deliver a command twice.
func TestNoDoubleDelivery(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx := context.Background()
	id := register(t, f, cs, "M1")
	const n = 50
	cmds := make([]models.Command, n)
	for i := range cmds {
		cmds[i] = models.Command{PCID: id, Type: wire.TypeExecute, Parameters: `{"command":"x"}`, Priority: 5, Timeout: 60}
	}
	if err := f.Enqueue(ctx, cmds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := f.NextCommand(ctx, id, Caller{}, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if c == nil {
					return
				}
				mu.Lock()
				seen[c.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d commands delivered", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("command %d delivered %d times", id, k)
		}
	}
	if st := f.Stats(); st.Pending != 0 {
		t.Fatalf("pending count %d after delivering everything", st.Pending)
	}
}

// BenchmarkCounts is what one live page's counts cost the server: each stream asks at most once
// a second (handlers/live/live.go countsEvery), and only after a PC came, went or moved.
func BenchmarkCounts(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := &Fleet{byMachine: map[string]*pc{}, byID: map[int64]*pc{}, byToken: map[string]*pc{}}
			now := time.Now()
			for i := range n {
				room := fmt.Sprintf("ROOM-%d", i/50)
				f.newPC(&models.PCRow{PC: models.PC{ID: int64(i + 1), MachineID: fmt.Sprint(i), IsOnline: i%3 != 0}, RoomName: &room}, now)
			}
			b.Run("after a change", func(b *testing.B) {
				for b.Loop() {
					f.changes.Add(1)
					if c := f.Counts(); len(c) != n/50 {
						b.Fatalf("%d rooms", len(c))
					}
				}
			})
			b.Run("unchanged", func(b *testing.B) {
				for b.Loop() {
					f.Counts()
				}
			})
		})
	}
}

// Counts are by room, online and in all, with the PCs not placed under "".
func TestCounts(t *testing.T) {
	f := &Fleet{byMachine: map[string]*pc{}, byID: map[int64]*pc{}, byToken: map[string]*pc{}, hub: events.NewHub(0), now: time.Now, peers: alone{}}
	a := "A"
	for i, r := range []struct {
		room   *string
		online bool
	}{{&a, true}, {&a, false}, {&a, true}, {nil, false}} {
		f.newPC(&models.PCRow{PC: models.PC{ID: int64(i + 1), MachineID: fmt.Sprint(i), IsOnline: r.online}, RoomName: r.room}, time.Now())
	}
	got := f.Counts()
	if got["A"] != (models.RoomCount{Online: 2, Total: 3}) || got[""] != (models.RoomCount{Online: 0, Total: 1}) || len(got) != 2 {
		t.Fatalf("counts %v", got)
	}
	// A change published counts again; without one the kept answer stands.
	f.byID[1].online = false
	if f.Counts()["A"].Online != 2 {
		t.Fatal("counted again with no change published")
	}
	f.publish(events.PCOffline, models.PCView{ID: 1})
	if got := f.Counts()["A"]; got.Online != 1 {
		t.Fatalf("after a published change: %v", got)
	}
}

// The latest light state waits in memory for the next state write, but a PC going offline
// stores its own at once: a restart then shows what it last reported.
func TestOfflineStoresTheLastLightState(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	ctx := context.Background()
	id := register(t, f, cs, "M1")
	if _, err := f.Heartbeat(ctx, id, Beat{Info: &wire.SystemInfo{CPUUsage: ptr(61.5), RAMUsagePercent: ptr(40.0)}}); err != nil {
		t.Fatal(err)
	}
	if d, err := cs.PCDetail(ctx, id); err != nil || d.State.CPUUsage != nil {
		t.Fatalf("stored before any write: %v %v", d.State.CPUUsage, err)
	}
	if err := f.Offline(ctx, id, models.ReasonShutdown); err != nil {
		t.Fatal(err)
	}
	if d, err := cs.PCDetail(ctx, id); err != nil || d.State.CPUUsage == nil || *d.State.CPUUsage != 61.5 {
		t.Fatalf("after going offline: %v %v", d.State.CPUUsage, err)
	}
}

// The sweep leaves a PC's queue alone while the PC polls, however long the queue takes to
// deliver, and times out what is left once it has been silent for the commands' timeout.
func TestSweepWaitsForAPollingPC(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	c := &clock{}
	f.now = c.now
	ctx := context.Background()
	c.set(10, 0, 0, 0)
	id := register(t, f, cs, "M1")
	cmds := make([]models.Command, 30)
	for i := range cmds {
		cmds[i] = models.Command{PCID: id, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 10}
	}
	if err := f.Enqueue(ctx, cmds); err != nil {
		t.Fatal(err)
	}
	// 40 s of polls every 2 s, each taking one command and answering it: 20 delivered.
	for s := 0; s < 40; s += 2 {
		c.set(10, 0, s, 0)
		if _, err := f.Heartbeat(ctx, id, Beat{}); err != nil {
			t.Fatal(err)
		}
		got, err := f.NextCommand(ctx, id, Caller{}, 0)
		if err != nil || got == nil {
			t.Fatalf("poll at +%d s: %v %v", s, got, err)
		}
		if _, err := f.Result(ctx, got.ID, models.Reporter{PCID: id}, models.Result{Status: wire.ResultSuccess}); err != nil {
			t.Fatal(err)
		}
		f.Sweep(ctx)
	}
	if n := f.Stats().Pending; n != 10 {
		t.Fatalf("%d pending after 40 s of polls; want the 10 not delivered yet, none timed out", n)
	}
	c.set(10, 0, 47, 0) // 9 s after the last poll: nothing yet
	f.Sweep(ctx)
	if n := f.Stats().Pending; n != 10 {
		t.Fatalf("%d pending 9 s after the last poll", n)
	}
	c.set(10, 0, 49, 0)
	f.Sweep(ctx)
	if n := f.Stats().Pending; n != 0 {
		t.Fatalf("%d pending 11 s after the last poll; want all timed out", n)
	}
}
