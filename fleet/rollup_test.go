package fleet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// clock is a test's time, moved by hand; on the day before the test runs, so that PINs made at
// the real time are valid at it. The fleet's goroutines read it while the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var day = time.Now().UTC().AddDate(0, 0, -1)

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(h, m, s, ms int) {
	c.mu.Lock()
	c.t = time.Date(day.Year(), day.Month(), day.Day(), h, m, s, ms*1e6, time.UTC)
	c.mu.Unlock()
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func beat(cpu float64) Beat {
	return Beat{Info: &wire.SystemInfo{CPUUsage: ptr(cpu), RAMUsagePercent: ptr(cpu / 2)}}
}
func at(h, m int) int64 {
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, time.UTC).Unix()
}
func minuteOf(ms []models.Minute, minute int64) *models.Minute {
	for i := range ms {
		if ms[i].Minute == minute {
			return &ms[i]
		}
	}
	return nil
}

// The minutes of history across minute boundaries, a gap that takes the PC offline, a return,
// and a boundary no roller closed (the next heartbeat does).
func TestMinuteRollup(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	f.cfg.OfflineAfter = 30 * time.Second
	c := &clock{}
	f.now = c.now
	ctx := context.Background()
	c.set(10, 0, 10, 0)
	id := register(t, f, cs, "M1")
	user := "kim"
	f.get(id).user = &user

	// 10:00:10 … 10:00:58, every 2 s: 25 heartbeats, CPU 0, 2, …, 48.
	for i := range 25 {
		if _, err := f.Heartbeat(ctx, id, beat(float64(2*i))); err != nil {
			t.Fatal(err)
		}
		c.add(2 * time.Second)
	}
	c.set(10, 1, 0, 0)
	f.closeMinutes(c.now()) // the roller at 10:01:00

	// Silent until 10:03:30: the sweep takes the PC offline at 10:01:40.
	c.set(10, 1, 40, 0)
	f.Sweep(ctx)
	c.set(10, 2, 0, 0)
	f.closeMinutes(c.now())
	c.set(10, 3, 0, 0)
	f.closeMinutes(c.now())

	// Back at 10:03:30, every 2 s to 10:03:58: 15 heartbeats at CPU 90.
	c.set(10, 3, 30, 0)
	for range 15 {
		if _, err := f.Heartbeat(ctx, id, beat(90)); err != nil {
			t.Fatal(err)
		}
		c.add(2 * time.Second)
	}
	// No roller at 10:04:00: the heartbeat at 10:04:01 closes the minute itself.
	c.set(10, 4, 1, 0)
	if _, err := f.Heartbeat(ctx, id, beat(10)); err != nil {
		t.Fatal(err)
	}
	c.set(10, 5, 0, 0)
	f.closeMinutes(c.now())

	f.historyMu.Lock()
	ms := f.minutes
	f.historyMu.Unlock()
	want := []struct {
		minute          int64
		samples, online int
		cpuAvg, cpuMax  float64
		user            string
	}{
		{at(10, 0), 25, 50, 24, 48, "kim"}, // online since the first at 10:00:10; to 10:01:00 as it polled at :58
		{at(10, 3), 15, 30, 90, 90, "kim"}, // back at 10:03:30: nothing before counts
		{at(10, 4), 1, 1, 10, 10, "kim"},   // 10:03:58 → 10:04:01 splits at the minute; silent after
	}
	if len(ms) != len(want) {
		t.Fatalf("%d minutes, want %d (none while offline): %+v", len(ms), len(want), ms)
	}
	for _, w := range want {
		m := minuteOf(ms, w.minute)
		if m == nil {
			t.Errorf("no minute %s", time.Unix(w.minute, 0).UTC().Format("15:04"))
			continue
		}
		if m.Samples != w.samples || m.OnlineSeconds != w.online || *m.CPUAvg != w.cpuAvg || *m.CPUMax != w.cpuMax ||
			*m.RAMAvg != w.cpuAvg/2 || m.User != w.user || m.IP != "10.0.0.1" {
			t.Errorf("minute %s: %+v cpu %v/%v, want %+v", time.Unix(w.minute, 0).UTC().Format("15:04"), m, *m.CPUAvg, *m.CPUMax, w)
		}
	}

	f.writeMinutes(ctx)
	got, err := cs.PCHistory(ctx, id, models.Span{From: time.Unix(at(10, 0), 0), To: time.Unix(at(10, 10), 0), Step: time.Minute})
	if err != nil || len(got) != 3 || got[1].OnlineSeconds != 30 {
		t.Errorf("stored %+v %v", got, err)
	}
}

// A stop writes the minute in progress; when the server comes back within it, the two parts
// are one minute.
func TestHistoryStopWritesTheMinuteInProgress(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	c := &clock{}
	c.set(11, 0, 0, 0)
	f.now = c.now
	id := register(t, f, cs, "M1")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.runHistory(ctx)
	}()
	for range 5 {
		c.add(2 * time.Second)
		if _, err := f.Heartbeat(context.Background(), id, beat(40)); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	<-done
	got, err := cs.PCHistory(context.Background(), id, models.Span{From: time.Unix(at(11, 0), 0), To: time.Unix(at(11, 1), 0), Step: time.Minute})
	// Online from the first heartbeat (a registration is not one), 2 s to each next.
	if err != nil || len(got) != 1 || got[0].Samples != 5 || got[0].OnlineSeconds != 8 {
		t.Fatalf("after the stop: %+v %v", got, err)
	}

	// The same minute again, after a restart: merged.
	f2, err := New(context.Background(), cs, f.hub, f.cfg, f.log)
	if err != nil {
		t.Fatal(err)
	}
	f2.now = c.now
	c.add(20 * time.Second)
	for range 3 {
		c.add(2 * time.Second)
		if _, err := f2.Heartbeat(context.Background(), id, beat(80)); err != nil {
			t.Fatal(err)
		}
	}
	f2.closeMinutes(c.now())
	f2.writeMinutes(context.Background())
	got, _ = cs.PCHistory(context.Background(), id, models.Span{From: time.Unix(at(11, 0), 0), To: time.Unix(at(11, 1), 0), Step: time.Minute})
	if len(got) != 1 || got[0].Samples != 8 || *got[0].CPUAvg != 55 {
		t.Errorf("merged minute %+v", got)
	}
}

// Pruning goes in batches with a pause between them, and keeps what retention keeps.
func TestPruneKeepsRetention(t *testing.T) {
	f, cs, _ := newTestFleet(t)
	c := &clock{}
	c.set(12, 0, 0, 0)
	f.now = c.now
	f.cfg.KeepMinutes, f.cfg.KeepHours, f.cfg.PrunePause = 24*time.Hour, 48*time.Hour, time.Millisecond
	id := register(t, f, cs, "M1")
	var ms []models.Minute
	for i := range 2500 { // one every minute, back from now: 1,440 kept
		ms = append(ms, models.Minute{PCID: id, Minute: c.now().Add(-time.Duration(i+1) * time.Minute).Unix(), Samples: 1})
	}
	if _, err := cs.SaveMinutes(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	f.prune(context.Background())
	got, err := cs.PCHistory(context.Background(), id, models.Span{From: c.now().Add(-72 * time.Hour), To: c.now(), Step: time.Minute})
	if err != nil || len(got) != 1440 {
		t.Errorf("%d minutes kept, want 1,440: %v", len(got), err)
	}
}

// failingMinutes stores the first minute of a write, then fails once.
type failingMinutes struct {
	*countingStore
	failed bool
}

func (s *failingMinutes) SaveMinutes(ctx context.Context, ms []models.Minute) (int, error) {
	if s.failed || len(ms) < 2 {
		return s.countingStore.SaveMinutes(ctx, ms)
	}
	s.failed = true
	n, err := s.countingStore.SaveMinutes(ctx, ms[:1])
	if err != nil {
		return n, err
	}
	return n, errors.New("disk full")
}

// A write that fails halfway sends again only what it did not store: the stored minute is not
// counted twice (SaveMinutes merges a minute sent again).
func TestHistoryWriteRetriesOnlyWhatFailed(t *testing.T) {
	_, cs, hub := newTestFleet(t)
	store := &failingMinutes{countingStore: cs}
	f, err := New(context.Background(), store, hub, Config{OfflineAfter: time.Minute, FlushEvery: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{}
	c.set(13, 0, 0, 0)
	f.now = c.now
	ids := []int64{register(t, f, cs, "A"), register(t, f, cs, "B")}
	for range 3 {
		c.add(2 * time.Second)
		for _, id := range ids {
			if _, err := f.Heartbeat(context.Background(), id, beat(20)); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.set(13, 1, 0, 0)
	f.closeMinutes(c.now())
	f.writeMinutes(context.Background()) // stores one, fails
	f.writeMinutes(context.Background()) // the other
	for _, id := range ids {
		got, err := cs.PCHistory(context.Background(), id, models.Span{From: time.Unix(at(13, 0), 0), To: time.Unix(at(13, 1), 0), Step: time.Minute})
		if err != nil || len(got) != 1 || got[0].Samples != 3 {
			t.Errorf("PC %d: %+v %v, want one minute of 3 heartbeats", id, got, err)
		}
	}
}
