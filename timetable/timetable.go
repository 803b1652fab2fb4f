// Package timetable evaluates a computer lab room's weekly power plan: which wake-ups,
// warnings and shutdown attempts fall in a window of time. It is pure: the server stores the
// entries and exceptions, calls Steps from its scheduler and its preview, and records which
// step keys it has run.
package timetable

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Actions of an Entry.
const (
	Wake     = "wake"
	Shutdown = "shutdown"
)

// Limits checked by Entry.Check.
const (
	maxWarn  = 2 * time.Hour
	minRetry = time.Minute
	maxSpan  = 12 * 60 // minutes from At to FinalAt
)

// Entry is one line of a room's weekly plan.
type Entry struct {
	ID         int64
	Days       Weekdays
	Action     string        // Wake or Shutdown
	At         Clock         // when it happens, on each of Days
	WarnBefore time.Duration // Shutdown only: warn logged-in users this long (real time) before At; 0 none
	RetryEvery time.Duration // Shutdown only: PCs skipped because someone is logged in are tried again this often ...
	FinalAt    Clock         // ... until this time; a FinalAt not after At is on the next day (22:00 → 01:00). Equal to At (or RetryEvery 0): no retries, At is the final attempt.
	Force      bool          // at FinalAt, shut down even the PCs where someone is logged in
}

// retries reports whether e asks for retries after At.
func (e Entry) retries() bool { return e.RetryEvery > 0 && e.FinalAt != e.At }

// span is how many minutes FinalAt lies after At, 1..1439, when e retries.
func (e Entry) span() int { return ((int(e.FinalAt)-int(e.At))%1440 + 1440) % 1440 }

// Check reports the first thing wrong with e, in Korean and English.
func (e Entry) Check() error {
	switch {
	case e.Action != Wake && e.Action != Shutdown:
		return fmt.Errorf("알 수 없는 동작 %q (wake 또는 shutdown) / unknown action %q (wake or shutdown)", e.Action, e.Action)
	case e.Days&allDays == 0 || e.Days&^allDays != 0:
		return errors.New("요일을 하나 이상 고르세요 / choose at least one weekday")
	case !e.At.valid() || !e.FinalAt.valid():
		return errors.New("시각은 00:00–23:59 사이여야 합니다 / times must be within 00:00–23:59")
	case e.WarnBefore < 0 || e.RetryEvery < 0:
		return errors.New("경고·재시도 간격은 음수일 수 없습니다 / warning and retry durations cannot be negative")
	case e.Action == Wake && (e.WarnBefore != 0 || e.RetryEvery != 0 || e.Force):
		return errors.New("켜기 항목에는 경고, 재시도, 강제 종료를 쓸 수 없습니다 / a wake entry takes no warning, retries or force")
	case e.WarnBefore > maxWarn:
		return fmt.Errorf("경고는 종료 %v 전까지만 가능합니다 / the warning can be at most %v before the shutdown", maxWarn, maxWarn)
	case e.RetryEvery > 0 && e.RetryEvery < minRetry:
		return fmt.Errorf("재시도 간격은 %v 이상이어야 합니다 / retries must be at least %v apart", minRetry, minRetry)
	case e.retries() && e.span() > maxSpan:
		return fmt.Errorf("마지막 시도(%v)는 종료 시각(%v) 뒤 12시간 이내여야 합니다 / the final attempt (%v) must be within 12 hours after the shutdown (%v)", e.FinalAt, e.At, e.FinalAt, e.At)
	}
	return nil
}

// Skip values of an Exception.
const (
	SkipAll      = "all"      // holiday: nothing runs that day
	SkipShutdown = "shutdown" // exam day: PCs are woken but not warned or shut down
	SkipWake     = "wake"
)

// dayLayout is the form of plan days in Exception.Date and Step.Day.
const dayLayout = "2006-01-02"

// maxNote is the longest Exception.Note, in characters.
const maxNote = 200

// Exception changes the plan of one date (a holiday, an exam day).
type Exception struct {
	Date string // "2026-12-25", the plan day in the room's time zone
	Skip string // SkipAll, SkipShutdown or SkipWake
	Note string
}

// Check reports the first thing wrong with x, in Korean and English.
func (x Exception) Check() error {
	if d, err := time.Parse(dayLayout, x.Date); err != nil || d.Format(dayLayout) != x.Date {
		return fmt.Errorf("날짜 %q: YYYY-MM-DD 형식의 실제 날짜여야 합니다 / date %q must be a real date as YYYY-MM-DD", x.Date, x.Date)
	}
	if x.Skip != SkipAll && x.Skip != SkipShutdown && x.Skip != SkipWake {
		return fmt.Errorf("건너뛰기 %q: all, shutdown, wake 중 하나여야 합니다 / skip %q must be all, shutdown or wake", x.Skip, x.Skip)
	}
	if utf8.RuneCountInString(x.Note) > maxNote {
		return fmt.Errorf("메모는 %d자 이하여야 합니다 / the note can be at most %d characters", maxNote, maxNote)
	}
	return nil
}

// Step kinds.
const (
	StepWake     = "wake"
	StepWarn     = "warn"
	StepShutdown = "shutdown" // the first attempt at At: only PCs where nobody is logged in
	StepRetry    = "retry"    // again, only PCs where nobody is logged in
	StepFinal    = "final"    // the last attempt at FinalAt; forces if Entry.Force
)

// Step is one moment of the plan.
type Step struct {
	EntryID int64
	Day     string // the plan day it belongs to ("2026-12-04"), in the zone: the day of the entry's At, even for retries after midnight
	Kind    string
	N       int       // retry number, 1.., for StepRetry; 0 otherwise
	At      time.Time // the instant, in loc
	Force   bool      // StepFinal of a forcing entry
}

// Key is unique per step of a plan, for storing that it ran: "12/2026-12-04/retry/3".
// Steps other than retries have no number: "12/2026-12-04/final".
func (s Step) Key() string {
	if s.Kind == StepRetry {
		return fmt.Sprintf("%d/%s/%s/%d", s.EntryID, s.Day, s.Kind, s.N)
	}
	return fmt.Sprintf("%d/%s/%s", s.EntryID, s.Day, s.Kind)
}

// ParseKey is the step a key names (Key's inverse): its entry, plan day, kind and number; At and
// Force are not in a key.
func ParseKey(key string) (Step, error) {
	parts := strings.Split(key, "/")
	var st Step
	var err error
	if len(parts) == 3 || len(parts) == 4 {
		st.EntryID, err = strconv.ParseInt(parts[0], 10, 64)
		st.Day, st.Kind = parts[1], parts[2]
		if err == nil && len(parts) == 4 {
			st.N, err = strconv.Atoi(parts[3])
		}
	}
	if err != nil || len(parts) < 3 || len(parts) > 4 || (st.Kind == StepRetry) != (len(parts) == 4) {
		return Step{}, fmt.Errorf("step key %q is not entry/day/kind[/n]", key)
	}
	return st, nil
}

// Steps returns every step with from < At <= to, ordered by At, then by entry id, then by the
// order within an entry (warn, shutdown, retries, final), for the entries and exceptions in loc.
// Consecutive windows (a,b], (b,c] therefore yield each step exactly once.
//
// For each plan day on one of its Days, a wake entry gives StepWake at At. A shutdown entry
// gives StepWarn at At−WarnBefore if WarnBefore > 0, then:
//   - with retries (RetryEvery > 0 and FinalAt ≠ At): StepShutdown at At, StepRetry every
//     RetryEvery of elapsed time after At while strictly before the final instant, and
//     StepFinal at FinalAt, forcing if Force;
//   - without retries: StepShutdown at At, or, if Force, StepFinal (forcing) at At instead.
//
// At and FinalAt are wall-clock times of loc: one that does not exist that day (a
// spring-forward gap) runs at the first instant after the gap, one that happens twice (fall
// back) runs at the first of the two. The warning is WarnBefore of real time before At. If At
// and FinalAt fall into the same gap they become one instant and the entry behaves as without
// retries.
//
// Exceptions apply to the plan day, the date of the entry's At, even for steps that fall on
// the day before (an early warning) or after (retries past midnight). Entries and exceptions
// that fail Check are left out: the server refuses them when they are stored.
func Steps(entries []Entry, exceptions []Exception, loc *time.Location, from, to time.Time) []Step {
	if !to.After(from) {
		return nil
	}
	skips := map[string][]string{}
	for _, x := range exceptions {
		if x.Check() == nil {
			skips[x.Date] = append(skips[x.Date], x.Skip)
		}
	}
	var valid []Entry
	for _, e := range entries {
		if e.Check() == nil {
			valid = append(valid, e)
		}
	}

	var out []Step
	// A plan day's steps lie between 2 hours before its midnight (the longest warning) and
	// 12 hours after its end (the latest final attempt), give or take a DST shift; two days
	// either side of the window's dates cover that.
	f, t := from.In(loc), to.In(loc)
	first := time.Date(f.Year(), f.Month(), f.Day()-2, 0, 0, 0, 0, time.UTC)
	last := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		name := day.Format(dayLayout)
		for _, e := range valid {
			if e.Days.Has(day.Weekday()) && !skipped(skips[name], e.Action) {
				out = e.appendSteps(out, day, name, loc, from, to)
			}
		}
	}
	// Stable: one entry's steps of one day are appended in their own order.
	slices.SortStableFunc(out, func(a, b Step) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.EntryID, b.EntryID)
	})
	return out
}

// skipped reports whether the exceptions of a day remove the steps of an action.
func skipped(skips []string, action string) bool {
	for _, s := range skips {
		if s == SkipAll || s == action {
			return true
		}
	}
	return false
}

// appendSteps appends e's steps of the plan day (midnight of that date, in UTC as a plain
// calendar value) that fall in (from, to].
func (e Entry) appendSteps(out []Step, day time.Time, name string, loc *time.Location, from, to time.Time) []Step {
	add := func(kind string, n int, at time.Time, force bool) {
		if at.After(from) && !at.After(to) {
			out = append(out, Step{EntryID: e.ID, Day: name, Kind: kind, N: n, At: at, Force: force})
		}
	}
	wall := day.Add(time.Duration(e.At) * time.Minute)
	at := instant(wall, loc)
	if e.Action == Wake {
		add(StepWake, 0, at, false)
		return out
	}
	if e.WarnBefore > 0 {
		// Real time before the shutdown, so users get the minutes they were promised even on
		// a DST night (a wall-clock warning could fall in the gap, on the shutdown itself).
		add(StepWarn, 0, at.Add(-e.WarnBefore), false)
	}
	var final time.Time
	if e.retries() {
		final = instant(wall.Add(time.Duration(e.span())*time.Minute), loc)
	}
	if !final.After(at) {
		if e.Force {
			add(StepFinal, 0, at, true)
		} else {
			add(StepShutdown, 0, at, false)
		}
		return out
	}
	add(StepShutdown, 0, at, false)
	// Retries count real time from At; start at the first one after from, so a short window
	// does not walk through the whole evening.
	n := 1
	if from.After(at) {
		n = int(from.Sub(at)/e.RetryEvery) + 1
	}
	for ; ; n++ {
		r := at.Add(time.Duration(n) * e.RetryEvery)
		if !r.Before(final) || r.After(to) {
			break
		}
		add(StepRetry, n, r, false)
	}
	add(StepFinal, 0, final, e.Force)
	return out
}

// instant turns a wall-clock time of loc, given as the same fields in UTC, into the instant it
// names. time.Date does not promise which side of a zone change it picks, so every offset in
// force around the answer it gives is tried: of the instants showing exactly that wall clock
// the earliest wins (fall back), and if none does (spring forward) the answer is the zone
// change that skips over it.
func instant(wall time.Time, loc *time.Location) time.Time {
	guess := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc)
	start, end := guess.ZoneBounds()
	probes := []time.Time{guess}
	if !start.IsZero() {
		probes = append(probes, start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		probes = append(probes, end)
	}
	var best time.Time
	for _, p := range probes {
		off := offset(p, loc)
		u := wall.Add(-off)
		if offset(u, loc) == off && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	if !best.IsZero() {
		return best.In(loc)
	}
	for _, change := range []time.Time{start, end} {
		if change.IsZero() {
			continue
		}
		before, after := offset(change.Add(-time.Nanosecond), loc), offset(change, loc)
		// The wall clock jumps from change+before to change+after at the change.
		if !wall.Before(change.Add(before)) && wall.Before(change.Add(after)) {
			return change.In(loc)
		}
	}
	return guess // not reached with the zones in tzdata: a gap always borders guess's zone
}

// offset is loc's offset from UTC at t.
func offset(t time.Time, loc *time.Location) time.Duration {
	_, sec := t.In(loc).Zone()
	return time.Duration(sec) * time.Second
}
