package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

func TestOutageLog(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m1, m2 := registerTest(t, s, "M1"), registerTest(t, s, "M2")
	// M1 goes down and comes back after 90 s; then M2 and M1 go down and stay down.
	steps := []func() error{
		func() error { return s.SetOffline(ctx, m1.ID, t0, ReasonShutdown) },
		func() error { return s.SetOnline(ctx, m1.ID, t0.Add(90*time.Second)) },
		func() error { return s.SetOffline(ctx, m2.ID, t0.Add(100*time.Second), ReasonNetworkError) },
		func() error { return s.SetOffline(ctx, m1.ID, t0.Add(200*time.Second), ReasonTimeout) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.OutageLog(ctx, LogQuery{Limit: 10})
	if err != nil || len(all) != 3 {
		t.Fatalf("all outages: %d, %v", len(all), err)
	}
	// all[2] is M1's first outage, closed by SetOnline.
	if o := all[2]; o.Hostname != "LAB-M1" || o.Reason != ReasonShutdown || !o.StartedAt.Equal(t0) ||
		o.EndedAt == nil || o.DurationSeconds == nil || *o.DurationSeconds != 90 {
		t.Fatalf("first outage: %+v", o)
	}
	if o := all[0]; o.Hostname != "LAB-M1" || o.Reason != ReasonTimeout || o.EndedAt != nil {
		t.Fatalf("newest outage: %+v", o)
	}

	tests := []struct {
		name string
		q    LogQuery
		want []int64 // outage ids, newest first
	}{
		{"newest first", LogQuery{Limit: 10}, []int64{all[0].ID, all[1].ID, all[2].ID}},
		{"one page", LogQuery{Limit: 2}, []int64{all[0].ID, all[1].ID}},
		{"next page", LogQuery{Before: all[1].ID, Limit: 2}, []int64{all[2].ID}},
		{"past the oldest", LogQuery{Before: all[2].ID, Limit: 2}, nil},
		{"one PC, any case", LogQuery{Hostname: "lab-m1", Limit: 10}, []int64{all[0].ID, all[2].ID}},
		{"one PC, paged", LogQuery{Hostname: "LAB-M1", Before: all[0].ID, Limit: 10}, []int64{all[2].ID}},
		{"unknown PC", LogQuery{Hostname: "LAB", Limit: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.OutageLog(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}

	// A deleted PC's history goes with it.
	if err := s.DeletePC(ctx, m1.ID, "admin", t0); err != nil {
		t.Fatal(err)
	}
	left, err := s.OutageLog(ctx, LogQuery{Limit: 10})
	if err != nil || len(left) != 1 || left[0].PCID != m2.ID {
		t.Fatalf("after deleting M1: %+v, %v", left, err)
	}
}

func TestCommandLog(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	m1, m2 := registerTest(t, s, "M1"), registerTest(t, s, "M2")
	cmds := []Command{
		{PCID: m1.ID, Type: wire.TypeExecute, Parameters: `{"command":"dir"}`, CreatedBy: "alice"},
		{PCID: m2.ID, Type: wire.TypeShutdown, Parameters: `{"delay":0}`, CreatedBy: "bob"},
		{PCID: m1.ID, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, CreatedBy: "bob"},
	}
	for i := range cmds {
		cmds[i].Priority, cmds[i].Timeout = 5, 60
	}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	// The first one runs and fails: the log shows how it ended.
	if _, err := s.NextCommand(ctx, m1.ID, "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReportResult(ctx, cmds[0].ID, Reporter{PCID: m1.ID}, Result{Status: wire.ResultError, Output: "denied", ExitCode: ptr(5)}, now); err != nil {
		t.Fatal(err)
	}
	a, b, c := cmds[0].ID, cmds[1].ID, cmds[2].ID

	tests := []struct {
		name string
		q    LogQuery
		want []int64
	}{
		{"newest first", LogQuery{Limit: 10}, []int64{c, b, a}},
		{"one page", LogQuery{Limit: 1}, []int64{c}},
		{"next page", LogQuery{Before: c, Limit: 1}, []int64{b}},
		{"by PC", LogQuery{Hostname: "lab-m1", Limit: 10}, []int64{c, a}},
		{"by account", LogQuery{CreatedBy: "bob", Limit: 10}, []int64{c, b}},
		{"by PC and account", LogQuery{Hostname: "LAB-M1", CreatedBy: "alice", Limit: 10}, []int64{a}},
		{"account names are exact", LogQuery{CreatedBy: "Bob", Limit: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CommandLog(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}

	got, err := s.CommandLog(ctx, LogQuery{Before: b, Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("oldest command: %+v, %v", got, err)
	}
	if e := got[0]; e.Hostname != "LAB-M1" || e.CreatedBy != "alice" || e.Type != wire.TypeExecute ||
		e.Status != wire.StatusError || e.ExitCode == nil || *e.ExitCode != 5 || e.Output != "denied" {
		t.Fatalf("oldest command: %+v", e)
	}
}

// commandIDs are the ids of a log page's commands.
func commandIDs(rows []CommandEntry) []int64 {
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// The filters combine: room, no room, a time range (From included, To not), hostname, account.
func TestCommandLogFilters(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m1, m2, m3 := registerTest(t, s, "M1"), registerTest(t, s, "M2"), registerTest(t, s, "M3")
	room := &Room{Name: "301", Rows: 2, Cols: 2}
	if err := s.CreateRoom(ctx, room, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i, pc := range []*PC{m1, m2} {
		if err := s.SetSeat(ctx, pc.ID, "301", 1, i+1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	midnight := time.Date(2026, 3, 2, 0, 0, 0, 0, time.Local)
	send := func(pc *PC, by string, at time.Time) int64 {
		cmds := []Command{{PCID: pc.ID, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 600, CreatedBy: by}}
		if err := s.EnqueueCommands(ctx, cmds, at); err != nil {
			t.Fatal(err)
		}
		return cmds[0].ID
	}
	beforeMidnight := send(m1, "admin", midnight.Add(-time.Nanosecond*1000))
	atMidnight := send(m2, "oper", midnight)
	lastOfDay := send(m3, "oper", midnight.Add(24*time.Hour-time.Millisecond))
	nextDay := send(m1, "oper", midnight.Add(24*time.Hour))

	tests := []struct {
		name string
		q    LogQuery
		want []int64
	}{
		{"every command", LogQuery{}, []int64{nextDay, lastOfDay, atMidnight, beforeMidnight}},
		{"room 301", LogQuery{RoomID: room.ID}, []int64{nextDay, atMidnight, beforeMidnight}},
		{"not placed", LogQuery{RoomID: NoRoom}, []int64{lastOfDay}},
		{"an empty room id matches nothing", LogQuery{RoomID: room.ID + 1}, nil},
		{"one day, midnight to midnight", LogQuery{From: midnight, To: midnight.AddDate(0, 0, 1)}, []int64{lastOfDay, atMidnight}},
		{"from midnight", LogQuery{From: midnight}, []int64{nextDay, lastOfDay, atMidnight}},
		{"to midnight", LogQuery{To: midnight}, []int64{beforeMidnight}},
		{"room and day", LogQuery{RoomID: room.ID, From: midnight, To: midnight.AddDate(0, 0, 1)}, []int64{atMidnight}},
		{"room, account and PC", LogQuery{RoomID: room.ID, CreatedBy: "oper", Hostname: "lab-m1"}, []int64{nextDay}},
		{"paged", LogQuery{RoomID: room.ID, Before: atMidnight}, []int64{beforeMidnight}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 10
			got, err := s.CommandLog(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if ids := commandIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}
	outages, err := s.OutageLog(ctx, LogQuery{RoomID: NoRoom, Limit: 10})
	if err != nil || len(outages) != 0 {
		t.Fatalf("outages of unplaced PCs: %v %v", outages, err)
	}
	if err := s.SetOffline(ctx, m3.ID, midnight, ReasonTimeout); err != nil {
		t.Fatal(err)
	}
	for _, q := range []LogQuery{{RoomID: NoRoom}, {From: midnight, To: midnight.Add(time.Second)}} {
		q.Limit = 10
		if outages, err := s.OutageLog(ctx, q); err != nil || len(outages) != 1 || outages[0].PCID != m3.ID {
			t.Errorf("outages for %+v: %+v %v", q, outages, err)
		}
	}
	if outages, err := s.OutageLog(ctx, LogQuery{RoomID: room.ID, Limit: 10}); err != nil || len(outages) != 0 {
		t.Errorf("outages in room 301: %+v %v", outages, err)
	}
}

// One send is one group, and a page never ends inside it.
func TestCommandSends(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var pcs []*PC
	for _, m := range []string{"M1", "M2", "M3", "M4", "M5"} {
		pcs = append(pcs, registerTest(t, s, m))
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	send := func(typ, params string, at time.Time, to ...*PC) []int64 {
		var cmds []Command
		for _, pc := range to {
			cmds = append(cmds, Command{PCID: pc.ID, Type: typ, Parameters: params, Priority: 5, Timeout: 600, CreatedBy: "admin"})
		}
		if err := s.EnqueueCommands(ctx, cmds, at); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := len(cmds) - 1; i >= 0; i-- {
			ids = append(ids, cmds[i].ID)
		}
		return ids // newest first, as the log lists them
	}
	single := send(wire.TypeMessage, `{"message":"a"}`, t0, pcs[0])
	shutdown := send(wire.TypeShutdown, `{"delay":0}`, t0.Add(time.Minute), pcs...)
	restart := send(wire.TypeRestart, `{"delay":0}`, t0.Add(2*time.Minute), pcs[0], pcs[1])

	groups := func(sends [][]CommandEntry) [][]int64 {
		var out [][]int64
		for _, g := range sends {
			out = append(out, commandIDs(g))
		}
		return out
	}
	tests := []struct {
		name  string
		q     LogQuery
		want  [][]int64
		older bool
	}{
		{"all", LogQuery{Limit: 50}, [][]int64{restart, shutdown, single}, false},
		{"a page ending inside a send takes it whole", LogQuery{Limit: 3}, [][]int64{restart, shutdown}, true},
		{"a page ending on a send's end", LogQuery{Limit: 2}, [][]int64{restart}, true},
		{"the next page", LogQuery{Limit: 3, Before: shutdown[len(shutdown)-1]}, [][]int64{single}, false},
		{"a page of one inside a send", LogQuery{Limit: 1, Before: restart[1]}, [][]int64{shutdown}, true},
		{"a filtered send is grouped too", LogQuery{Limit: 1, Hostname: "LAB-M2"}, [][]int64{{restart[0]}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sends, older, err := s.CommandSends(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := groups(sends); !slices.EqualFunc(got, tt.want, slices.Equal) || older != tt.older {
				t.Errorf("sends %v (older %v), want %v (older %v)", got, older, tt.want, tt.older)
			}
		})
	}
}

// A registration through the store writes its event with the PIN's id, never the PIN; a PIN
// re-key, a request, its refusal or approval and a deletion write theirs.
func TestPCEvents(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pin, value, err := s.CreatePIN(ctx, pinHash, PINMulti, now.Add(time.Hour), "teacher", now)
	if err != nil {
		t.Fatal(err)
	}
	register := func(machineID, hostname string, rekeys bool) *PC {
		pc := &PC{MachineID: machineID, Hostname: hostname, MACAddress: "AA:BB", IPAddress: "10.0.0.9", AgentTokenHash: hostname}
		if _, err := s.Register(ctx, Enrol{PINHash: pin.TokenHash, PC: pc, PINRekeysTokenless: rekeys}, now); err != nil {
			t.Fatal(err)
		}
		return pc
	}
	pc := register("M1", "LAB-01", false)
	register("M1", "LAB-01b", true)  // the published client re-registers with a PIN
	register("M1", "LAB-01c", false) // a new install asks
	reqs, err := s.Reenrolments(ctx)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests %v %v", reqs, err)
	}
	if err := s.RefuseReenrolment(ctx, reqs[0].ID, "oper", now); err != nil {
		t.Fatal(err)
	}
	register("M1", "LAB-01d", false)
	if reqs, err = s.Reenrolments(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveReenrolment(ctx, reqs[0].ID, "admin", now); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePC(ctx, pc.ID, "admin", now); err != nil {
		t.Fatal(err)
	}

	events, err := s.PCEventLog(ctx, LogQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ kind, hostname, by string }
	var got []row
	for _, e := range events {
		got = append(got, row{e.Kind, e.Hostname, e.By})
		if e.PCID != pc.ID || e.MachineID != "M1" || e.IPAddress != "10.0.0.9" {
			t.Errorf("event %+v", e)
		}
		if strings.Contains(e.By, value) {
			t.Errorf("event %q names the PIN itself", e.By)
		}
	}
	byPIN := fmt.Sprintf("PIN #%d (teacher)", pin.ID)
	want := []row{
		{EventDeleted, "LAB-01d", "admin"},
		{EventReenrolApproved, "LAB-01d", "admin"},
		{EventReenrolRequested, "LAB-01d", byPIN},
		{EventReenrolRefused, "LAB-01c", "oper"},
		{EventReenrolRequested, "LAB-01c", byPIN},
		{EventReenrolled, "LAB-01b", byPIN},
		{EventRegistered, "LAB-01", byPIN},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	// The deleted PC's events stay, found by the hostname they recorded and as placed nowhere.
	for _, q := range []LogQuery{{Hostname: "lab-01"}, {RoomID: NoRoom, CreatedBy: "oper"}} {
		q.Limit = 10
		if evs, err := s.PCEventLog(ctx, q); err != nil || len(evs) != 1 {
			t.Errorf("events for %+v: %+v %v", q, evs, err)
		}
	}
}
