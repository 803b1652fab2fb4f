package fleet

import (
	"context"
	"time"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// History: every heartbeat adds to its PC's current minute in memory; at each minute's end the
// minutes are written in one batch (models.SaveMinutes), at each hour's end the hour is rolled up
// from them, and retention prunes both in small batches. A SIGKILL loses the minute in progress.

// minuteAcc is a PC's minute in progress; the PC's mu guards it.
type minuteAcc struct {
	start   time.Time // the minute's start; zero when the PC has none
	samples int
	online  time.Duration
	covered time.Time // online time is counted up to here
	cpu     stat
	ram     stat
}

// stat sums one metric's values over the minute.
type stat struct {
	sum, max float64
	n        int
}

func (s *stat) add(v *float64) {
	if v == nil {
		return
	}
	if s.n == 0 || *v > s.max {
		s.max = *v
	}
	s.sum += *v
	s.n++
}

func (s stat) avg() *float64 {
	if s.n == 0 {
		return nil
	}
	a := s.sum / float64(s.n)
	return &a
}

func (s stat) maximum() *float64 {
	if s.n == 0 {
		return nil
	}
	m := s.max
	return &m
}

// addBeat adds a heartbeat (or a bare poll, info nil) at now to the PC's minute; p.mu must be
// held, and p.online and p.lastSeen must still be those before this beat. A PC online before
// counts as online since its last poll, if that was within OfflineAfter.
func (f *Fleet) addBeat(p *pc, now time.Time, info *wire.SystemInfo) {
	start := now.Truncate(time.Minute)
	if !p.minute.start.Equal(start) {
		if !p.minute.start.IsZero() {
			f.closeMinute(p, p.minute.start.Add(time.Minute))
		}
		p.minute = minuteAcc{start: start, covered: start}
	}
	m := &p.minute
	if f.stillOnline(p, now) {
		// From the previous poll, if it came to another instance after this one's last.
		m.online += now.Sub(latest(m.covered, p.lastSeen))
	}
	m.covered = now
	if info != nil {
		m.samples++
		m.cpu.add(info.CPUUsage)
		m.ram.add(info.RAMUsagePercent)
	}
}

// stillOnline tells whether the PC, online before, was online until at; p.mu must be held.
func (f *Fleet) stillOnline(p *pc, at time.Time) bool {
	return p.online && at.Sub(p.lastSeen) <= f.cfg.OfflineAfter
}

// closeMinute ends the PC's minute at end (the minute's end, or earlier when the server stops),
// counting it online until then if it still is, and queues the minute for writing; p.mu must be
// held.
func (f *Fleet) closeMinute(p *pc, end time.Time) {
	m := &p.minute
	// The rest of the minute is this instance's to count only if the PC's last poll came here.
	if f.stillOnline(p, end) && end.After(m.covered) && !p.lastSeen.After(m.covered) {
		m.online += end.Sub(m.covered)
		m.covered = end
	}
	if m.samples == 0 && m.online == 0 {
		return
	}
	row := models.Minute{PCID: p.id, Minute: m.start.Unix(), Samples: m.samples,
		OnlineSeconds: min(60, int(m.online.Round(time.Second)/time.Second)),
		CPUAvg:        m.cpu.avg(), CPUMax: m.cpu.maximum(), RAMAvg: m.ram.avg(), RAMMax: m.ram.maximum(), IP: p.ip}
	if p.user != nil && m.online > 0 {
		row.User = *p.user
	}
	f.historyMu.Lock()
	if len(f.minutes) >= maxPendingMinutes {
		// The database has refused writes for long: keep memory bounded, lose the oldest.
		f.minutes = f.minutes[1:]
		f.minutesDropped++
	}
	f.minutes = append(f.minutes, row)
	f.historyMu.Unlock()
}

// maxPendingMinutes bounds the minutes waiting to be written: 20 minutes of 10,000 PCs.
const maxPendingMinutes = 200_000

// closeMinutes ends, at end, every PC's minute that started before it, and keeps a new one
// running for PCs still online. With a minute boundary for end it closes the minute just past;
// with the time of a stop, the partial minute in progress.
func (f *Fleet) closeMinutes(end time.Time) {
	next := end.Truncate(time.Minute)
	for _, p := range f.all() {
		p.mu.Lock()
		if !p.minute.start.IsZero() && p.minute.start.Before(end) {
			f.closeMinute(p, earlier(end, p.minute.start.Add(time.Minute)))
			p.minute = minuteAcc{}
			if f.stillOnline(p, end) {
				p.minute = minuteAcc{start: next, covered: end}
			}
		}
		p.mu.Unlock()
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// writeMinutes writes the closed minutes; on failure those not stored stay for the next try
// (sent again, a stored one would count twice: SaveMinutes merges).
func (f *Fleet) writeMinutes(ctx context.Context) {
	f.historyMu.Lock()
	rows, dropped := f.minutes, f.minutesDropped
	f.minutes, f.minutesDropped = nil, 0
	f.historyMu.Unlock()
	if dropped > 0 {
		f.log.Error("history minutes dropped: the database refused writes for too long", "minutes", dropped)
	}
	if len(rows) == 0 {
		return
	}
	if saved, err := f.store.SaveMinutes(ctx, rows); err != nil {
		f.log.Error("history write failed; retrying next minute", "minutes", len(rows)-saved, "err", err)
		f.historyMu.Lock()
		f.minutes = append(rows[saved:], f.minutes...)
		f.historyMu.Unlock()
	}
}

// runHistory closes and writes the minutes at each minute's end; on the leader (peers.go) it
// rolls up each hour at its end and prunes what retention no longer keeps, and does both when it
// starts or becomes the leader (an hour the server was down at the end of). When ctx ends it
// writes the minute in progress.
func (f *Fleet) runHistory(ctx context.Context) {
	led := false
	catchUp := func(now time.Time) {
		lead := f.peers.Leader()
		if lead && (!led || now.Equal(now.Truncate(time.Hour))) {
			f.rollupHour(ctx, now.Truncate(time.Hour).Add(-time.Hour))
			f.prune(ctx)
		}
		led = lead
	}
	catchUp(f.now())
	for {
		now := f.now()
		boundary := now.Truncate(time.Minute).Add(time.Minute)
		t := time.NewTimer(boundary.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			f.closeMinutes(f.now())
			f.writeMinutes(wctx)
			cancel()
			return
		case <-t.C:
		}
		f.closeMinutes(boundary)
		f.writeMinutes(ctx)
		catchUp(boundary)
	}
}

func (f *Fleet) rollupHour(ctx context.Context, hour time.Time) {
	if err := f.store.RollupHour(ctx, hour.Unix()); err != nil {
		f.log.Error("hourly history rollup failed", "err", err)
	}
}

// pruneBatch rows go per transaction, a pause between them, so pruning a long backlog never
// holds the one writer for long.
const pruneBatch = 1000

// prune deletes the history older than the retention: the per-minute and hourly history, and
// the timetable's runs, kept as long as the hourly history.
func (f *Fleet) prune(ctx context.Context) {
	now := f.now()
	history := func(table string) func(context.Context, time.Time, int) (int, error) {
		return func(ctx context.Context, before time.Time, limit int) (int, error) {
			return f.store.PruneHistory(ctx, table, before, limit)
		}
	}
	for _, p := range []struct {
		table  string
		keep   time.Duration
		delete func(context.Context, time.Time, int) (int, error)
	}{
		{models.MinutesTable, f.cfg.KeepMinutes, history(models.MinutesTable)},
		{models.HoursTable, f.cfg.KeepHours, history(models.HoursTable)},
		{"timetable_runs", f.cfg.KeepHours, f.store.PruneTimetableRuns},
	} {
		table, total := p.table, 0
		for {
			n, err := p.delete(ctx, now.Add(-p.keep), pruneBatch)
			total += n
			if err != nil {
				f.log.Error("history pruning failed", "table", table, "err", err)
				break
			}
			if n < pruneBatch {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(f.cfg.PrunePause):
			}
		}
		if total > 0 {
			f.log.Info("history pruned", "table", table, "rows", total)
		}
	}
}
