package models

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

var hist0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func minuteAt(pc int64, at time.Time, samples, online int, cpu, cpuMax float64, user string) Minute {
	return Minute{PCID: pc, Minute: at.Unix(), Samples: samples, OnlineSeconds: online, CPUAvg: ptr(cpu), CPUMax: ptr(cpuMax),
		RAMAvg: ptr(cpu / 2), RAMMax: ptr(cpuMax / 2), User: user, IP: "10.0.0.1"}
}

func near(a *float64, b float64) bool { return a != nil && math.Abs(*a-b) < 1e-9 }

// A minute saved twice (the server stopped and came back within it) is merged: samples and
// seconds add up (60 at most), averages weigh by samples, maxima take the larger; a part with
// no CPU figure leaves the other's.
func TestSaveMinutesMerges(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "M1").ID
	first := minuteAt(pc, hist0, 10, 20, 10, 30, "kim")
	second := minuteAt(pc, hist0, 30, 50, 50, 20, "")
	second.RAMAvg, second.RAMMax = nil, nil
	for _, m := range []Minute{first, second} {
		if _, err := s.SaveMinutes(ctx, []Minute{m}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PCHistory(ctx, pc, Span{From: hist0, To: hist0.Add(time.Minute), Step: time.Minute})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	p := got[0]
	if p.Samples != 40 || p.OnlineSeconds != 60 || !near(p.CPUAvg, 40) || !near(p.CPUMax, 30) ||
		!near(p.RAMAvg, 5) || !near(p.RAMMax, 15) || p.User != "kim" || p.InUseMinutes != 1 || !p.At.Equal(hist0) {
		t.Errorf("merged minute %+v (cpu %v/%v ram %v/%v)", p, deref(p.CPUAvg), deref(p.CPUMax), deref(p.RAMAvg), deref(p.RAMMax))
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// The hour is rolled up from its minutes only: averages weigh by samples, the maximum is the
// minutes' largest, in-use minutes count the minutes with a user, the user is the last one; a
// minute of the next hour stays out. Rolling up again replaces, never adds.
func TestRollupHour(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "M1").ID
	ms := []Minute{
		minuteAt(pc, hist0, 30, 60, 10, 20, "kim"),
		minuteAt(pc, hist0.Add(time.Minute), 10, 20, 50, 90, "lee"),
		minuteAt(pc, hist0.Add(59*time.Minute), 20, 40, 20, 25, ""),
		minuteAt(pc, hist0.Add(time.Hour), 30, 60, 99, 99, "park"), // the next hour
	}
	if _, err := s.SaveMinutes(ctx, ms); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.RollupHour(ctx, hist0.Unix()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PCHistory(ctx, pc, Span{From: hist0, To: hist0.Add(2 * time.Hour), Step: time.Hour})
	if err != nil || len(got) != 1 {
		t.Fatalf("hours %+v %v (want the first hour only: the second is not rolled up)", got, err)
	}
	h := got[0]
	// CPU: (10·30 + 50·10 + 20·20) / 60 = 20.
	if h.Samples != 60 || h.OnlineSeconds != 120 || !near(h.CPUAvg, 20) || !near(h.CPUMax, 90) || !near(h.RAMAvg, 10) ||
		h.InUseMinutes != 2 || h.User != "lee" {
		t.Errorf("hour %+v cpu %v/%v", h, deref(h.CPUAvg), deref(h.CPUMax))
	}
}

// Steps group the minutes; a step with no minute is absent (the caller fills the gaps); the
// room counts each PC once per step however many minutes it has.
func TestHistorySteps(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, b := registerTest(t, s, "A").ID, registerTest(t, s, "B").ID
	ms := []Minute{
		minuteAt(a, hist0, 30, 60, 10, 10, "kim"),
		minuteAt(a, hist0.Add(time.Minute), 30, 60, 30, 30, ""),
		minuteAt(b, hist0.Add(time.Minute), 30, 60, 50, 50, ""),
		minuteAt(a, hist0.Add(10*time.Minute), 30, 30, 70, 70, ""),
	}
	if _, err := s.SaveMinutes(ctx, ms); err != nil {
		t.Fatal(err)
	}
	sp := Span{From: hist0, To: hist0.Add(15 * time.Minute), Step: 5 * time.Minute}
	if sp.Steps() != 3 {
		t.Errorf("%d steps", sp.Steps())
	}
	pts, err := s.PCHistory(ctx, a, sp)
	if err != nil || len(pts) != 2 {
		t.Fatalf("%+v %v", pts, err)
	}
	if !pts[0].At.Equal(hist0) || pts[0].Samples != 60 || !near(pts[0].CPUAvg, 20) || pts[0].InUseMinutes != 1 ||
		!pts[1].At.Equal(hist0.Add(10*time.Minute)) || pts[1].OnlineSeconds != 30 {
		t.Errorf("steps %+v", pts)
	}
	room, err := s.RoomHistory(ctx, []int64{a, b}, sp)
	if err != nil || len(room) != 2 {
		t.Fatalf("%+v %v", room, err)
	}
	if r := room[0]; r.PCsOnline != 2 || r.PCsInUse != 1 || r.OnlineSeconds != 180 || !near(r.CPUAvg, 30) {
		t.Errorf("room step %+v cpu %v", r, deref(r.CPUAvg))
	}
	if none, err := s.RoomHistory(ctx, nil, sp); err != nil || len(none) != 0 {
		t.Errorf("a room with no PC: %v %v", none, err)
	}
}

// Pruning deletes only what is older than the limit, at most limit rows a call; the caller
// repeats until a call deletes fewer. A deleted PC's history goes with it.
func TestPruneHistoryInBatches(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var ms []Minute
	pcs := []int64{registerTest(t, s, "A").ID, registerTest(t, s, "B").ID, registerTest(t, s, "C").ID}
	for i := range 1000 {
		for _, pc := range pcs {
			ms = append(ms, minuteAt(pc, hist0.Add(time.Duration(i)*time.Minute), 1, 2, 3, 4, ""))
		}
	}
	if _, err := s.SaveMinutes(ctx, ms); err != nil {
		t.Fatal(err)
	}
	cut := hist0.Add(900 * time.Minute) // 2,700 rows before, 300 after
	var batches []int
	for {
		n, err := s.PruneHistory(ctx, MinutesTable, cut, 1000)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n < 1000 {
			break
		}
	}
	if len(batches) != 3 || batches[0] != 1000 || batches[1] != 1000 || batches[2] != 700 {
		t.Errorf("batches %v, want 1000 1000 700", batches)
	}
	left, err := s.PCHistory(ctx, pcs[0], Span{From: hist0, To: hist0.Add(1000 * time.Minute), Step: time.Minute})
	if err != nil || len(left) != 100 || !left[0].At.Equal(cut) {
		t.Fatalf("left %d minutes from %v, %v", len(left), left[0].At, err)
	}
	if _, err := s.PruneHistory(ctx, "pcs", cut, 10); err == nil {
		t.Error("pruned a table that is not history")
	}
	if err := s.DeletePC(ctx, pcs[0], "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.PCHistory(ctx, pcs[0], Span{From: hist0, To: hist0.Add(1000 * time.Minute), Step: time.Hour}); err != nil || len(gone) != 0 {
		t.Errorf("a deleted PC's history: %d hours, %v", len(gone), err)
	}
	if kept, _ := s.PCHistory(ctx, pcs[1], Span{From: hist0, To: hist0.Add(1000 * time.Minute), Step: time.Minute}); len(kept) != 100 {
		t.Errorf("another PC's history: %d minutes", len(kept))
	}
}

// benchFleet registers n PCs and returns their ids.
func benchFleet(b *testing.B, s *Store, n int) []int64 {
	ctx := context.Background()
	pin, _, err := s.CreatePIN(ctx, pinHash, PINMulti, time.Now().Add(time.Hour), "admin", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		pc := &PC{MachineID: fmt.Sprintf("BENCH-%05d", i), Hostname: "LAB", MACAddress: "AA", IPAddress: "10.0.0.1"}
		if _, err := s.Register(ctx, Enrol{PINHash: pin.TokenHash, PC: pc}, time.Now()); err != nil {
			b.Fatal(err)
		}
		ids[i] = pc.ID
	}
	return ids
}

// BenchmarkSaveMinutes is one minute's write at 10,000 PCs: what the fleet stores each minute.
func BenchmarkSaveMinutes(b *testing.B) {
	s := openTest(b)
	ids := benchFleet(b, s, 10_000)
	ms := make([]Minute, len(ids))
	minute := hist0
	for b.Loop() {
		for i, id := range ids {
			ms[i] = minuteAt(id, minute, 30, 60, 12.5, 40, "student")
		}
		if _, err := s.SaveMinutes(context.Background(), ms); err != nil {
			b.Fatal(err)
		}
		minute = minute.Add(time.Minute)
	}
}

// BenchmarkRollupHour is one hour rolled up at 1,000 PCs from their 60,000 minutes.
func BenchmarkRollupHour(b *testing.B) {
	s := openTest(b)
	ids := benchFleet(b, s, 1000)
	var ms []Minute
	for m := range 60 {
		for _, id := range ids {
			ms = append(ms, minuteAt(id, hist0.Add(time.Duration(m)*time.Minute), 30, 60, float64(m), 90, ""))
		}
	}
	if _, err := s.SaveMinutes(context.Background(), ms); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.RollupHour(context.Background(), hist0.Unix()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoomDay is the room chart's query: 50 PCs' day of minutes (72,000 rows) in
// 10-minute steps, among 500 PCs' history.
func BenchmarkRoomDay(b *testing.B) {
	s := openTest(b)
	ids := benchFleet(b, s, 500)
	var ms []Minute
	for m := range 24 * 60 {
		for _, id := range ids {
			ms = append(ms, Minute{PCID: id, Minute: hist0.Add(time.Duration(m) * time.Minute).Unix(), Samples: 30, OnlineSeconds: 60,
				CPUAvg: ptr(float64(m % 100)), User: "s"})
		}
	}
	if _, err := s.SaveMinutes(context.Background(), ms); err != nil {
		b.Fatal(err)
	}
	sp := Span{From: hist0, To: hist0.Add(24 * time.Hour), Step: 10 * time.Minute}
	for b.Loop() {
		pts, err := s.RoomHistory(context.Background(), ids[:50], sp)
		if err != nil || len(pts) != 144 {
			b.Fatal(len(pts), err)
		}
	}
}
