package views

import (
	"context"
	"strconv"
	"time"
)

// Timetable is a room's timetable page: its weekly entries, the dates that change them, and
// what the plan will do in the next day, step by step and PC by PC.
type Timetable struct {
	Page
	Room       string
	Zone       string    // the time zone the times are in
	Now        time.Time // in Zone
	Entries    []TimetableEntry
	Exceptions []TimetableException
	Steps      []PlanStep
	PCs        []PCPlan
}

// TimetableEntry is one line of the weekly plan (also the API's JSON).
type TimetableEntry struct {
	ID           int64  `json:"id"`
	Days         string `json:"days"`
	Action       string `json:"action"`
	At           string `json:"at"`
	WarnMinutes  int    `json:"warn_minutes"`
	Message      string `json:"message"`
	RetryMinutes int    `json:"retry_minutes"`
	FinalAt      string `json:"final_at"`
	Force        bool   `json:"force"`
}

// TimetableException is a date that changes the plan (also the API's JSON).
type TimetableException struct {
	ID       int64  `json:"id"`
	Date     string `json:"date"`
	Skip     string `json:"skip"`
	Note     string `json:"note"`
	AllRooms bool   `json:"all_rooms"`
}

// PlanStep is one moment of the plan ahead.
type PlanStep struct {
	At    time.Time
	Kind  string // timetable.Step* names
	N     int
	Force bool
}

// PCPlan is what the plan ahead does to some PCs, the same to each: its outcomes in order, a
// run of the same one in consecutive steps as one item.
type PCPlan struct {
	Hostnames []string
	Items     []PlanItem
}

// PlanItem is one outcome (fleet.Outcome* words) from From to To, Count steps long.
type PlanItem struct {
	From, To time.Time
	Outcome  string
	User     string
	Count    int
}

// stepText names a step kind.
func stepText(ctx context.Context, s PlanStep) string {
	switch s.Kind {
	case "wake":
		return T(ctx, "켜기", "wake")
	case "warn":
		return T(ctx, "경고", "warning")
	case "shutdown":
		return T(ctx, "종료(사용 중이 아닌 PC)", "shut down (PCs not in use)")
	case "retry":
		return T(ctx, "다시 시도 ", "retry ") + strconv.Itoa(s.N)
	case "final":
		if s.Force {
			return T(ctx, "마지막 종료(강제)", "final shutdown (forced)")
		}
		return T(ctx, "마지막 시도", "last try")
	}
	return s.Kind
}

// outcomeText names what a step does to a PC.
func outcomeText(ctx context.Context, outcome string) string {
	switch outcome {
	case "waking":
		return T(ctx, "켬", "woken")
	case "no relay":
		return T(ctx, "켤 수 없음(같은 네트워크에 켜진 PC 없음)", "cannot be woken (no PC on in its network)")
	case "on":
		return T(ctx, "이미 켜짐", "on already")
	case "off":
		return T(ctx, "꺼져 있음", "off")
	case "warned":
		return T(ctx, "경고", "warned")
	case "nobody":
		return T(ctx, "경고 없음(로그인한 사람 없음)", "no warning (nobody logged in)")
	case "shut down":
		return T(ctx, "종료", "shut down")
	case "skipped":
		return T(ctx, "건너뜀(사용 중)", "skipped (in use)")
	case "forced":
		return T(ctx, "강제 종료", "forced off")
	case "left on":
		return T(ctx, "켜 둠(사용 중)", "left on (in use)")
	case "missed":
		return T(ctx, "실행 안 됨(그 시각에 서버가 멈춰 있었음)", "missed (the server was down at its time)")
	}
	return outcome
}

// planTime is a time of the plan: the clock, with the day when it is not today.
func planTime(ctx context.Context, now, t time.Time) string {
	switch {
	case sameDay(now, t):
		return t.Format("15:04")
	case sameDay(now.AddDate(0, 0, 1), t):
		return T(ctx, "내일 ", "tomorrow ") + t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// itemText is one item of a PC's plan: its outcome, the user, and when.
func itemText(ctx context.Context, now time.Time, it PlanItem) string {
	s := outcomeText(ctx, it.Outcome)
	if it.User != "" {
		s += " · " + it.User
	}
	s += " · " + planTime(ctx, now, it.From)
	if it.Count > 1 {
		s += "–" + planTime(ctx, now, it.To) + T(ctx, " ("+strconv.Itoa(it.Count)+"회)", " ("+strconv.Itoa(it.Count)+" times)")
	}
	return s
}

// actionText names an entry's action with its times.
func entryText(ctx context.Context, e TimetableEntry) string {
	if e.Action == "wake" {
		return T(ctx, "켜기 ", "Wake at ") + e.At
	}
	s := T(ctx, "종료 ", "Shut down at ") + e.At
	if e.WarnMinutes > 0 {
		s += T(ctx, " · "+strconv.Itoa(e.WarnMinutes)+"분 전 경고", " · warn "+strconv.Itoa(e.WarnMinutes)+" min before")
	}
	if e.RetryMinutes > 0 && e.FinalAt != e.At {
		s += T(ctx, " · 사용 중이면 "+strconv.Itoa(e.RetryMinutes)+"분마다 "+e.FinalAt+"까지 다시", " · in use: retry every "+strconv.Itoa(e.RetryMinutes)+" min until "+e.FinalAt)
	}
	if e.Force {
		s += T(ctx, " · 마지막에 강제 종료", " · then force")
	}
	return s
}

// skipText names what an exception skips.
func skipText(ctx context.Context, skip string) string {
	switch skip {
	case "all":
		return T(ctx, "모두 쉼(휴일)", "nothing runs (holiday)")
	case "shutdown":
		return T(ctx, "종료·경고 안 함(시험일)", "no warning or shutdown (exam day)")
	case "wake":
		return T(ctx, "켜기 안 함", "no wake")
	}
	return skip
}

// weekdayChoices are the form's day boxes, Monday first, with timetable.ParseWeekdays's names.
var weekdayChoices = []struct{ Name, KO, EN string }{
	{"mon", "월", "Mon"}, {"tue", "화", "Tue"}, {"wed", "수", "Wed"}, {"thu", "목", "Thu"}, {"fri", "금", "Fri"},
	{"sat", "토", "Sat"}, {"sun", "일", "Sun"},
}
