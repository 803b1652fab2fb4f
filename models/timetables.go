package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Bounds of a room's timetable: the scheduler reads every entry every few seconds.
const (
	MaxTimetableEntries    = 50  // per room
	MaxTimetableExceptions = 500 // in all
)

// ErrStepRan: the timetable step ran already (here, or at another instance), and nothing changed.
var ErrStepRan = errors.New("timetable step already ran")

// ErrTooMany: a bound above would be passed, and nothing changed.
var ErrTooMany = errors.New("too many")

// TimetableEntry is one line of a room's weekly plan (timetable.Entry, stored).
type TimetableEntry struct {
	bun.BaseModel `bun:"table:timetable_entries,alias:te"`

	ID           int64     `bun:"id,pk,autoincrement"`
	RoomID       int64     `bun:"room_id"`
	RoomName     string    `bun:"room_name,scanonly"`
	Days         int       `bun:"days"`
	Action       string    `bun:"action"`
	AtMinute     int       `bun:"at_minute"`
	WarnMinutes  int       `bun:"warn_minutes"`
	Message      string    `bun:"message"`
	RetryMinutes int       `bun:"retry_minutes"`
	FinalMinute  int       `bun:"final_minute"`
	Force        bool      `bun:"force_off"`
	CreatedBy    string    `bun:"created_by"`
	CreatedAt    time.Time `bun:"created_at"`
}

// TimetableException changes one date of a room's plan, or of every room's (RoomID nil).
type TimetableException struct {
	bun.BaseModel `bun:"table:timetable_exceptions,alias:tx"`

	ID        int64     `bun:"id,pk,autoincrement"`
	RoomID    *int64    `bun:"room_id"`
	RoomName  *string   `bun:"room_name,scanonly"`
	Day       string    `bun:"day"` // 2006-01-02
	Skip      string    `bun:"skip"`
	Note      string    `bun:"note"`
	CreatedBy string    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// TimetableRun is one step the scheduler ran, with what it did to each PC.
type TimetableRun struct {
	bun.BaseModel `bun:"table:timetable_runs,alias:tr"`

	ID        int64     `bun:"id,pk,autoincrement"`
	StepKey   string    `bun:"step_key"` // timetable.Step.Key, with the room
	RoomID    int64     `bun:"room_id"`
	RoomName  string    `bun:"room_name"`
	EntryID   int64     `bun:"entry_id"`
	Kind      string    `bun:"kind"`
	PlannedAt time.Time `bun:"planned_at"`
	RanAt     time.Time `bun:"ran_at"`
	Outcomes  string    `bun:"outcomes"` // JSON []StepOutcome
}

// StepOutcome is what a timetable step did to one PC.
type StepOutcome struct {
	PCID     int64  `json:"pc_id"`
	Hostname string `json:"hostname"`
	Outcome  string `json:"outcome"`        // fleet's Outcome* words
	User     string `json:"user,omitempty"` // who was logged in, when that decided it
}

// TimetableEntries returns a room's entries (roomID 0: every room's), with their room's name,
// by room, time and id.
func (s *Store) TimetableEntries(ctx context.Context, roomID int64) ([]TimetableEntry, error) {
	var es []TimetableEntry
	q := s.r.NewSelect().Model(&es).ColumnExpr("te.*").ColumnExpr("r.name AS room_name").
		Join("JOIN rooms AS r ON r.id = te.room_id").OrderExpr("r.name, te.at_minute, te.id")
	if roomID != 0 {
		q = q.Where("te.room_id = ?", roomID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("timetable entries: %w", err)
	}
	return es, nil
}

// AddTimetableEntry adds e (checked by the caller) to its room and fills in its id; ErrTooMany
// past MaxTimetableEntries.
func (s *Store) AddTimetableEntry(ctx context.Context, e *TimetableEntry, now time.Time) error {
	e.CreatedAt = now.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*TimetableEntry)(nil)).Where("room_id = ?", e.RoomID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxTimetableEntries {
			return ErrTooMany
		}
		_, err = tx.NewInsert().Model(e).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("add timetable entry: %w", err)
	}
	return nil
}

// DeleteTimetableEntry deletes entry id of room roomID; ErrNotFound when it has no such entry.
func (s *Store) DeleteTimetableEntry(ctx context.Context, roomID, id int64) error {
	return s.deleteOne(ctx, (*TimetableEntry)(nil), fmt.Sprintf("timetable entry %d", id), "id = ? AND room_id = ?", id, roomID)
}

// deleteOne deletes the rows of model that match where; ErrNotFound when none did.
func (s *Store) deleteOne(ctx context.Context, model any, what, where string, args ...any) error {
	res, err := s.w.NewDelete().Model(model).Where(where, args...).Exec(ctx)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	return nil
}

// TimetableExceptions returns the exceptions for a room, its own and every room's (roomID 0:
// all), by date.
func (s *Store) TimetableExceptions(ctx context.Context, roomID int64) ([]TimetableException, error) {
	var xs []TimetableException
	q := s.r.NewSelect().Model(&xs).ColumnExpr("tx.*").ColumnExpr("r.name AS room_name").
		Join("LEFT JOIN rooms AS r ON r.id = tx.room_id").OrderExpr("tx.day, tx.id")
	if roomID != 0 {
		q = q.Where("tx.room_id = ? OR tx.room_id IS NULL", roomID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("timetable exceptions: %w", err)
	}
	return xs, nil
}

// AddTimetableException adds x (checked by the caller) and fills in its id; ErrTooMany past
// MaxTimetableExceptions.
func (s *Store) AddTimetableException(ctx context.Context, x *TimetableException, now time.Time) error {
	x.CreatedAt = now.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*TimetableException)(nil)).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxTimetableExceptions {
			return ErrTooMany
		}
		_, err = tx.NewInsert().Model(x).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("add timetable exception: %w", err)
	}
	return nil
}

// DeleteTimetableException deletes exception id of room roomID, or of every room (the room's
// page lists those too); ErrNotFound when the room has no such exception.
func (s *Store) DeleteTimetableException(ctx context.Context, roomID, id int64) error {
	return s.deleteOne(ctx, (*TimetableException)(nil), fmt.Sprintf("timetable exception %d", id),
		"id = ? AND (room_id = ? OR room_id IS NULL)", id, roomID)
}

// RunTimetableStep records run and queues cmds (as EnqueueCommands does, filling in their ids)
// in one transaction: ErrStepRan when a run of the same step is stored already, and then
// nothing is queued. So a step runs once, whichever instance tries it and however often.
func (s *Store) RunTimetableStep(ctx context.Context, run *TimetableRun, cmds []Command, now time.Time) error {
	defer s.urgentWrite()()
	run.RanAt, run.PlannedAt = now.UTC(), run.PlannedAt.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewInsert().Model(run).On("CONFLICT (step_key) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStepRan
		}
		if len(cmds) == 0 {
			return nil
		}
		return insertCommands(ctx, tx, cmds, now)
	})
	if err != nil {
		return fmt.Errorf("run timetable step %s: %w", run.StepKey, err)
	}
	return nil
}

// RanSteps returns the keys of the steps planned after since that have a run.
func (s *Store) RanSteps(ctx context.Context, since time.Time) (map[string]bool, error) {
	var keys []string
	if err := s.r.NewSelect().Model((*TimetableRun)(nil)).Column("step_key").Where("planned_at > ?", since.UTC()).
		Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("ran timetable steps: %w", err)
	}
	ran := make(map[string]bool, len(keys))
	for _, k := range keys {
		ran[k] = true
	}
	return ran, nil
}

// PruneTimetableRuns deletes up to limit runs planned before before, and says how many it did.
func (s *Store) PruneTimetableRuns(ctx context.Context, before time.Time, limit int) (int, error) {
	s.yieldToUrgent(ctx)
	res, err := s.w.NewDelete().Model((*TimetableRun)(nil)).Where("id IN (?)",
		s.w.NewSelect().Model((*TimetableRun)(nil)).Column("id").Where("planned_at < ?", before.UTC()).Limit(int64(limit))).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune timetable runs: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// TimetableRunLog returns one page of the timetable's runs (q.RoomID and the time bounds apply).
func (s *Store) TimetableRunLog(ctx context.Context, q LogQuery) ([]TimetableRun, error) {
	if q.RoomID == NoRoom {
		return nil, nil
	}
	var rs []TimetableRun
	sq := s.r.NewSelect().Model(&rs)
	if q.RoomID > 0 {
		sq = sq.Where("tr.room_id = ?", q.RoomID)
	}
	q.Hostname, q.RoomID, q.CreatedBy = "", 0, "" // a run is its room's, handled above
	if err := q.filter(sq, "tr", "ran_at", "").Scan(ctx); err != nil {
		return nil, fmt.Errorf("timetable run log: %w", err)
	}
	return rs, nil
}
