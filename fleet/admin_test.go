package fleet

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// The fleet is the one source of a PC's view: what an operator changes is in it, and published,
// at once; after a restart it has what the database has, console user included; and its order is
// the store's.
func TestViewIsTheOneSource(t *testing.T) {
	ctx := context.Background()
	f, cs, hub := newTestFleet(t)
	sub := hub.Subscribe()
	defer sub.Close()
	var ids []int64
	for _, m := range []string{"V-1", "V-2", "V-3", "V-4"} {
		ids = append(ids, register(t, f, cs, m))
	}
	for _, r := range []string{"B", "A"} {
		if err := cs.CreateRoom(ctx, &models.Room{Name: r, Rows: 2, Cols: 2}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sub.Drain()
	if err := f.SetSeat(ctx, ids[0], "B", 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSeat(ctx, ids[1], "A", 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSeat(ctx, ids[2], "A", 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := f.SetVerified(ctx, ids[3], false); err != nil {
		t.Fatal(err)
	}
	evs, _ := sub.Drain()
	if len(evs) != 4 || evs[0].Kind != events.PCUpdated || evs[0].PC.Room == nil || *evs[0].PC.Room != "B" || evs[3].PC.Verified {
		t.Fatalf("published %+v", evs)
	}
	if _, err := f.Heartbeat(ctx, ids[1], Beat{Info: &wire.SystemInfo{CPUUsage: ptr(5.0), CurrentUser: ptr("kim")}, Full: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.UpdateRoom(ctx, "A", models.Room{Name: "C"}); err != nil {
		t.Fatal(err)
	}
	evs, _ = sub.Drain()
	rooms := map[int64]string{}
	var roomChanged bool
	for _, ev := range evs {
		if ev.Kind == events.PCUpdated {
			rooms[ev.PCID] = *ev.PC.Room
		}
		roomChanged = roomChanged || ev.Kind == events.RoomChanged && ev.Room.Name == "A"
	}
	if rooms[ids[1]] != "C" || rooms[ids[2]] != "C" || len(rooms) != 2 || !roomChanged {
		t.Fatalf("after renaming A to C: PCs moved %v, room event %v", rooms, roomChanged)
	}

	order := func(vs []models.PCView) (out []int64) {
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	all := func(*models.PCView) bool { return true }
	rows, err := cs.ListPCs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stored []int64
	for _, r := range rows {
		stored = append(stored, r.ID)
	}
	if got := order(f.Views(all)); !slices.Equal(got, stored) {
		t.Fatalf("fleet order %v, store order %v", got, stored)
	}

	// A restarted fleet has it all from the database.
	restarted, err := New(ctx, cs, hub, Config{OfflineAfter: time.Minute, FlushEvery: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		before, _ := f.View(id)
		after, _ := restarted.View(id)
		before.Online, after.Online, before.LastSeen, after.LastSeen = false, false, time.Time{}, time.Time{} // the grace period
		if !viewsEqual(before, after) {
			t.Errorf("PC %d before a restart %+v, after %+v", id, before, after)
		}
	}
	if v, _ := restarted.View(ids[1]); v.CurrentUser == nil || *v.CurrentUser != "kim" {
		t.Fatalf("the console user after a restart: %v", v.CurrentUser)
	}
}

func viewsEqual(a, b models.PCView) bool {
	eqS := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqI := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ID == b.ID && a.Hostname == b.Hostname && a.MACAddress == b.MACAddress && a.IPAddress == b.IPAddress &&
		a.Verified == b.Verified && eqS(a.Room, b.Room) && eqI(a.SeatRow, b.SeatRow) && eqI(a.SeatCol, b.SeatCol) &&
		eqS(a.CurrentUser, b.CurrentUser)
}

// gatedStore holds RecordIP until released, as a slow or locked database would.
type gatedStore struct {
	*countingStore
	entered, release chan struct{}
}

func (g *gatedStore) RecordIP(ctx context.Context, id int64, ip string, now time.Time) error {
	g.entered <- struct{}{}
	<-g.release
	return g.countingStore.RecordIP(ctx, id, ip, now)
}

// Reading a PC never waits on the database: while its IP change is being written, its view, the
// lists and the counts answer at once. Before, the PC's lock was held across the write.
func TestReadsDoNotWaitOnWrites(t *testing.T) {
	ctx := context.Background()
	f, cs, hub := newTestFleet(t)
	id := register(t, f, cs, "SLOW-1")
	g := &gatedStore{countingStore: cs, entered: make(chan struct{}), release: make(chan struct{})}
	slow, err := New(ctx, g, hub, Config{OfflineAfter: time.Minute, FlushEvery: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := slow.Heartbeat(ctx, id, Beat{Info: &wire.SystemInfo{IPAddress: ptr("10.0.0.99")}})
		done <- err
	}()
	<-g.entered // the write is under way
	read := make(chan struct{})
	go func() {
		slow.View(id)
		slow.Views(func(*models.PCView) bool { return true })
		slow.Stats()
		slow.AllowPoll(id)
		close(read)
	}()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("reading the PC waited on its database write")
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, _ := slow.View(id); v.IPAddress != "10.0.0.99" {
		t.Fatalf("IP after the write: %s", v.IPAddress)
	}
}
