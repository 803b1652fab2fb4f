package events

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/models"
	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pendingLen reports how many keys are pending, for bounding tests.
func (s *Subscription) pendingLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// roomA has PC 1's id: keys of one kind never meet another's.
var roomA, roomB = &models.Room{ID: 1, Name: "A"}, &models.Room{ID: 2, Name: "B"}

// pcEv is an event about PC pc; data marks it, in the view's hostname (dataOf).
func pcEv(kind Kind, pc int64, data any) Event {
	return Event{Kind: kind, PCID: pc, At: t0, PC: &models.PCView{ID: pc, Hostname: fmt.Sprint(data)}}
}

// cmdEv is an event about command cmd; data marks it, in the command's status (dataOf).
func cmdEv(cmd, pc int64, data any) Event {
	return Event{Kind: CommandStatus, PCID: pc, CommandID: cmd, At: t0, Command: &models.Command{ID: cmd, Status: fmt.Sprint(data)}}
}

// dataOf is the mark pcEv or cmdEv put on ev.
func dataOf(ev Event) string {
	if ev.Command != nil {
		return ev.Command.Status
	}
	return ev.PC.Hostname
}

// within fails the test if f does not return within d, so that a Publish that
// blocks shows up as a failure rather than a hung test binary.
// On failure the caller must not touch the hub again (a blocked Publish holds a
// subscriber's lock), so tests using it close their subscriptions explicitly
// rather than in a defer.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		k    Kind
		want string
	}{
		{PCState, "pc_state"},
		{PCOnline, "pc_online"},
		{PCOffline, "pc_offline"},
		{PCAdded, "pc_added"},
		{PCUpdated, "pc_updated"},
		{PCRemoved, "pc_removed"},
		{RoomChanged, "room"},
		{RoomActions, "room_actions"},
		{CommandStatus, "command"},
		{Kind(0), "kind(0)"},
		{Kind(200), "kind(200)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.k.String(); got != tt.want {
				t.Errorf("Kind(%d).String() = %q, want %q", tt.k, got, tt.want)
			}
		})
	}
}

func TestDrainCoalesces(t *testing.T) {
	thousandStates := make([]Event, 1000)
	for i := range thousandStates {
		thousandStates[i] = pcEv(PCState, 1, i)
	}
	tests := []struct {
		name    string
		publish []Event
		want    []Event
	}{
		{
			name: "nothing published",
			want: nil,
		},
		{
			name:    "1000 states for one PC leave the last",
			publish: thousandStates,
			want:    []Event{pcEv(PCState, 1, 999)},
		},
		{
			name: "keys ordered by first pending, values latest",
			publish: []Event{
				pcEv(PCState, 3, "a"),
				pcEv(PCState, 1, "b"),
				pcEv(PCState, 2, "c"),
				pcEv(PCState, 1, "d"),
				pcEv(PCState, 3, "e"),
			},
			want: []Event{
				pcEv(PCState, 3, "e"),
				pcEv(PCState, 1, "d"),
				pcEv(PCState, 2, "c"),
			},
		},
		{
			name: "command not merged with PC of the same id",
			publish: []Event{
				pcEv(PCState, 7, "state"),
				cmdEv(7, 7, "queued"),
				pcEv(PCState, 7, "state2"),
			},
			want: []Event{
				pcEv(PCState, 7, "state2"),
				cmdEv(7, 7, "queued"),
			},
		},
		{
			name: "commands keyed by command id, not PC",
			publish: []Event{
				cmdEv(1, 5, "queued"),
				cmdEv(2, 5, "queued"),
				cmdEv(1, 5, "running"),
				cmdEv(1, 5, "done"),
			},
			want: []Event{
				cmdEv(1, 5, "done"),
				cmdEv(2, 5, "queued"),
			},
		},
		{
			name: "all PC kinds share a key and PCRemoved wins",
			publish: []Event{
				pcEv(PCAdded, 4, "added"),
				pcEv(PCState, 4, "state"),
				pcEv(PCOnline, 4, "online"),
				pcEv(PCUpdated, 4, "updated"),
				pcEv(PCOffline, 4, "offline"),
				pcEv(PCRemoved, 4, "removed"),
			},
			want: []Event{pcEv(PCRemoved, 4, "removed")},
		},
		{
			name: "rooms by id, apart from PCs",
			publish: []Event{
				{Kind: RoomChanged, Room: roomA, At: t0},
				pcEv(PCUpdated, 1, "pc"),
				{Kind: RoomChanged, Room: roomB, At: t0},
				{Kind: RoomChanged, Room: roomA, At: t0.Add(time.Second)},
			},
			want: []Event{{Kind: RoomChanged, Room: roomA, At: t0.Add(time.Second)}, pcEv(PCUpdated, 1, "pc"),
				{Kind: RoomChanged, Room: roomB, At: t0}},
		},
		{
			name: "a room's actions by room, apart from the room itself",
			publish: []Event{
				{Kind: RoomActions, Room: roomA, At: t0},
				{Kind: RoomChanged, Room: roomA, At: t0},
				{Kind: RoomActions, Room: roomB, At: t0},
				{Kind: RoomActions, Room: roomA, At: t0.Add(time.Second)},
			},
			want: []Event{{Kind: RoomActions, Room: roomA, At: t0.Add(time.Second)}, {Kind: RoomChanged, Room: roomA, At: t0},
				{Kind: RoomActions, Room: roomB, At: t0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(0)
			s := h.Subscribe()
			defer s.Close()
			for _, ev := range tt.publish {
				h.Publish(ev)
			}
			got, overflowed := s.Drain()
			if overflowed {
				t.Error("overflowed = true, want false")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Drain() =\n%v\nwant\n%v", got, tt.want)
			}
			if again, _ := s.Drain(); len(again) != 0 {
				t.Errorf("second Drain() = %v, want nothing", again)
			}
		})
	}
}

func TestReadySignals(t *testing.T) {
	signalled := func(s *Subscription) bool {
		select {
		case <-s.Ready():
			return true
		default:
			return false
		}
	}
	h := NewHub(0)
	s := h.Subscribe()
	defer s.Close()

	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"no signal before any publish", func() {}, false},
		{"signal after a publish", func() { h.Publish(pcEv(PCState, 1, 1)) }, true},
		{"one signal for many publishes", func() {
			for i := range 100 {
				h.Publish(pcEv(PCState, int64(i), i))
			}
		}, false},
		{"no signal after drain", func() { s.Drain() }, false},
		{"signal again after drain and publish", func() { h.Publish(pcEv(PCState, 1, 2)) }, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			if got := signalled(s); got != st.want {
				t.Errorf("signalled = %v, want %v", got, st.want)
			}
		})
	}
}

// A consumer may drain on its own schedule and leave the wake-up unread, so the
// Ready channel stays full; Publish must still not block.
func TestPublishDoesNotBlockOnUnreadReady(t *testing.T) {
	h := NewHub(0)
	s := h.Subscribe()
	within(t, 5*time.Second, "publishing with Ready unread", func() {
		for i := range 100 {
			h.Publish(pcEv(PCState, 1, i))
			if evs, _ := s.Drain(); len(evs) != 1 || dataOf(evs[0]) != fmt.Sprint(i) {
				t.Errorf("Drain() = %v, want data %d", evs, i)
				return
			}
		}
	})
	s.Close()
}

// A subscriber that never drains must cost bounded memory, and must not slow
// or block the publisher.
func TestStalledSubscriberStaysBounded(t *testing.T) {
	const (
		events = 1_000_000
		pcs    = 5_000
		limit  = 20 << 20
	)
	h := NewHub(0)
	stalled := h.Subscribe()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	within(t, 60*time.Second, "publishing 1,000,000 events", func() {
		for i := range events {
			h.Publish(pcEv(PCState, int64(i%pcs), i))
		}
	})

	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth after %d events: %d KiB", events, growth>>10)
	if growth > limit {
		t.Errorf("heap grew by %d bytes, want < %d", growth, limit)
	}
	if n := stalled.pendingLen(); n != pcs {
		t.Errorf("pending = %d, want %d (one per PC)", n, pcs)
	}

	got, overflowed := stalled.Drain()
	if overflowed {
		t.Error("overflowed = true, want false")
	}
	if len(got) != pcs {
		t.Fatalf("Drain() returned %d events, want %d", len(got), pcs)
	}
	for j, ev := range got {
		want := events - pcs + j // the last i with i%pcs == j
		if ev.PCID != int64(j) || dataOf(ev) != fmt.Sprint(want) {
			t.Fatalf("event %d = PC %d data %v, want PC %d data %d", j, ev.PCID, dataOf(ev), j, want)
		}
	}
	stalled.Close()
}

// One subscriber that never drains must not delay another.
func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	const updates = 2000
	h := NewHub(0)
	stalled := h.Subscribe()
	defer stalled.Close()
	live := h.Subscribe()
	defer live.Close()

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan Event, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-live.Ready():
				evs, _ := live.Drain()
				for _, ev := range evs {
					select {
					case got <- ev:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	})
	defer wg.Wait()
	defer cancel()

	for i := range updates {
		pc := int64(i % 50)
		h.Publish(pcEv(PCState, pc, i))
		// Wait for this very update before the next, so the live subscriber
		// must see every one, each within a short deadline.
		select {
		case ev := <-got:
			if ev.PCID != pc || dataOf(ev) != fmt.Sprint(i) {
				t.Fatalf("update %d: got PC %d data %v, want PC %d data %d", i, ev.PCID, dataOf(ev), pc, i)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("update %d not delivered to the live subscriber within 2s", i)
		}
	}
	if n := stalled.pendingLen(); n != 50 {
		t.Errorf("stalled subscriber pending = %d, want 50", n)
	}
}

func TestOverflow(t *testing.T) {
	tests := []struct {
		name         string
		publish      []Event
		wantPCs      []int64
		wantData     []any
		wantOverflow bool
	}{
		{
			name:         "20 distinct keys into 10 slots",
			publish:      distinctPCs(20),
			wantPCs:      []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantData:     []any{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantOverflow: true,
		},
		{
			name:         "exactly 10 keys fit",
			publish:      distinctPCs(10),
			wantPCs:      []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantData:     []any{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantOverflow: false,
		},
		{
			name:         "pending keys still update when full",
			publish:      append(distinctPCs(15), pcEv(PCState, 3, "new")),
			wantPCs:      []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			wantData:     []any{0, 1, 2, "new", 4, 5, 6, 7, 8, 9},
			wantOverflow: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(10)
			s := h.Subscribe()
			defer s.Close()
			for _, ev := range tt.publish {
				h.Publish(ev)
			}
			evs, overflowed := s.Drain()
			if overflowed != tt.wantOverflow {
				t.Errorf("overflowed = %v, want %v", overflowed, tt.wantOverflow)
			}
			var pcs []int64
			var data, wantData []string
			for _, ev := range evs {
				pcs = append(pcs, ev.PCID)
				data = append(data, dataOf(ev))
			}
			for _, d := range tt.wantData {
				wantData = append(wantData, fmt.Sprint(d))
			}
			if !reflect.DeepEqual(pcs, tt.wantPCs) || !reflect.DeepEqual(data, wantData) {
				t.Errorf("Drain() PCs %v data %v, want PCs %v data %v", pcs, data, tt.wantPCs, tt.wantData)
			}
			evs, overflowed = s.Drain()
			if len(evs) != 0 || overflowed {
				t.Errorf("next Drain() = %v, %v; want nothing, false", evs, overflowed)
			}
			// After the reset, the subscriber has room again.
			h.Publish(pcEv(PCState, 100, "after"))
			if evs, _ := s.Drain(); len(evs) != 1 || evs[0].PCID != 100 {
				t.Errorf("Drain() after reset = %v, want PC 100", evs)
			}
		})
	}
}

func distinctPCs(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = pcEv(PCState, int64(i), i)
	}
	return evs
}

func TestClose(t *testing.T) {
	tests := []struct {
		name  string
		close func(s *Subscription)
	}{
		{"once", func(s *Subscription) { s.Close() }},
		{"twice", func(s *Subscription) { s.Close(); s.Close() }},
		{"concurrently", func(s *Subscription) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(s.Close)
			}
			wg.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(0)
			keep := h.Subscribe()
			defer keep.Close()

			// A consumer like the SSE stream: it stops on its context.
			ctx, cancel := context.WithCancel(context.Background())
			s := h.Subscribe()
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-s.Ready():
						s.Drain()
					}
				}
			})
			if n := h.Subscribers(); n != 2 {
				t.Fatalf("Subscribers() = %d, want 2", n)
			}
			h.Publish(pcEv(PCState, 1, "before"))

			tt.close(s)
			cancel()
			wg.Wait()

			if n := h.Subscribers(); n != 1 {
				t.Errorf("Subscribers() after Close = %d, want 1", n)
			}
			h.Publish(pcEv(PCState, 2, "after"))
			if evs, overflowed := s.Drain(); len(evs) != 0 || overflowed {
				t.Errorf("closed Drain() = %v, %v; want nothing", evs, overflowed)
			}
			if evs, _ := keep.Drain(); len(evs) != 2 {
				t.Errorf("remaining subscriber drained %d events, want 2", len(evs))
			}
			keep.Close()
			if n := h.Subscribers(); n != 0 {
				t.Errorf("Subscribers() after all closed = %d, want 0", n)
			}
			goleak.VerifyNone(t)
		})
	}
}

// Publishers, churning subscribers and a long-lived subscriber all at once.
// Each publisher owns its PCs and numbers its updates, so the long-lived
// subscriber can check that no PC ever goes backwards and that it ends on
// every PC's final update.
func TestConcurrentStress(t *testing.T) {
	const (
		publishers = 8
		perPub     = 20_000
		pcsPerPub  = 100
		churners   = 8
	)
	h := NewHub(0)
	watcher := h.Subscribe()
	last := make(map[int64]int)
	observe := func(evs []Event) {
		seen := make(map[int64]bool, len(evs))
		for _, ev := range evs {
			if ev.PCID < 0 {
				continue // the flusher's (below), which repeats its one update by design
			}
			if seen[ev.PCID] {
				t.Errorf("PC %d twice in one Drain", ev.PCID)
			}
			seen[ev.PCID] = true
			seq, _ := strconv.Atoi(dataOf(ev))
			if prev, ok := last[ev.PCID]; ok && seq <= prev {
				t.Errorf("PC %d went back from %d to %d", ev.PCID, prev, seq)
			}
			last[ev.PCID] = seq
		}
	}

	stop := make(chan struct{})
	var consumers sync.WaitGroup
	consumers.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-watcher.Ready():
				evs, overflowed := watcher.Drain()
				if overflowed {
					t.Error("watcher overflowed")
				}
				observe(evs)
			}
		}
	})
	for range churners {
		consumers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Subscribe()
				for range 3 {
					<-s.Ready() // publishers run until stop, so this comes
					s.Drain()
				}
				s.Close()
			}
		})
	}

	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			base := int64(p * pcsPerPub)
			for seq := range perPub {
				h.Publish(pcEv(PCState, base+int64(seq%pcsPerPub), seq))
			}
		})
	}
	within(t, 60*time.Second, "publishers", pubs.Wait)

	// Keep events flowing until the churners have seen stop, so none waits on
	// Ready forever.
	close(stop)
	flushed := make(chan struct{})
	var flusher sync.WaitGroup
	flusher.Go(func() {
		for {
			select {
			case <-flushed:
				return
			default:
				h.Publish(pcEv(PCState, -1, 0))
				runtime.Gosched()
			}
		}
	})
	consumers.Wait()
	close(flushed)
	flusher.Wait()

	evs, _ := watcher.Drain()
	observe(evs)
	watcher.Close()

	for pc := range int64(publishers * pcsPerPub) {
		want := perPub - pcsPerPub + int(pc%pcsPerPub)
		if got, ok := last[pc]; !ok || got != want {
			t.Errorf("PC %d ended at %d (seen %v), want %d", pc, got, ok, want)
		}
	}
	if n := h.Subscribers(); n != 0 {
		t.Errorf("Subscribers() = %d after all closed, want 0", n)
	}
}

// BenchmarkPublish measures Publish with 20 subscribers. With 5,000 PCs the
// subscribers' pending sets outgrow the CPU caches, which is the realistic
// case at full load; 50 PCs shows the cost without cache misses.
func BenchmarkPublish(b *testing.B) {
	const subscribers = 20
	snapshot := &models.PCView{Hostname: "lab-pc"}
	publish := func(b *testing.B, h *Hub, pcs int64) {
		b.ReportAllocs()
		var i int64
		for b.Loop() {
			h.Publish(Event{Kind: PCState, PCID: i % pcs, At: t0, PC: snapshot})
			i++
		}
	}

	for _, pcs := range []int64{50, 5000} {
		// Nobody drains: after warm-up every publish overwrites in place.
		b.Run(fmt.Sprintf("stalled/pcs=%d", pcs), func(b *testing.B) {
			h := NewHub(0)
			for range subscribers {
				defer h.Subscribe().Close()
			}
			publish(b, h, pcs)
		})

		// Every subscriber drains as fast as it can, as SSE streams would;
		// allocations include the consumers' Drain copies.
		b.Run(fmt.Sprintf("draining/pcs=%d", pcs), func(b *testing.B) {
			h := NewHub(0)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range subscribers {
				s := h.Subscribe()
				wg.Go(func() {
					defer s.Close()
					for {
						select {
						case <-ctx.Done():
							return
						case <-s.Ready():
							s.Drain()
						}
					}
				})
			}
			publish(b, h, pcs)
			b.StopTimer()
			cancel()
			wg.Wait()
		})
	}

	// Many agent requests publishing at once.
	b.Run("parallel/pcs=5000", func(b *testing.B) {
		h := NewHub(0)
		for range subscribers {
			defer h.Subscribe().Close()
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var i int64
			for pb.Next() {
				h.Publish(Event{Kind: PCState, PCID: i % 5000, At: t0, PC: snapshot})
				i++
			}
		})
	})
}
