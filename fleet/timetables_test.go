package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// timetableLab is a room of three PCs in Seoul time, under a fake clock: ON (on, nobody logged
// in), KIM (on, kim logged in) and OFF (off).
type timetableLab struct {
	f     *Fleet
	store *countingStore
	now   time.Time
	ids   map[string]int64
	room  *models.Room
}

func newTimetableLab(t *testing.T) *timetableLab {
	t.Helper()
	ctx := context.Background()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	l := &timetableLab{store: newTestStore(t), ids: map[string]int64{}}
	l.f = l.fleet(t, seoul)
	l.room = &models.Room{Name: "301", Rows: 1, Cols: 3}
	if err := l.store.CreateRoom(ctx, l.room, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i, m := range []string{"ON", "KIM", "OFF"} {
		id := register(t, l.f, l.store, m)
		l.ids[m] = id
		if err := l.f.SetSeat(ctx, id, "301", 1, i+1); err != nil {
			t.Fatal(err)
		}
		user := ""
		if m == "KIM" {
			user = "kim"
		}
		if _, err := l.f.Heartbeat(ctx, id, Beat{Info: &wire.SystemInfo{CurrentUser: &user}, Full: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.f.Offline(ctx, l.ids["OFF"], "shutdown"); err != nil {
		t.Fatal(err)
	}
	return l
}

// fleet is a fleet on the lab's store whose clock is the lab's.
func (l *timetableLab) fleet(t *testing.T, loc *time.Location) *Fleet {
	f, err := New(context.Background(), l.store, events.NewHub(0), Config{OfflineAfter: 24 * time.Hour, FlushEvery: time.Hour,
		Location: loc}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.now = func() time.Time { return l.now }
	return f
}

// at sets the clock to a time of 2026-12-07 (a Monday) in Seoul, "21:50:03", or of the next day
// with a "+1 " prefix, and has each fleet look at its timetables.
func (l *timetableLab) at(t *testing.T, clock string, fleets ...*Fleet) {
	t.Helper()
	l.now = l.clock(t, clock)
	for _, f := range fleets {
		f.runTimetables(context.Background())
	}
}

// clock is a time as at takes it.
func (l *timetableLab) clock(t *testing.T, clock string) time.Time {
	t.Helper()
	day := "2026-12-07 "
	if len(clock) > 3 && clock[:3] == "+1 " {
		day, clock = "2026-12-08 ", clock[3:]
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05", day+clock, l.f.cfg.Location)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// runs are the stored runs, oldest first, with their outcomes by machine.
func (l *timetableLab) runs(t *testing.T) []map[string]string {
	t.Helper()
	rs, err := l.store.TimetableRunLog(context.Background(), models.LogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]string{}
	for m, id := range l.ids {
		byID[id] = m
	}
	var out []map[string]string
	for i := len(rs) - 1; i >= 0; i-- {
		var os []models.StepOutcome
		if err := json.Unmarshal([]byte(rs[i].Outcomes), &os); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{"": rs[i].StepKey}
		for _, o := range os {
			m[byID[o.PCID]] = o.Outcome
		}
		out = append(out, m)
	}
	return out
}

// pending are the undelivered commands of a PC, by type.
func (l *timetableLab) pending(t *testing.T, m string) map[string]int {
	t.Helper()
	cs, err := l.store.PCCommands(context.Background(), l.ids[m], 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range cs {
		if c.Status == wire.StatusPending {
			out[c.Type]++
		}
	}
	return out
}

// A night's shutdown: the logged-in users are warned, the PC where nobody is logged in is shut
// down, the one in use is skipped and tried again until its user leaves; each step is stored
// with its outcome for every PC, once, however many fleets run it and however often.
func TestTimetableWarnsSkipsAndRetries(t *testing.T) {
	l := newTimetableLab(t)
	ctx := context.Background()
	if err := l.store.AddTimetableEntry(ctx, &models.TimetableEntry{RoomID: l.room.ID, Days: 0b0111110, Action: "shutdown",
		AtMinute: 22 * 60, WarnMinutes: 10, RetryMinutes: 15, FinalMinute: 23 * 60, CreatedBy: "admin"}, l.clock(t, "12:00:00")); err != nil {
		t.Fatal(err)
	}
	other := l.fleet(t, l.f.cfg.Location) // a second instance that believes it leads as well
	both := []*Fleet{l.f, other}

	l.at(t, "21:49:58", both...)
	if got := l.runs(t); len(got) != 0 {
		t.Fatalf("runs before the warning: %v", got)
	}
	l.at(t, "21:50:03", both...)
	l.at(t, "21:50:08", both...)
	runs := l.runs(t)
	if len(runs) != 1 || runs[0]["KIM"] != OutcomeWarned || runs[0]["ON"] != OutcomeNobody || runs[0]["OFF"] != OutcomeOff {
		t.Fatalf("after the warning: %v", runs)
	}
	if p := l.pending(t, "KIM"); p[wire.TypeMessage] != 1 {
		t.Fatalf("KIM's pending commands %v, want one warning", p)
	}
	if p := l.pending(t, "ON"); len(p) != 0 {
		t.Fatalf("ON's pending commands %v: nobody to warn", p)
	}

	l.at(t, "22:00:02", both...)
	runs = l.runs(t)
	if len(runs) != 2 || runs[1]["ON"] != OutcomeShutDown || runs[1]["KIM"] != OutcomeSkipped || runs[1]["OFF"] != OutcomeOff {
		t.Fatalf("after the shutdown: %v", runs)
	}
	if l.pending(t, "ON")[wire.TypeShutdown] != 1 || l.pending(t, "KIM")[wire.TypeShutdown] != 0 || len(l.pending(t, "OFF")) != 0 {
		t.Fatalf("shutdowns: ON %v KIM %v OFF %v", l.pending(t, "ON"), l.pending(t, "KIM"), l.pending(t, "OFF"))
	}
	if err := l.f.Offline(ctx, l.ids["ON"], "shutdown"); err != nil {
		t.Fatal(err)
	}
	if err := other.Offline(ctx, l.ids["ON"], "shutdown"); err != nil {
		t.Fatal(err)
	}

	l.at(t, "22:15:01", both...)
	if runs = l.runs(t); len(runs) != 3 || runs[2]["KIM"] != OutcomeSkipped || runs[2]["ON"] != OutcomeOff {
		t.Fatalf("retry 1: %v", runs)
	}
	// kim logs off; the next retry shuts the PC down.
	for _, f := range both {
		if _, err := f.Heartbeat(ctx, l.ids["KIM"], Beat{Info: &wire.SystemInfo{CurrentUser: ptr("")}, Full: true}); err != nil {
			t.Fatal(err)
		}
	}
	l.at(t, "22:30:01", both...)
	if runs = l.runs(t); len(runs) != 4 || runs[3]["KIM"] != OutcomeShutDown || runs[3][""] == "" {
		t.Fatalf("retry 2: %v", runs)
	}
	if got := l.pending(t, "KIM")[wire.TypeShutdown]; got != 1 {
		t.Fatalf("KIM got %d shutdowns, want 1", got)
	}
	// The servers were down from 22:31 to 23:10: the retry at 22:45 and the final step at 23:00
	// are too late to run, and are recorded as missed, queueing nothing.
	l.at(t, "23:10:00", both...)
	runs = l.runs(t)
	if len(runs) != 6 || runs[4]["KIM"] != OutcomeMissed || runs[5]["KIM"] != OutcomeMissed || runs[5]["OFF"] != OutcomeMissed {
		t.Fatalf("steps missed by more than %s: %v", overdueAtStart, runs)
	}
	if got := l.pending(t, "KIM")[wire.TypeShutdown]; got != 1 {
		t.Fatalf("KIM has %d shutdowns after the missed steps, want still 1", got)
	}
}

// A leader that starts records the steps of the last day that no instance ran, but not those
// planned before their entry was made, nor those that ran.
func TestTimetableRecordsMissedSteps(t *testing.T) {
	l := newTimetableLab(t)
	ctx := context.Background()
	// A wake every day at 08:00, made Sunday the 6th at noon.
	if err := l.store.AddTimetableEntry(ctx, &models.TimetableEntry{RoomID: l.room.ID, Days: 0b1111111, Action: "wake",
		AtMinute: 8 * 60, CreatedBy: "admin"}, l.clock(t, "12:00:00").AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	// Monday 08:00 ran; the servers were then down until 09:00 Tuesday.
	l.at(t, "08:00:01", l.f)
	l.now = l.clock(t, "+1 09:00:00")
	restarted := l.fleet(t, l.f.cfg.Location)
	restarted.runTimetables(ctx)
	runs := l.runs(t)
	if len(runs) != 2 || runs[0]["OFF"] != OutcomeNoRelay || runs[1]["OFF"] != OutcomeMissed || runs[1][""] != "1/2026-12-08/wake" {
		t.Fatalf("runs %v: want Monday's wake, then Tuesday's missed (Sunday's came before the entry)", runs)
	}
	restarted.timetableFrom = time.Time{} // another start: nothing is recorded twice
	restarted.runTimetables(ctx)
	if got := l.runs(t); len(got) != 2 {
		t.Fatalf("a second start recorded again: %v", got)
	}
}

// The final step forces the PCs still in use when the entry says so, and leaves them on when
// it does not; a holiday skips the whole plan day, even its retries after midnight.
func TestTimetableFinalAndHoliday(t *testing.T) {
	for _, force := range []bool{true, false} {
		l := newTimetableLab(t)
		ctx := context.Background()
		// Shutdown at 23:30, retries every 20 minutes until 00:30 the next day.
		if err := l.store.AddTimetableEntry(ctx, &models.TimetableEntry{RoomID: l.room.ID, Days: 0b1111111, Action: "shutdown",
			AtMinute: 23*60 + 30, RetryMinutes: 20, FinalMinute: 30, Force: force, CreatedBy: "admin"}, l.clock(t, "12:00:00")); err != nil {
			t.Fatal(err)
		}
		for _, clock := range []string{"23:29:59", "23:30:01", "23:50:01", "+1 00:10:01", "+1 00:30:01"} {
			l.at(t, clock, l.f)
		}
		runs := l.runs(t)
		want := OutcomeLeftOn
		if force {
			want = OutcomeForced
		}
		if len(runs) != 4 || runs[3][""] != runs[3][""][:len(runs[3][""])-len("final")]+"final" || runs[3]["KIM"] != want {
			t.Fatalf("force %v: %v", force, runs)
		}
		if runs[2][""][len(runs[2][""])-len("2026-12-07/retry/2"):] != "2026-12-07/retry/2" {
			t.Errorf("the retry after midnight belongs to the plan day: %v", runs[2])
		}
		if got := l.pending(t, "KIM")[wire.TypeShutdown]; (got == 1) != force {
			t.Errorf("force %v: KIM has %d shutdowns", force, got)
		}
		// A holiday on Tuesday the 8th: its 23:30 and the retries after the next midnight do not run.
		if err := l.store.AddTimetableException(ctx, &models.TimetableException{RoomID: &l.room.ID, Day: "2026-12-08",
			Skip: "all", CreatedBy: "admin"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, clock := range []string{"+1 23:30:01", "+1 23:50:01"} {
			l.at(t, clock, l.f)
		}
		if got := l.runs(t); len(got) != 4 {
			t.Errorf("force %v: the holiday ran %v", force, got[4:])
		}
	}
}

// BenchmarkTimetableTick is the leader's look at the timetables every 5 s with 100 rooms of 4
// entries each and nothing due: the cost every server pays all day.
func BenchmarkTimetableTick(b *testing.B) {
	ctx := context.Background()
	store := newTestStore(b)
	f, err := New(ctx, store, events.NewHub(0), Config{Location: time.UTC}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		r := &models.Room{Name: fmt.Sprintf("R%03d", i), Rows: 6, Cols: 8}
		if err := store.CreateRoom(ctx, r, time.Now()); err != nil {
			b.Fatal(err)
		}
		for _, e := range []models.TimetableEntry{
			{Days: 0b0111110, Action: "wake", AtMinute: 8 * 60},
			{Days: 0b0111110, Action: "shutdown", AtMinute: 22 * 60, WarnMinutes: 10, RetryMinutes: 15, FinalMinute: 23*60 + 30, Force: true},
			{Days: 0b1000001, Action: "shutdown", AtMinute: 18 * 60},
			{Days: 0b0100000, Action: "wake", AtMinute: 7 * 60},
		} {
			e.RoomID, e.CreatedBy = r.ID, "bench"
			if err := store.AddTimetableEntry(ctx, &e, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) // a Monday noon: nothing due
	f.now = func() time.Time { return now }
	b.ResetTimer()
	for range b.N {
		now = now.Add(timetableEvery)
		f.runTimetables(ctx)
	}
}

// The preview plays the night forward: a PC the evening's shutdown turns off is woken the next
// morning through a PC still on in its subnet, not reported as on already.
func TestTimetablePreviewWakesWhatTheNightTurnedOff(t *testing.T) {
	l := newTimetableLab(t)
	ctx := context.Background()
	for i, m := range []string{"ON", "KIM", "OFF"} {
		user := map[string]string{"KIM": "kim"}[m]
		info := &wire.SystemInfo{CurrentUser: &user, MACAddress: ptr(fmt.Sprintf("02:00:00:00:00:0%d", i+1)), Subnet: ptr(fmt.Sprintf("10.9.0.%d/24", i+1))}
		if _, err := l.f.Heartbeat(ctx, l.ids[m], Beat{Info: info, Full: true, Agent: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.f.Offline(ctx, l.ids["OFF"], "shutdown"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []models.TimetableEntry{
		{RoomID: l.room.ID, Days: 0b1111111, Action: "shutdown", AtMinute: 22 * 60, CreatedBy: "admin"},
		{RoomID: l.room.ID, Days: 0b1111111, Action: "wake", AtMinute: 8 * 60, CreatedBy: "admin"},
	} {
		if err := l.store.AddTimetableEntry(ctx, &e, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	es, err := l.store.TimetableEntries(ctx, l.room.ID)
	if err != nil {
		t.Fatal(err)
	}
	steps := l.f.TimetablePreview("301", es, nil, l.clock(t, "21:00:00"), l.clock(t, "+1 09:00:00"))
	byPC := map[int64][]string{}
	for _, ps := range steps {
		for _, o := range ps.Outcomes {
			byPC[o.PCID] = append(byPC[o.PCID], o.Outcome)
		}
	}
	for m, w := range map[string]string{"ON": "shut down,waking", "KIM": "skipped,on", "OFF": "off,waking"} {
		if g := strings.Join(byPC[l.ids[m]], ","); g != w {
			t.Errorf("%s: %s, want %s", m, g, w)
		}
	}
}
