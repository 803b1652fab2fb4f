package models

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// actionLab is a store with room ENG301 holding two PCs, and a third PC elsewhere.
func actionLab(t *testing.T) (*Store, []*PC) {
	t.Helper()
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateRoom(ctx, &Room{Name: "ENG301", Rows: 1, Cols: 3}, now); err != nil {
		t.Fatal(err)
	}
	pcs := []*PC{registerTest(t, s, "M1"), registerTest(t, s, "M2"), registerTest(t, s, "M3")}
	for i, pc := range pcs[:2] {
		if err := s.SetSeat(ctx, pc.ID, "ENG301", 1, i+1, now); err != nil {
			t.Fatal(err)
		}
	}
	return s, pcs
}

func scheduleTest(t *testing.T, s *Store, sendAt time.Time) *RoomAction {
	t.Helper()
	a := &RoomAction{RoomName: "ENG301", Type: "shutdown", Parameters: `{"delay":0}`, Priority: 1, Timeout: 300,
		SendAt: sendAt, CreatedBy: "kim"}
	if err := s.ScheduleRoomAction(context.Background(), a, time.Now()); err != nil {
		t.Fatal(err)
	}
	return a
}

// commandCount counts the commands queued for every PC.
func commandCount(t *testing.T, s *Store, pcs []*PC) int {
	t.Helper()
	n := 0
	for _, pc := range pcs {
		cs, err := s.PCCommands(context.Background(), pc.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		n += len(cs)
	}
	return n
}

func TestRoomActionScheduleSendCancel(t *testing.T) {
	s, pcs := actionLab(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.ScheduleRoomAction(ctx, &RoomAction{RoomName: "nowhere", Type: "shutdown", Parameters: "{}"}, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("schedule for an unknown room: %v", err)
	}
	sent := scheduleTest(t, s, now.Add(10*time.Second))
	if sent.ID == 0 || sent.State != ActionScheduled || commandCount(t, s, pcs) != 0 {
		t.Fatalf("scheduled %+v; %d commands", sent, commandCount(t, s, pcs))
	}

	a, cmds, err := s.SendRoomAction(ctx, sent.ID, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != ActionSent || a.SentCount != 2 || a.EndedBy != "" || a.EndedAt == nil || a.RoomName != "ENG301" || len(cmds) != 2 {
		t.Fatalf("sent %+v, %d commands", a, len(cmds))
	}
	for i, c := range cmds {
		stored, err := s.CommandByID(ctx, c.ID)
		if err != nil || stored.PCID != pcs[i].ID || stored.Type != "shutdown" || stored.Parameters != `{"delay":0}` ||
			stored.Priority != 1 || stored.Timeout != 300 || stored.CreatedBy != "kim" || stored.Status != "pending" {
			t.Errorf("command %d: %+v %v", i, stored, err)
		}
	}
	if commandCount(t, s, pcs[2:]) != 0 {
		t.Error("a PC outside the room got the command")
	}
	if _, _, err := s.SendRoomAction(ctx, sent.ID, nil, now); !errors.Is(err, ErrActionEnded) {
		t.Errorf("second send: %v", err)
	}
	if _, err := s.CancelRoomAction(ctx, sent.ID, "lee", now); !errors.Is(err, ErrActionEnded) {
		t.Errorf("cancel after send: %v", err)
	}

	cancelled := scheduleTest(t, s, now.Add(10*time.Second))
	a, err = s.CancelRoomAction(ctx, cancelled.ID, "lee", now)
	if err != nil || a.State != ActionCancelled || a.EndedBy != "lee" || a.EndedAt == nil {
		t.Fatalf("cancel: %+v %v", a, err)
	}
	if _, _, err := s.SendRoomAction(ctx, cancelled.ID, nil, now); !errors.Is(err, ErrActionEnded) {
		t.Errorf("send after cancel: %v", err)
	}
	if commandCount(t, s, pcs) != 2 {
		t.Errorf("%d commands, want the 2 of the sent action", commandCount(t, s, pcs))
	}
	if _, err := s.CancelRoomAction(ctx, 999, "lee", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel an unknown action: %v", err)
	}

	// The room's list: the scheduled ones and those ended in the last 24 hours, newest first.
	later := scheduleTest(t, s, now.Add(time.Minute))
	list, err := s.RoomActions(ctx, a.RoomID, now)
	if err != nil || len(list) != 3 || list[0].ID != later.ID || list[2].ID != sent.ID {
		t.Fatalf("room actions: %+v %v", list, err)
	}
	if list, err = s.RoomActions(ctx, a.RoomID, now.Add(25*time.Hour)); err != nil || len(list) != 1 || list[0].ID != later.ID {
		t.Errorf("a day later: %+v %v", list, err)
	}
	// The event log: newest first, by room, account (asked or cancelled), day and page.
	logged := func(q LogQuery) []int64 {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 10
		}
		as, err := s.RoomActionLog(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		return ids
	}
	all := []int64{later.ID, cancelled.ID, sent.ID}
	for name, c := range map[string]struct {
		q    LogQuery
		want []int64
	}{
		"all":                {LogQuery{}, all},
		"its room":           {LogQuery{RoomID: a.RoomID}, all},
		"another room":       {LogQuery{RoomID: a.RoomID + 1}, nil},
		"no room":            {LogQuery{RoomID: NoRoom}, nil},
		"cancelled by lee":   {LogQuery{CreatedBy: "lee"}, []int64{cancelled.ID}},
		"asked by kim":       {LogQuery{CreatedBy: "kim"}, all},
		"a page":             {LogQuery{Before: later.ID, Limit: 1}, []int64{cancelled.ID}},
		"from a minute on":   {LogQuery{From: now.Add(time.Minute)}, nil},
		"until a minute ago": {LogQuery{To: now.Add(-time.Minute)}, nil},
		"around now":         {LogQuery{From: now.Add(-time.Minute), To: now.Add(time.Minute)}, all},
	} {
		q := c.q
		if got := logged(q); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

// A cancel racing the send has exactly one winner, and commands exist only if the send won.
func TestRoomActionCancelRacesSend(t *testing.T) {
	s, pcs := actionLab(t)
	ctx := context.Background()
	for round := range 20 {
		a := scheduleTest(t, s, time.Now())
		before := commandCount(t, s, pcs)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		try := func(name string, f func() error) {
			defer wg.Done()
			err := f()
			if err != nil && !errors.Is(err, ErrActionEnded) {
				t.Errorf("%s: %v", name, err)
			}
			if err == nil {
				mu.Lock()
				won = append(won, name)
				mu.Unlock()
			}
		}
		for range 4 {
			wg.Add(2)
			go try("send", func() error { _, _, err := s.SendRoomAction(ctx, a.ID, nil, time.Now()); return err })
			go try("cancel", func() error { _, err := s.CancelRoomAction(ctx, a.ID, "lee", time.Now()); return err })
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: winners %v", round, won)
		}
		queued := commandCount(t, s, pcs) - before
		if (won[0] == "send") != (queued == 2) || (won[0] == "cancel") != (queued == 0) {
			t.Fatalf("round %d: %s won and %d commands were queued", round, won[0], queued)
		}
	}
}

// Scheduled actions outlive a restart of the server, in the order they are due; one whose time
// passed while the server was down can be ended by the server (by "") without sending anything.
func TestRoomActionsAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wcms.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.CreateRoom(ctx, &Room{Name: "ENG301", Rows: 1, Cols: 1}, now); err != nil {
		t.Fatal(err)
	}
	pc := registerTest(t, s, "M1")
	if err := s.SetSeat(ctx, pc.ID, "ENG301", 1, 1, now); err != nil {
		t.Fatal(err)
	}
	late := scheduleTest(t, s, now.Add(time.Minute))
	overdue := scheduleTest(t, s, now.Add(-time.Hour))
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	due, err := s.ScheduledRoomActions(ctx)
	if err != nil || len(due) != 2 || due[0].ID != overdue.ID || due[1].ID != late.ID || due[0].RoomName != "ENG301" {
		t.Fatalf("scheduled after restart: %+v %v", due, err)
	}
	a, err := s.CancelRoomAction(ctx, overdue.ID, "", now)
	if err != nil || a.State != ActionCancelled || a.EndedBy != "" || a.SentCount != 0 {
		t.Fatalf("server ends the overdue action: %+v %v", a, err)
	}
	if commandCount(t, s, []*PC{pc}) != 0 {
		t.Error("ending an overdue action queued commands")
	}
	if due, err = s.ScheduledRoomActions(ctx); err != nil || len(due) != 1 || due[0].ID != late.ID {
		t.Errorf("still scheduled: %+v %v", due, err)
	}
}
