package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/timetable"
	"github.com/wcms-lab/wcms/wire"
)

// Room timetables: each room's weekly plan (timetable.Steps) is run by the leader, every
// timetableEvery. Each step decides for each PC of the room from what the fleet knows of it now
// (outcome), and is stored with the commands it queued in one transaction that only the first
// try of that step passes (models.Store.RunTimetableStep): a step runs once, however many
// instances there are and whoever leads.

// timetableEvery is how often the leader looks for due steps: a step runs at most this late.
const timetableEvery = 5 * time.Second

// What a timetable step does to one PC (models.StepOutcome.Outcome).
const (
	OutcomeWaking   = "waking"   // a PC of its subnet sends its magic packet
	OutcomeNoRelay  = "no relay" // off, and no PC of ours is on in its subnet
	OutcomeOn       = "on"       // a wake found it on
	OutcomeOff      = "off"      // a warning or shutdown found it off
	OutcomeWarned   = "warned"
	OutcomeNobody   = "nobody" // a warning found no one logged in
	OutcomeShutDown = "shut down"
	OutcomeSkipped  = "skipped" // someone is logged in: tried again at the next retry
	OutcomeForced   = "forced"  // shut down at the final time although someone is logged in
	OutcomeLeftOn   = "left on" // someone is still logged in at the final time, and force is off
	OutcomeMissed   = "missed"  // the servers were down at its time: nothing was done
)

// TimetableBy is who the commands of a timetable step are sent by, in the audit log.
const TimetableBy = "timetable"

// entryOf is a stored entry as the timetable evaluates it.
func entryOf(e *models.TimetableEntry) timetable.Entry {
	return timetable.Entry{ID: e.ID, Days: timetable.Weekdays(e.Days), Action: e.Action, At: timetable.Clock(e.AtMinute),
		WarnBefore: time.Duration(e.WarnMinutes) * time.Minute, RetryEvery: time.Duration(e.RetryMinutes) * time.Minute,
		FinalAt: timetable.Clock(e.FinalMinute), Force: e.Force}
}

// roomPlan is one room's entries and exceptions.
type roomPlan struct {
	room       string
	roomID     int64
	entries    []timetable.Entry
	stored     map[int64]*models.TimetableEntry
	exceptions []timetable.Exception
}

// steps are the plan's steps in (from, to].
func (rp *roomPlan) steps(loc *time.Location, from, to time.Time) []timetable.Step {
	return timetable.Steps(rp.entries, rp.exceptions, loc, from, to)
}

// roomPlans reads the timetables of every room.
func (f *Fleet) roomPlans(ctx context.Context) ([]*roomPlan, error) {
	es, err := f.store.TimetableEntries(ctx, 0)
	if err != nil {
		return nil, err
	}
	xs, err := f.store.TimetableExceptions(ctx, 0)
	if err != nil {
		return nil, err
	}
	return plansOf(es, xs), nil
}

// plansOf are the rooms' plans of entries es, with the exceptions of xs that apply to each.
func plansOf(es []models.TimetableEntry, xs []models.TimetableException) []*roomPlan {
	byRoom := map[int64]*roomPlan{}
	var plans []*roomPlan
	for i := range es {
		e := &es[i]
		rp := byRoom[e.RoomID]
		if rp == nil {
			rp = &roomPlan{room: e.RoomName, roomID: e.RoomID, stored: map[int64]*models.TimetableEntry{}}
			byRoom[e.RoomID] = rp
			plans = append(plans, rp)
		}
		rp.entries = append(rp.entries, entryOf(e))
		rp.stored[e.ID] = e
	}
	for _, x := range xs {
		tx := timetable.Exception{Date: x.Day, Skip: x.Skip, Note: x.Note}
		for _, rp := range plans {
			if x.RoomID == nil || *x.RoomID == rp.roomID {
				rp.exceptions = append(rp.exceptions, tx)
			}
		}
	}
	return plans
}

// missedLookBack is how far back a new leader records the steps no instance ran.
const missedLookBack = 24 * time.Hour

// runTimetables runs every room's steps due since the last look, on the leader. The first
// look (at start, or on becoming leader) goes back overdueAtStart, as room actions do: a step
// the server was down through for longer is not run late, but recorded as missed; one run
// already is not run again.
func (f *Fleet) runTimetables(ctx context.Context) {
	now := f.now()
	from := f.timetableFrom
	if from.IsZero() || now.Sub(from) > overdueAtStart {
		from = now.Add(-overdueAtStart)
	}
	plans, err := f.roomPlans(ctx)
	if err != nil {
		f.log.Error("load timetables failed", "err", err)
		return
	}
	if last := f.timetableFrom; last.Before(from) {
		start := now.Add(-missedLookBack)
		if last.After(start) {
			start = last
		}
		f.recordMissed(ctx, plans, start, from)
	}
	for _, rp := range plans {
		for _, st := range rp.steps(f.cfg.Location, from, now) {
			if err := f.runStep(ctx, rp, st); err != nil {
				// Looked at again next time: its key keeps it from running twice.
				f.log.Error("timetable step failed", "room", rp.room, "step", st.Key(), "err", err)
				return
			}
		}
	}
	f.timetableFrom = now
}

// recordMissed records the steps in (from, to] that no instance ran (the servers were down) as
// missed for every PC of their room, queueing nothing: the event log then says what did not
// happen. Steps planned before their entry was made were never due.
func (f *Fleet) recordMissed(ctx context.Context, plans []*roomPlan, from, to time.Time) {
	// One read, so a start does not try a write for each of the day's steps that ran.
	ran, err := f.store.RanSteps(ctx, from)
	if err != nil {
		f.log.Error("record missed timetable steps failed", "err", err)
		return
	}
	for _, rp := range plans {
		pcs := f.Views(func(v *models.PCView) bool { return v.InRoom(rp.room) })
		for _, st := range rp.steps(f.cfg.Location, from, to) {
			if ran[st.Key()] || st.At.Before(rp.stored[st.EntryID].CreatedAt) {
				continue
			}
			outcomes := make([]models.StepOutcome, len(pcs))
			for i := range pcs {
				outcomes[i] = models.StepOutcome{PCID: pcs[i].ID, Hostname: pcs[i].Hostname, Outcome: OutcomeMissed}
			}
			err := f.store.RunTimetableStep(ctx, f.run(rp, st, outcomes), nil, f.now())
			switch {
			case errors.Is(err, models.ErrStepRan):
			case err != nil:
				f.log.Error("record missed timetable step failed", "room", rp.room, "step", st.Key(), "err", err)
				return
			default:
				f.log.Warn("timetable step missed: the server was down at its time", "room", rp.room, "step", st.Key(),
					"planned", st.At)
			}
		}
	}
}

// run is the record of step st of rp with outcomes.
func (f *Fleet) run(rp *roomPlan, st timetable.Step, outcomes []models.StepOutcome) *models.TimetableRun {
	b, _ := json.Marshal(outcomes) // plain strings and numbers: cannot fail
	return &models.TimetableRun{StepKey: st.Key(), RoomID: rp.roomID, RoomName: rp.room, EntryID: st.EntryID,
		Kind: st.Kind, PlannedAt: st.At, Outcomes: string(b)}
}

// runStep runs one step for the PCs of its room as they are now.
func (f *Fleet) runStep(ctx context.Context, rp *roomPlan, st timetable.Step) error {
	e := rp.stored[st.EntryID]
	pcs := f.Views(func(v *models.PCView) bool { return v.InRoom(rp.room) })
	var wake WakePlan
	if st.Kind == timetable.StepWake {
		wake = planWake(pcs, f.relays)
	}
	outcomes := stepOutcomes(st, pcs, wake)
	cmds, err := stepCommands(st, e, outcomes, wake)
	if err != nil {
		return err
	}
	err = f.store.RunTimetableStep(ctx, f.run(rp, st, outcomes), cmds, f.now())
	if errors.Is(err, models.ErrStepRan) {
		return nil
	}
	if err != nil {
		return err
	}
	f.queued(cmds)
	if st.Kind == timetable.StepWake {
		if err := f.startWake(ctx, wake.targets(), TimetableBy); err != nil {
			f.log.Error("timetable wake: record waking failed", "room", rp.room, "err", err)
		}
	}
	f.log.Info("timetable step ran", "room", rp.room, "step", st.Key(), "kind", st.Kind, "planned", st.At,
		"late", f.now().Sub(st.At).Round(time.Second).String(), "pcs", len(outcomes), "count", len(cmds))
	return nil
}

// stepOutcomes decides what step st does to each PC of pcs, as they are now; wake is the plan
// of a wake step. The preview decides with it too, so it says what the run would do.
func stepOutcomes(st timetable.Step, pcs []models.PCView, wake WakePlan) []models.StepOutcome {
	waking := map[int64]bool{}
	for _, id := range wake.targets() {
		waking[id] = true
	}
	out := make([]models.StepOutcome, 0, len(pcs))
	for i := range pcs {
		v := &pcs[i]
		o := models.StepOutcome{PCID: v.ID, Hostname: v.Hostname}
		user := ""
		if v.CurrentUser != nil {
			user = *v.CurrentUser
		}
		switch {
		case st.Kind == timetable.StepWake && v.Online:
			o.Outcome = OutcomeOn
		case st.Kind == timetable.StepWake && waking[v.ID]:
			o.Outcome = OutcomeWaking
		case st.Kind == timetable.StepWake:
			o.Outcome = OutcomeNoRelay
		case !v.Online:
			o.Outcome = OutcomeOff
		case st.Kind == timetable.StepWarn && user == "":
			o.Outcome = OutcomeNobody
		case st.Kind == timetable.StepWarn:
			o.Outcome, o.User = OutcomeWarned, user
		case user == "":
			o.Outcome = OutcomeShutDown
		case st.Kind == timetable.StepFinal && st.Force:
			o.Outcome, o.User = OutcomeForced, user
		case st.Kind == timetable.StepFinal:
			o.Outcome, o.User = OutcomeLeftOn, user
		default:
			o.Outcome, o.User = OutcomeSkipped, user
		}
		out = append(out, o)
	}
	return out
}

// stepCommands are the commands that carry out the outcomes: the relays' magic packets, the
// warning message, the shutdowns.
func stepCommands(st timetable.Step, e *models.TimetableEntry, outcomes []models.StepOutcome, wake WakePlan) ([]models.Command, error) {
	if st.Kind == timetable.StepWake {
		all, _, err := wakeCommands(wake, TimetableBy)
		return all, err
	}
	var cmd models.Command
	var err error
	if st.Kind == timetable.StepWarn {
		cmd, err = models.NewCommand(wire.TypeMessage, map[string]any{"message": warning(e), "duration": 60}, TimetableBy)
	} else {
		cmd, err = models.NewCommand(wire.TypeShutdown, map[string]any{"delay": 0}, TimetableBy)
		cmd.Priority = 1
	}
	if err != nil {
		return nil, err
	}
	var cmds []models.Command
	for _, o := range outcomes {
		if o.Outcome == OutcomeWarned || o.Outcome == OutcomeShutDown || o.Outcome == OutcomeForced {
			cmd.PCID = o.PCID
			cmds = append(cmds, cmd)
		}
	}
	return cmds, nil
}

// warning is the message a shutdown's warning shows: the entry's, or one that says when.
func warning(e *models.TimetableEntry) string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%d분 뒤 이 PC가 꺼집니다. 작업을 저장하세요.\nThis PC shuts down in %d minutes: save your work.",
		e.WarnMinutes, e.WarnMinutes)
}

// PlannedStep is a step of a room's plan, with what it would do to each PC if the PCs stayed as
// they are now.
type PlannedStep struct {
	Step     timetable.Step
	Outcomes []models.StepOutcome
}

// TimetablePreview is what the timetable of room (its entries es and exceptions xs, as stored)
// will do in (from, to], step by step and PC by PC, decided as the run will decide
// (stepOutcomes) from the PCs as they are now, and as the plan's own steps leave them: a PC shut
// down is off for the steps after, a PC woken is on.
func (f *Fleet) TimetablePreview(room string, es []models.TimetableEntry, xs []models.TimetableException, from, to time.Time) []PlannedStep {
	plans := plansOf(es, xs)
	if len(plans) == 0 {
		return nil
	}
	pcs := f.Views(func(v *models.PCView) bool { return v.InRoom(room) })
	// The PCs that could send a wake by then: those of other rooms as they are now, and the
	// room's as its plan will have left them.
	relays := func() []models.PCView {
		out := f.Views(func(v *models.PCView) bool { return canRelay(v) && !v.InRoom(room) })
		for i := range pcs {
			if canRelay(&pcs[i]) {
				out = append(out, pcs[i])
			}
		}
		return out
	}
	var out []PlannedStep
	for _, st := range plans[0].steps(f.cfg.Location, from, to) {
		var wake WakePlan
		if st.Kind == timetable.StepWake {
			wake = planWake(pcs, relays)
		}
		os := stepOutcomes(st, pcs, wake)
		for i, o := range os {
			switch o.Outcome {
			case OutcomeShutDown, OutcomeForced:
				pcs[i].Online = false
			case OutcomeWaking:
				pcs[i].Online, pcs[i].CurrentUser = true, nil
			}
		}
		out = append(out, PlannedStep{Step: st, Outcomes: os})
	}
	return out
}

// Location is the time zone timetables are read in (Config.Location).
func (f *Fleet) Location() *time.Location { return f.cfg.Location }
