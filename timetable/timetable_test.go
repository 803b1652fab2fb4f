package timetable

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// bilingual reports whether an error message has a Korean part and an English part.
func bilingual(err error) bool {
	ko, en, ok := strings.Cut(err.Error(), " / ")
	return ok && strings.ContainsFunc(ko, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) &&
		strings.ContainsFunc(en, func(r rune) bool { return r >= 'a' && r <= 'z' })
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustDays(t *testing.T, s string) Weekdays {
	t.Helper()
	w, err := ParseWeekdays(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// show writes steps one a line, the instant with the offset of its zone, so a step in the
// wrong zone or at the wrong side of a DST change shows.
func show(steps []Step) []string {
	out := []string{}
	for _, s := range steps {
		line := s.Key() + " " + s.At.Format(time.RFC3339)
		if s.Force {
			line += " force"
		}
		out = append(out, line)
	}
	return out
}

func same(t *testing.T, got []Step, want []string) {
	t.Helper()
	if g := show(got); !slices.Equal(g, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestEntryCheck(t *testing.T) {
	weekdays := Weekdays(0b0111110)
	good := Entry{ID: 1, Days: weekdays, Action: Shutdown, At: 22 * 60, WarnBefore: 10 * time.Minute, RetryEvery: 15 * time.Minute, FinalAt: 23*60 + 30, Force: true}
	tests := []struct {
		name   string
		change func(e *Entry)
		ok     bool
	}{
		{"good shutdown", func(e *Entry) {}, true},
		{"good wake", func(e *Entry) { *e = Entry{Days: weekdays, Action: Wake, At: 8 * 60} }, true},
		{"wake with FinalAt left set", func(e *Entry) { *e = Entry{Days: weekdays, Action: Wake, At: 8 * 60, FinalAt: 9 * 60} }, true},
		{"no retries, FinalAt ignored", func(e *Entry) { e.RetryEvery = 0; e.FinalAt = 3 * 60 }, true},
		{"final across midnight", func(e *Entry) { e.FinalAt = 1 * 60 }, true},
		{"final exactly 12h after", func(e *Entry) { e.FinalAt = 10 * 60 }, true},
		{"warn exactly 2h", func(e *Entry) { e.WarnBefore = 2 * time.Hour }, true},
		{"retry exactly 1m", func(e *Entry) { e.RetryEvery = time.Minute }, true},
		{"unknown action", func(e *Entry) { e.Action = "reboot" }, false},
		{"empty action", func(e *Entry) { e.Action = "" }, false},
		{"no days", func(e *Entry) { e.Days = 0 }, false},
		{"bit beyond saturday", func(e *Entry) { e.Days |= 1 << 7 }, false},
		{"at out of range", func(e *Entry) { e.At = 1440 }, false},
		{"final negative", func(e *Entry) { e.FinalAt = -1 }, false},
		{"negative warn", func(e *Entry) { e.WarnBefore = -time.Minute }, false},
		{"negative retry", func(e *Entry) { e.RetryEvery = -time.Minute }, false},
		{"warn over 2h", func(e *Entry) { e.WarnBefore = 2*time.Hour + time.Minute }, false},
		{"retry under 1m", func(e *Entry) { e.RetryEvery = 30 * time.Second }, false},
		{"final more than 12h after", func(e *Entry) { e.FinalAt = 10*60 + 1 }, false},
		{"final just before at (next day)", func(e *Entry) { e.FinalAt = 21*60 + 59 }, false},
		{"wake with warn", func(e *Entry) { e.Action = Wake; e.RetryEvery = 0; e.Force = false }, false},
		{"wake with retry", func(e *Entry) { e.Action = Wake; e.WarnBefore = 0; e.Force = false }, false},
		{"wake with force", func(e *Entry) { e.Action = Wake; e.WarnBefore = 0; e.RetryEvery = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.change(&e)
			err := e.Check()
			if (err == nil) != tt.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !bilingual(err) {
				t.Fatalf("error %q is not in Korean and English", err)
			}
		})
	}
}

func TestExceptionCheck(t *testing.T) {
	tests := []struct {
		name string
		x    Exception
		ok   bool
	}{
		{"holiday", Exception{Date: "2026-12-25", Skip: SkipAll, Note: "성탄절"}, true},
		{"exam", Exception{Date: "2026-12-04", Skip: SkipShutdown}, true},
		{"no wake", Exception{Date: "2028-02-29", Skip: SkipWake}, true},
		{"note of 200 Korean characters", Exception{Date: "2026-12-25", Skip: SkipAll, Note: strings.Repeat("가", 200)}, true},
		{"note too long", Exception{Date: "2026-12-25", Skip: SkipAll, Note: strings.Repeat("가", 201)}, false},
		{"empty date", Exception{Skip: SkipAll}, false},
		{"unpadded date", Exception{Date: "2026-2-5", Skip: SkipAll}, false},
		{"no such day", Exception{Date: "2026-02-29", Skip: SkipAll}, false},
		{"date with time", Exception{Date: "2026-12-25T00:00", Skip: SkipAll}, false},
		{"unknown skip", Exception{Date: "2026-12-25", Skip: "warn"}, false},
		{"empty skip", Exception{Date: "2026-12-25"}, false},
		{"upper-case skip", Exception{Date: "2026-12-25", Skip: "ALL"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.x.Check()
			if (err == nil) != tt.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !bilingual(err) {
				t.Fatalf("error %q is not in Korean and English", err)
			}
		})
	}
}

func TestStepKey(t *testing.T) {
	tests := []struct {
		s    Step
		want string
	}{
		{Step{EntryID: 12, Day: "2026-12-04", Kind: StepRetry, N: 3}, "12/2026-12-04/retry/3"},
		{Step{EntryID: 12, Day: "2026-12-04", Kind: StepFinal}, "12/2026-12-04/final"},
		{Step{EntryID: 1, Day: "2026-01-01", Kind: StepWake}, "1/2026-01-01/wake"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.s.Key(); got != tt.want {
				t.Fatalf("Key() = %q, want %q", got, tt.want)
			}
			if back, err := ParseKey(tt.want); err != nil || back != tt.s {
				t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", tt.want, back, err, tt.s)
			}
		})
	}
	for _, bad := range []string{"", "12", "12/2026-12-04", "x/2026-12-04/wake", "12/2026-12-04/retry", "12/2026-12-04/wake/2", "12/2026-12-04/retry/x", "1/2/3/4/5"} {
		if st, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) = %+v, want an error", bad, st)
		}
	}
}

// TestStepsSeoulWeek runs the usual lab plan over a week of Asia/Seoul, asked with the window
// in three different zones.
func TestStepsSeoulWeek(t *testing.T) {
	seoul := mustLoc(t, "Asia/Seoul")
	entries := []Entry{
		{ID: 2, Days: mustDays(t, "mon-fri"), Action: Shutdown, At: 22 * 60, WarnBefore: 10 * time.Minute, RetryEvery: 15 * time.Minute, FinalAt: 23*60 + 30, Force: true},
		{ID: 1, Days: mustDays(t, "mon-fri"), Action: Wake, At: 8 * 60},
	}
	var want []string
	for d := 7; d <= 11; d++ { // Monday 2026-12-07 .. Friday 2026-12-11
		day := fmt.Sprintf("2026-12-%02d", d)
		at := func(hm string) string { return day + "T" + hm + ":00+09:00" }
		want = append(want,
			"1/"+day+"/wake "+at("08:00"),
			"2/"+day+"/warn "+at("21:50"),
			"2/"+day+"/shutdown "+at("22:00"),
			"2/"+day+"/retry/1 "+at("22:15"),
			"2/"+day+"/retry/2 "+at("22:30"),
			"2/"+day+"/retry/3 "+at("22:45"),
			"2/"+day+"/retry/4 "+at("23:00"),
			"2/"+day+"/retry/5 "+at("23:15"),
			"2/"+day+"/final "+at("23:30")+" force",
		)
	}
	from := time.Date(2026, 12, 6, 0, 0, 0, 0, seoul) // Sunday
	to := from.AddDate(0, 0, 7)
	for _, zone := range []string{"Asia/Seoul", "UTC", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			loc := mustLoc(t, zone)
			same(t, Steps(entries, nil, seoul, from.In(loc), to.In(loc)), want)
		})
	}
	t.Run("window ends on a step", func(t *testing.T) {
		end := time.Date(2026, 12, 7, 22, 0, 0, 0, seoul)
		same(t, Steps(entries, nil, seoul, end.Add(-11*time.Minute), end), []string{
			"2/2026-12-07/warn 2026-12-07T21:50:00+09:00",
			"2/2026-12-07/shutdown 2026-12-07T22:00:00+09:00",
		})
		same(t, Steps(entries, nil, seoul, end, end.Add(15*time.Minute)), []string{
			"2/2026-12-07/retry/1 2026-12-07T22:15:00+09:00",
		})
	})
	t.Run("empty or reversed window", func(t *testing.T) {
		if got := Steps(entries, nil, seoul, to, to); got != nil {
			t.Fatalf("empty window gave %v", show(got))
		}
		if got := Steps(entries, nil, seoul, to, from); got != nil {
			t.Fatalf("reversed window gave %v", show(got))
		}
	})
}

// TestStepsAcrossMidnight checks that steps after midnight, and a warning before it, belong
// to the plan day of their entry and follow that day's exceptions.
func TestStepsAcrossMidnight(t *testing.T) {
	seoul := mustLoc(t, "Asia/Seoul")
	fri := mustDays(t, "fri")
	entries := []Entry{
		{ID: 7, Days: fri, Action: Shutdown, At: 23 * 60, WarnBefore: 15 * time.Minute, RetryEvery: 30 * time.Minute, FinalAt: 1 * 60},
		{ID: 8, Days: fri, Action: Shutdown, At: 10, WarnBefore: 20 * time.Minute},
	}
	all := []string{
		"8/2026-12-04/warn 2026-12-03T23:50:00+09:00",
		"8/2026-12-04/shutdown 2026-12-04T00:10:00+09:00",
		"7/2026-12-04/warn 2026-12-04T22:45:00+09:00",
		"7/2026-12-04/shutdown 2026-12-04T23:00:00+09:00",
		"7/2026-12-04/retry/1 2026-12-04T23:30:00+09:00",
		"7/2026-12-04/retry/2 2026-12-05T00:00:00+09:00",
		"7/2026-12-04/retry/3 2026-12-05T00:30:00+09:00",
		"7/2026-12-04/final 2026-12-05T01:00:00+09:00",
	}
	tests := []struct {
		name string
		x    []Exception
		want []string
	}{
		{"no exception", nil, all},
		{"exam on the plan day", []Exception{{Date: "2026-12-04", Skip: SkipShutdown}}, []string{}},
		{"holiday on the plan day", []Exception{{Date: "2026-12-04", Skip: SkipAll}}, []string{}},
		{"holiday on the date after", []Exception{{Date: "2026-12-05", Skip: SkipAll}}, all},
		{"holiday on the date before", []Exception{{Date: "2026-12-03", Skip: SkipAll}}, all},
	}
	from := time.Date(2026, 12, 3, 12, 0, 0, 0, seoul)
	to := time.Date(2026, 12, 6, 0, 0, 0, 0, seoul)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same(t, Steps(entries, tt.x, seoul, from, to), tt.want)
		})
	}
	t.Run("window before the plan day", func(t *testing.T) {
		end := time.Date(2026, 12, 3, 23, 55, 0, 0, seoul)
		same(t, Steps(entries, nil, seoul, end.Add(-time.Hour), end), all[:1])
	})
	t.Run("window from midnight", func(t *testing.T) {
		midnight := time.Date(2026, 12, 5, 0, 0, 0, 0, seoul)
		same(t, Steps(entries, nil, seoul, midnight.Add(-time.Second), to), all[5:])
		same(t, Steps(entries, nil, seoul, midnight, to), all[6:])
	})
}

// TestStepsNewYorkDST puts entries into the gap and the repeated hour of America/New_York's
// changes in 2026; retries keep real-time spacing across them.
func TestStepsNewYorkDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	sun := mustDays(t, "sun")
	tests := []struct {
		name  string
		entry Entry
		want  []string
	}{
		{"spring: shutdown in the gap runs when it ends",
			Entry{ID: 1, Days: sun, Action: Shutdown, At: 2*60 + 30, RetryEvery: 20 * time.Minute, FinalAt: 4 * 60},
			[]string{
				"1/2026-03-08/shutdown 2026-03-08T03:00:00-04:00",
				"1/2026-03-08/retry/1 2026-03-08T03:20:00-04:00",
				"1/2026-03-08/retry/2 2026-03-08T03:40:00-04:00",
				"1/2026-03-08/final 2026-03-08T04:00:00-04:00",
			}},
		{"spring: retries across the change keep 20 real minutes",
			Entry{ID: 2, Days: sun, Action: Shutdown, At: 1*60 + 30, RetryEvery: 20 * time.Minute, FinalAt: 3*60 + 30},
			[]string{
				"2/2026-03-08/shutdown 2026-03-08T01:30:00-05:00",
				"2/2026-03-08/retry/1 2026-03-08T01:50:00-05:00",
				"2/2026-03-08/retry/2 2026-03-08T03:10:00-04:00",
				"2/2026-03-08/final 2026-03-08T03:30:00-04:00",
			}},
		{"spring: a warning is real time before, not in the gap",
			Entry{ID: 3, Days: sun, Action: Shutdown, At: 3*60 + 10, WarnBefore: 30 * time.Minute},
			[]string{
				"3/2026-03-08/warn 2026-03-08T01:40:00-05:00",
				"3/2026-03-08/shutdown 2026-03-08T03:10:00-04:00",
			}},
		{"spring: wake at the start of the gap",
			Entry{ID: 4, Days: sun, Action: Wake, At: 2 * 60},
			[]string{"4/2026-03-08/wake 2026-03-08T03:00:00-04:00"}},
		{"spring: at and final in the same gap make one forced attempt",
			Entry{ID: 5, Days: sun, Action: Shutdown, At: 2*60 + 10, RetryEvery: 10 * time.Minute, FinalAt: 2*60 + 50, Force: true},
			[]string{"5/2026-03-08/final 2026-03-08T03:00:00-04:00 force"}},
		{"fall: shutdown in the repeated hour runs once, retries go on through it",
			Entry{ID: 6, Days: sun, Action: Shutdown, At: 1*60 + 30, RetryEvery: 20 * time.Minute, FinalAt: 2 * 60, Force: true},
			[]string{
				"6/2026-11-01/shutdown 2026-11-01T01:30:00-04:00",
				"6/2026-11-01/retry/1 2026-11-01T01:50:00-04:00",
				"6/2026-11-01/retry/2 2026-11-01T01:10:00-05:00",
				"6/2026-11-01/retry/3 2026-11-01T01:30:00-05:00",
				"6/2026-11-01/retry/4 2026-11-01T01:50:00-05:00",
				"6/2026-11-01/final 2026-11-01T02:00:00-05:00 force",
			}},
		{"fall: wake in the repeated hour runs once",
			Entry{ID: 7, Days: sun, Action: Wake, At: 1*60 + 30},
			[]string{"7/2026-11-01/wake 2026-11-01T01:30:00-04:00"}},
		{"fall: a warning is real time before, in the second 01:00",
			Entry{ID: 8, Days: sun, Action: Shutdown, At: 2*60 + 30, WarnBefore: 90 * time.Minute},
			[]string{
				"8/2026-11-01/warn 2026-11-01T01:00:00-05:00",
				"8/2026-11-01/shutdown 2026-11-01T02:30:00-05:00",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day, err := time.ParseInLocation("2006-01-02", tt.want[0][strings.Index(tt.want[0], "/")+1:][:10], ny)
			if err != nil {
				t.Fatal(err)
			}
			same(t, Steps([]Entry{tt.entry}, nil, ny, day.Add(-12*time.Hour), day.Add(36*time.Hour)), tt.want)
		})
	}
}

// TestStepsOrder: steps at the same instant (three entries' times pushed to the end of a DST
// gap) come by entry id whatever the order of the entries; a warning stays its real 30 minutes
// before its shutdown.
func TestStepsOrder(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	sun := mustDays(t, "sun")
	entries := []Entry{
		{ID: 9, Days: sun, Action: Shutdown, At: 3 * 60, WarnBefore: 30 * time.Minute},
		{ID: 5, Days: sun, Action: Wake, At: 2*60 + 30},
		{ID: 3, Days: sun, Action: Shutdown, At: 3 * 60, Force: true},
	}
	from := time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	same(t, Steps(entries, nil, ny, from, from.Add(6*time.Hour)), []string{
		"9/2026-03-08/warn 2026-03-08T01:30:00-05:00",
		"3/2026-03-08/final 2026-03-08T03:00:00-04:00 force",
		"5/2026-03-08/wake 2026-03-08T03:00:00-04:00",
		"9/2026-03-08/shutdown 2026-03-08T03:00:00-04:00",
	})
}

func TestStepsExceptions(t *testing.T) {
	seoul := mustLoc(t, "Asia/Seoul")
	monTue := mustDays(t, "mon,tue")
	entries := []Entry{
		{ID: 1, Days: monTue, Action: Wake, At: 8 * 60},
		{ID: 2, Days: monTue, Action: Shutdown, At: 22 * 60, WarnBefore: 5 * time.Minute, RetryEvery: 15 * time.Minute, FinalAt: 22*60 + 30},
	}
	day := func(d string, kinds ...string) []string {
		at := map[string]string{"wake": "08:00", "warn": "21:55", "shutdown": "22:00", "retry/1": "22:15", "final": "22:30"}
		var out []string
		for _, k := range kinds {
			id := "2"
			if k == "wake" {
				id = "1"
			}
			out = append(out, id+"/"+d+"/"+k+" "+d+"T"+at[k]+":00+09:00")
		}
		return out
	}
	full := []string{"wake", "warn", "shutdown", "retry/1", "final"}
	tue := day("2026-12-08", full...)
	tests := []struct {
		name string
		x    []Exception
		mon  []string
	}{
		{"none", nil, full},
		{"all", []Exception{{Date: "2026-12-07", Skip: SkipAll}}, nil},
		{"shutdown", []Exception{{Date: "2026-12-07", Skip: SkipShutdown}}, []string{"wake"}},
		{"wake", []Exception{{Date: "2026-12-07", Skip: SkipWake}}, []string{"warn", "shutdown", "retry/1", "final"}},
		{"wake and shutdown", []Exception{{Date: "2026-12-07", Skip: SkipWake}, {Date: "2026-12-07", Skip: SkipShutdown}}, nil},
		{"other date", []Exception{{Date: "2026-12-09", Skip: SkipAll}}, full},
		{"invalid exception is ignored", []Exception{{Date: "2026-12-07", Skip: "everything"}}, full},
	}
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, seoul)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := append(day("2026-12-07", tt.mon...), tue...)
			same(t, Steps(entries, tt.x, seoul, from, from.AddDate(0, 0, 2)), want)
		})
	}
}

// TestStepsLeavesOutInvalidEntries: an entry that fails Check (here a retry every nanosecond,
// which would otherwise make billions of steps) gives no steps; the others still do.
func TestStepsLeavesOutInvalidEntries(t *testing.T) {
	seoul := mustLoc(t, "Asia/Seoul")
	entries := []Entry{
		{ID: 1, Days: allDays, Action: Shutdown, At: 22 * 60, RetryEvery: 1, FinalAt: 10 * 60},
		{ID: 2, Days: allDays, Action: Wake, At: 8 * 60},
	}
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, seoul)
	same(t, Steps(entries, nil, seoul, from, from.AddDate(0, 0, 1)), []string{"2/2026-12-07/wake 2026-12-07T08:00:00+09:00"})
}

// TestStepsConsecutiveWindows calls Steps the way the scheduler does, over 7-second windows
// for a week with a DST change, and compares with one call over the whole week: each step
// comes exactly once, in order, and no key repeats.
func TestStepsConsecutiveWindows(t *testing.T) {
	if testing.Short() {
		t.Skip("walks two weeks in 7-second windows")
	}
	ny := mustLoc(t, "America/New_York")
	entries := []Entry{
		{ID: 1, Days: allDays, Action: Wake, At: 1*60 + 30},
		{ID: 2, Days: allDays, Action: Shutdown, At: 1*60 + 45, WarnBefore: 30 * time.Minute, RetryEvery: 7 * time.Minute, FinalAt: 3 * 60, Force: true},
		{ID: 3, Days: mustDays(t, "sat,sun"), Action: Shutdown, At: 2*60 + 30, Force: true},
		{ID: 4, Days: allDays, Action: Shutdown, At: 23 * 60, WarnBefore: time.Hour, RetryEvery: 13 * time.Minute, FinalAt: 1 * 60},
	}
	tests := []struct {
		name       string
		start      time.Time
		exceptions []Exception
	}{
		{"fall back", time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC), []Exception{{Date: "2026-10-30", Skip: SkipAll}, {Date: "2026-11-02", Skip: SkipShutdown}}},
		{"spring forward", time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), []Exception{{Date: "2026-03-07", Skip: SkipWake}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := tt.start.AddDate(0, 0, 7)
			whole := Steps(entries, tt.exceptions, ny, tt.start, end)
			var pieces []Step
			// A week is 86400 windows of 7 seconds exactly.
			for a := tt.start; a.Before(end); a = a.Add(7 * time.Second) {
				pieces = append(pieces, Steps(entries, tt.exceptions, ny, a, a.Add(7*time.Second))...)
			}
			if len(whole) < 7*4 {
				t.Fatalf("only %d steps in a week", len(whole))
			}
			same(t, pieces, show(whole))
			keys := map[string]bool{}
			for i, s := range whole {
				if keys[s.Key()] {
					t.Fatalf("key %s twice", s.Key())
				}
				keys[s.Key()] = true
				if i > 0 {
					p := whole[i-1]
					if s.At.Before(p.At) || s.At.Equal(p.At) && s.EntryID < p.EntryID {
						t.Fatalf("out of order: %s after %s", s.Key(), p.Key())
					}
				}
			}
		})
	}
}

// TestInstantAgainstWalk checks instant on every minute of the days around each 2026 zone
// change of several zones against a brute-force answer: walking the instants minute by minute,
// a wall clock runs at the first instant that shows it, or, if none does, at the first that
// shows a later one.
func TestInstantAgainstWalk(t *testing.T) {
	tests := []struct {
		zone    string
		changes int // in 2026
	}{
		{"America/New_York", 2},
		{"Europe/Berlin", 2},
		{"America/Santiago", 2},    // changes at midnight: 2026-09-06 has no 00:xx
		{"Australia/Lord_Howe", 2}, // changes by half an hour
		{"Asia/Seoul", 0},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			// The dates on both sides of each change, and an ordinary day.
			days := map[time.Time]bool{time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC): true}
			changes := 0
			for at := time.Date(2026, 1, 1, 0, 0, 0, 0, loc); ; changes++ {
				_, end := at.ZoneBounds()
				if end.IsZero() || end.Year() > 2026 {
					break
				}
				for _, t := range []time.Time{end.Add(-time.Nanosecond).In(loc), end.In(loc)} {
					days[time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)] = true
				}
				at = end
			}
			if changes != tt.changes {
				t.Fatalf("found %d zone changes in 2026, want %d", changes, tt.changes)
			}
			for day := range days {
				// Wall clocks shown by the instants of two days around it, in order.
				type shown struct{ at, wall time.Time }
				var walk []shown
				for at := day.Add(-30 * time.Hour); at.Before(day.Add(54 * time.Hour)); at = at.Add(time.Minute) {
					w := at.In(loc)
					walk = append(walk, shown{at, time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, time.UTC)})
				}
				first := map[time.Time]time.Time{}
				for _, s := range walk {
					if _, ok := first[s.wall]; !ok {
						first[s.wall] = s.at
					}
				}
				for m := 0; m < 1440; m++ {
					wall := day.Add(time.Duration(m) * time.Minute)
					want, ok := first[wall]
					if !ok {
						i := slices.IndexFunc(walk, func(s shown) bool { return s.wall.After(wall) })
						want = walk[i].at
					}
					got := instant(wall, loc)
					if !got.Equal(want) || got.Location() != loc {
						t.Fatalf("%s %s: got %v, want %v", day.Format("2006-01-02"), Clock(m), got, want.In(loc))
					}
				}
			}
		})
	}
}

// BenchmarkSteps measures the scheduler's call (a 5-second window) and the preview's (36 hours)
// for a room with a dozen entries.
func BenchmarkSteps(b *testing.B) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		b.Fatal(err)
	}
	var entries []Entry
	for i := range 6 {
		entries = append(entries,
			Entry{ID: int64(2 * i), Days: allDays, Action: Wake, At: Clock(7*60 + 10*i)},
			Entry{ID: int64(2*i + 1), Days: allDays, Action: Shutdown, At: Clock(21*60 + 10*i), WarnBefore: 10 * time.Minute, RetryEvery: 5 * time.Minute, FinalAt: 2 * 60, Force: true})
	}
	x := []Exception{{Date: "2026-12-25", Skip: SkipAll}}
	from := time.Date(2026, 12, 7, 23, 0, 0, 0, seoul)
	for _, w := range []time.Duration{5 * time.Second, 36 * time.Hour} {
		b.Run(w.String(), func(b *testing.B) {
			for b.Loop() {
				Steps(entries, x, seoul, from, from.Add(w))
			}
		})
	}
}
