package views

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The event log's tabs.
const (
	LogOutages  = "outages"
	LogCommands = "commands"
	LogEvents   = "registrations"
	LogActions  = "room-actions"
	LogRuns     = "timetable"
)

// LogNoRoom is LogFilter.Room for the PCs placed in no room.
const LogNoRoom = "none"

// LogFilter is the event log's filters as the address carries them; "" is no filter.
type LogFilter struct {
	Hostname  string // one PC
	CreatedBy string // commands and registrations: one account
	Room      string // a room's id, or LogNoRoom
	From, To  string // days, YYYY-MM-DD, both included
}

// values are f's query parameters.
func (f LogFilter) values(tab string) url.Values {
	vals := url.Values{"tab": {tab}}
	for name, v := range map[string]string{"pc": f.Hostname, "by": f.CreatedBy, "room": f.Room, "from": f.From, "to": f.To} {
		if v != "" {
			vals.Set(name, v)
		}
	}
	return vals
}

// Any tells whether any filter is set.
func (f LogFilter) Any() bool { return f != LogFilter{} }

// LogURL is the address of a page of the event log: a tab, its filters and the id the page
// starts before (0: the newest).
func LogURL(tab string, f LogFilter, before int64) string {
	vals := f.values(tab)
	if before != 0 {
		vals.Set("before", strconv.FormatInt(before, 10))
	}
	return "/log?" + vals.Encode()
}

// LogExportURL is the address of a tab's CSV export with its filters.
func LogExportURL(tab string, f LogFilter) string {
	return "/log/export?" + f.values(tab).Encode()
}

// LogRoom is a room the event log can be filtered by.
type LogRoom struct {
	ID   int64
	Name string
}

// OutageRow is one offline period of a PC in the event log.
type OutageRow struct {
	PCID     int64
	Hostname string
	Start    time.Time
	End      *time.Time    // nil while the PC is still offline
	Duration time.Duration // so far, while it lasts
	Reason   string
}

// EventRow is a change of the fleet's membership: a PC registered, re-enrolled, deleted.
type EventRow struct {
	Kind      string // models.Event*
	PCID      int64
	Hostname  string
	MachineID string
	IP        string
	By        string
	Detail    string // more about it: models.PCEvent.Detail
	At        time.Time
}

// CommandSend is the commands one send created, in the command audit: one row, the PCs'
// commands within.
type CommandSend struct {
	Commands []CommandView // newest first; never empty
	Room     string        // the room of every PC, "" when they are not all in one
}

// LoggedAction is a room's power action in the event log: asked for, then sent or cancelled.
type LoggedAction struct {
	RoomAction
	Room      string
	CreatedAt time.Time
}

// LoggedRun is a timetable step the server ran, with what it did to each PC of the room.
type LoggedRun struct {
	ID    int64
	Room  string
	Step  PlanStep // At is when it was planned
	RanAt time.Time
	PCs   []RunPC
}

// RunPC is what a timetable step did to one PC.
type RunPC struct {
	Hostname, Outcome, User string
}

// runSummary counts a run's outcomes: "종료 12 · 건너뜀(사용 중) 3".
func runSummary(ctx context.Context, r LoggedRun) string {
	var order []string
	counts := map[string]int{}
	for _, p := range r.PCs {
		if counts[p.Outcome] == 0 {
			order = append(order, p.Outcome)
		}
		counts[p.Outcome]++
	}
	var parts []string
	for _, o := range order {
		parts = append(parts, outcomeText(ctx, o)+" "+strconv.Itoa(counts[o]))
	}
	if len(parts) == 0 {
		return T(ctx, "강의실에 PC 없음", "no PC in the room")
	}
	return strings.Join(parts, " · ")
}

// LogView is the event log page: one tab's page of entries, newest first.
type LogView struct {
	Page
	Tab     string // LogOutages, LogCommands or LogEvents
	Filter  LogFilter
	Rooms   []LogRoom
	Outages []OutageRow
	Sends   []CommandSend
	Events  []EventRow
	Actions []LoggedAction
	Runs    []LoggedRun
	Older   string // the next page's URL; "" on the last page
	Newest  string // the first page's URL; "" on the first page
}

// logTabClass is a tab's look: filled when it is the one shown.
func logTabClass(current bool) string {
	if current {
		return "rounded bg-blue-700 px-3 py-1 text-white no-underline"
	}
	return "rounded bg-white px-3 py-1 no-underline ring-1 ring-slate-300"
}

// byLabel is the account filter's label on a tab.
func byLabel(ctx context.Context, tab string) string {
	if tab == LogEvents {
		return T(ctx, "처리한 계정", "Done by")
	}
	return T(ctx, "보낸 계정", "Sent by")
}

// eventText names a fleet event's kind (models.Event*) in the page language.
func eventText(ctx context.Context, kind string) string {
	switch kind {
	case "registered":
		return T(ctx, "등록", "registered")
	case "re-enrolled":
		return T(ctx, "다시 등록", "re-enrolled")
	case "re-enrolment requested":
		return T(ctx, "재등록 요청", "re-enrolment requested")
	case "re-enrolment approved":
		return T(ctx, "재등록 승인", "re-enrolment approved")
	case "re-enrolment refused":
		return T(ctx, "재등록 거절", "re-enrolment refused")
	case "deleted":
		return T(ctx, "삭제", "deleted")
	case "wake sent":
		return T(ctx, "켜기 보냄", "wake sent")
	case "woke":
		return T(ctx, "켜짐", "woke")
	case "wake failed":
		return T(ctx, "켜지지 않음", "did not wake")
	}
	return kind
}

// eventDetail says more about an event: how long a wake took, or waited in vain (a duration
// as models.EndWake stores it).
func eventDetail(ctx context.Context, e EventRow) string {
	d, err := time.ParseDuration(e.Detail)
	if err != nil {
		return e.Detail
	}
	if e.Kind == "wake failed" {
		return duration(ctx, d) + T(ctx, " 동안 응답 없음", " without an answer")
	}
	return duration(ctx, d) + T(ctx, " 걸림", " to answer")
}
