package fleet

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// readingStore also counts the store reads another instance's changes cost.
type readingStore struct {
	*countingStore
}

func (r readingStore) ListPCs(ctx context.Context, ids ...int64) ([]models.PCRow, error) {
	r.count("ListPCs")
	return r.countingStore.ListPCs(ctx, ids...)
}

func (r readingStore) Commands(ctx context.Context, ids []int64) ([]models.Command, error) {
	r.count("Commands")
	return r.countingStore.Commands(ctx, ids)
}

// Other instances' polls update memory and the screens, and read nothing from the store (they
// come 5,000 a second at 10,000 agents); a PC change is read once per batch; a command queued
// elsewhere counts as pending here and wakes the PC's long-poll; an offline and a deletion apply.
func TestApplyOtherInstancesChanges(t *testing.T) {
	ctx := context.Background()
	cs := newTestStore(t)
	rs := readingStore{cs}
	hub := events.NewHub(0)
	f, err := New(ctx, rs, hub, Config{OfflineAfter: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a, b := register(t, f, cs, "A"), register(t, f, cs, "B")
	sub := hub.Subscribe()
	defer sub.Close()
	cs.writes = map[string]int{} // the loading at start is not counted

	at := time.Now().Add(time.Second).Truncate(time.Millisecond)
	var beats []Change
	for i := range 200 {
		beats = append(beats, beatChange(models.LightState{PCID: []int64{a, b}[i%2], CPUUsage: ptr(float64(i)), RAMUsagePercent: ptr(50.0), At: at}))
	}
	f.Apply(ctx, beats)
	if n := cs.writes["ListPCs"] + cs.writes["Commands"]; n != 0 {
		t.Fatalf("200 polls at another instance cost %d store reads", n)
	}
	v, _ := f.View(a)
	if !v.Online || *v.CPUUsage != 198 || !v.LastSeen.Equal(at) {
		t.Fatalf("after another instance's polls: online %v, cpu %v, seen %v (want %v)", v.Online, *v.CPUUsage, v.LastSeen, at)
	}
	// A PC's events coalesce: the screens get each PC's newest view.
	if evs, _ := sub.Drain(); len(evs) != 2 || !evs[0].PC.Online || *evs[1].PC.CPUUsage != 199 {
		t.Errorf("screens got %d events; want one per PC, online, with the newest figures", len(evs))
	}

	// A seat and a verified flag changed elsewhere (stored there): one read for the batch.
	if err := cs.SetVerified(ctx, a, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.Apply(ctx, []Change{{Kind: ChangePC, ID: a}, {Kind: ChangePCQuiet, ID: b}})
	if v, _ := f.View(a); v.Verified || cs.writes["ListPCs"] != 1 {
		t.Errorf("verified %v after a reload, %d reads", v.Verified, cs.writes["ListPCs"])
	}

	// A command queued elsewhere wakes the long-poll held here.
	got := make(chan *models.Command, 1)
	go func() {
		c, _ := f.NextCommand(ctx, a, Caller{Token: ""}, 10*time.Second)
		got <- c
	}()
	time.Sleep(50 * time.Millisecond)
	cmd := models.Command{PCID: a, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 60}
	if err := cs.EnqueueCommands(ctx, []models.Command{cmd}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ids, _ := cs.PendingCounts(ctx)
	if ids[a] != 1 {
		t.Fatalf("pending %v", ids)
	}
	queued, _ := cs.PCCommands(ctx, a, 1)
	f.Apply(ctx, []Change{{Kind: ChangeQueued, ID: queued[0].ID}})
	select {
	case c := <-got:
		if c == nil || c.ID != queued[0].ID {
			t.Fatalf("the long-poll took %v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a command queued at another instance did not wake the long-poll held here")
	}

	f.Apply(ctx, []Change{{Kind: ChangeOffline, ID: b}, {Kind: ChangeRemoved, ID: a}})
	if v, _ := f.View(b); v.Online {
		t.Error("B still online after another instance took it offline")
	}
	if _, ok := f.View(a); ok {
		t.Error("A still in memory after another instance deleted it")
	}
}
