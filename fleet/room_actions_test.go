package fleet

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/internal/logtest"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// actionLab is a store with room ENG301 holding two registered PCs.
type actionLab struct {
	store *countingStore
	pcs   []int64
}

func newActionLab(t *testing.T) *actionLab {
	t.Helper()
	ctx := context.Background()
	l := &actionLab{store: newTestStore(t)}
	s := l.store
	f, _, _ := l.build(t, 0) // the PCs register through a fleet, as on the server
	if err := s.CreateRoom(ctx, &models.Room{Name: "ENG301", Rows: 1, Cols: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i, m := range []string{"M1", "M2"} {
		id := register(t, f, l.store, m)
		if err := f.SetSeat(ctx, id, "ENG301", 1, i+1); err != nil {
			t.Fatal(err)
		}
		// On: a room's power action leaves PCs that are off out.
		if err := s.SetOnline(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		l.pcs = append(l.pcs, id)
	}
	return l
}

// build makes a fleet on the lab's store with the grace period.
func (l *actionLab) build(t *testing.T, grace time.Duration) (*Fleet, *events.Hub, *logtest.Buffer) {
	t.Helper()
	logs := &logtest.Buffer{}
	hub := events.NewHub(0)
	f, err := New(context.Background(), l.store, hub, Config{OfflineAfter: time.Minute, FlushEvery: time.Hour, RoomGrace: grace},
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return f, hub, logs
}

// start builds a fleet and runs it until the test ends, as the server does from its start.
func (l *actionLab) start(t *testing.T, grace time.Duration) (*Fleet, *events.Hub, *logtest.Buffer) {
	t.Helper()
	f, hub, logs := l.build(t, grace)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); f.Close(); <-done })
	return f, hub, logs
}

func shutdownAction(by string) models.RoomAction {
	return models.RoomAction{RoomName: "ENG301", Type: wire.TypeShutdown, Parameters: `{"delay":0}`, Priority: 1, Timeout: 300, CreatedBy: by}
}

// pending counts the undelivered commands of the lab's PCs in the store.
func (l *actionLab) pending(t *testing.T) int {
	t.Helper()
	n, err := l.store.PendingCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n[l.pcs[0]] + n[l.pcs[1]]
}

// lastActions is the newest RoomActions event the subscription holds.
func lastActions(sub *events.Subscription) *events.Event {
	evs, _ := sub.Drain()
	var last *events.Event
	for i := range evs {
		if evs[i].Kind == events.RoomActions {
			last = &evs[i]
		}
	}
	return last
}

// nextActions waits up to within for a RoomActions event and returns the newest.
func nextActions(sub *events.Subscription, within time.Duration) *events.Event {
	deadline := time.After(within)
	for {
		if ev := lastActions(sub); ev != nil {
			return ev
		}
		select {
		case <-sub.Ready():
		case <-deadline:
			return nil
		}
	}
}

// A scheduled action goes out when its time comes, with no browser involved: a PC's held
// long-poll receives it.
func TestRoomActionSentAtItsTime(t *testing.T) {
	l := newActionLab(t)
	f, hub, logs := l.start(t, 400*time.Millisecond)
	ctx := context.Background()
	sub := hub.Subscribe()
	defer sub.Close()
	start := time.Now()
	a, err := f.ScheduleRoomAction(ctx, shutdownAction("kim"))
	if err != nil {
		t.Fatal(err)
	}
	if ev := lastActions(sub); ev == nil || ev.Room.Name != "ENG301" || len(ev.Actions) != 1 || ev.Actions[0].State != models.ActionScheduled {
		t.Fatalf("scheduling published %+v", ev)
	}
	if n := l.pending(t); n != 0 {
		t.Fatalf("%d commands queued before the grace period ended", n)
	}
	c, err := f.NextCommand(ctx, l.pcs[0], Caller{}, 5*time.Second)
	if err != nil || c == nil || c.Type != wire.TypeShutdown || c.CreatedBy != "kim" {
		t.Fatalf("the PC's long-poll got %+v %v", c, err)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("sent after %s, before the grace period", took)
	}
	if n := l.pending(t); n != 1 {
		t.Errorf("%d commands left for the other PC, want 1", n)
	}
	stored, err := l.store.RoomActions(ctx, a.RoomID, time.Now())
	if err != nil || len(stored) != 1 || stored[0].State != models.ActionSent || stored[0].SentCount != 2 {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	// The long-poll wakes as the commands are queued, just before the list is published.
	if ev := nextActions(sub, time.Second); ev == nil || ev.Actions[0].State != models.ActionSent {
		t.Errorf("sending published %+v", ev)
	}
	for _, line := range []string{"room action scheduled", "room action sent"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("no %q in the log:\n%s", line, logs)
		}
	}
}

// A cancelled action is never sent.
func TestRoomActionCancelStopsIt(t *testing.T) {
	l := newActionLab(t)
	f, _, logs := l.start(t, 300*time.Millisecond)
	ctx := context.Background()
	a, err := f.ScheduleRoomAction(ctx, shutdownAction("kim"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.CancelRoomAction(ctx, a.ID, "lee"); err != nil {
		t.Fatal(err)
	}
	if c, err := f.NextCommand(ctx, l.pcs[0], Caller{}, time.Second); c != nil || err != nil {
		t.Fatalf("the PC got %+v %v after the cancel", c, err)
	}
	if n := l.pending(t); n != 0 {
		t.Errorf("%d commands queued", n)
	}
	if !strings.Contains(logs.String(), "room action cancelled") || !strings.Contains(logs.String(), "by=lee") {
		t.Errorf("the cancel is not in the log:\n%s", logs)
	}
}

// After a restart the server sends an action scheduled before it whose time has not passed,
// and ends unsent, with a warning, one whose time passed while it was down.
func TestRoomActionsAfterRestart(t *testing.T) {
	l := newActionLab(t)
	ctx := context.Background()
	now := time.Now()
	due, overdue := shutdownAction("kim"), shutdownAction("park")
	due.SendAt, overdue.SendAt = now.Add(300*time.Millisecond), now.Add(-time.Hour)
	for _, a := range []*models.RoomAction{&due, &overdue} {
		if err := l.store.ScheduleRoomAction(ctx, a, now); err != nil {
			t.Fatal(err)
		}
	}
	f, _, logs := l.start(t, 10*time.Second)
	c, err := f.NextCommand(ctx, l.pcs[0], Caller{}, 5*time.Second)
	if err != nil || c == nil || c.CreatedBy != "kim" {
		t.Fatalf("the PC got %+v %v, want the action that was still due", c, err)
	}
	if c, err := f.NextCommand(ctx, l.pcs[0], Caller{}, 0); c != nil || err != nil {
		t.Fatalf("the PC also got %+v %v: the overdue action went out", c, err)
	}
	as, err := l.store.RoomActions(ctx, due.RoomID, time.Now())
	if err != nil || len(as) != 2 {
		t.Fatalf("actions: %+v %v", as, err)
	}
	byID := map[int64]models.RoomAction{as[0].ID: as[0], as[1].ID: as[1]}
	if a := byID[due.ID]; a.State != models.ActionSent || a.SentCount != 2 {
		t.Errorf("the due action: %+v", a)
	}
	if a := byID[overdue.ID]; a.State != models.ActionCancelled || a.EndedBy != "" || a.SentCount != 0 {
		t.Errorf("the overdue action: %+v", a)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "the server was down at its time") {
		t.Errorf("no warning for the overdue action:\n%s", logs)
	}
}
