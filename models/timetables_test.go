package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A step's run is stored once with its commands; the keys that ran are read back; old runs are
// pruned in batches.
func TestTimetableRunsOnceAndPrune(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	room := &Room{Name: "301", Rows: 1, Cols: 1}
	if err := s.CreateRoom(ctx, room, now); err != nil {
		t.Fatal(err)
	}
	pc := registerTest(t, s, "M1")
	for i, age := range []time.Duration{30 * 24 * time.Hour, 20 * 24 * time.Hour, 10 * 24 * time.Hour, time.Hour} {
		run := &TimetableRun{StepKey: "1/day" + string(rune('a'+i)) + "/shutdown", RoomID: room.ID, RoomName: "301", EntryID: 1,
			Kind: "shutdown", PlannedAt: now.Add(-age), Outcomes: "[]"}
		cmds := []Command{{PCID: pc.ID, Type: "shutdown", Parameters: `{"delay":0}`, Priority: 1, Timeout: 300, CreatedBy: "timetable"}}
		if err := s.RunTimetableStep(ctx, run, cmds, now); err != nil {
			t.Fatal(err)
		}
		again := *run
		again.ID = 0
		if err := s.RunTimetableStep(ctx, &again, []Command{cmds[0]}, now); !errors.Is(err, ErrStepRan) {
			t.Fatalf("the same step again: %v", err)
		}
	}
	if n, err := s.PendingCounts(ctx); err != nil || n[pc.ID] != 4 {
		t.Fatalf("pending %v %v: want one shutdown per step, none for the repeats", n, err)
	}
	ran, err := s.RanSteps(ctx, now.Add(-15*24*time.Hour))
	if err != nil || len(ran) != 2 || !ran["1/dayc/shutdown"] || !ran["1/dayd/shutdown"] {
		t.Fatalf("ran since 15 days: %v %v", ran, err)
	}
	n, err := s.PruneTimetableRuns(ctx, now.Add(-5*24*time.Hour), 2)
	if err != nil || n != 2 {
		t.Fatalf("first batch pruned %d %v, want 2", n, err)
	}
	if n, err = s.PruneTimetableRuns(ctx, now.Add(-5*24*time.Hour), 2); err != nil || n != 1 {
		t.Fatalf("second batch pruned %d %v, want 1", n, err)
	}
	if left, _ := s.RanSteps(ctx, now.Add(-365*24*time.Hour)); len(left) != 1 || !left["1/dayd/shutdown"] {
		t.Fatalf("left %v, want the run of an hour ago", left)
	}
}
