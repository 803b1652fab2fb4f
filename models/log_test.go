package models

import (
	"context"
	"slices"
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
