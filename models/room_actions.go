package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Room action states: scheduled until it is sent or cancelled, which happens once.
const (
	ActionScheduled = "scheduled"
	ActionSent      = "sent"
	ActionCancelled = "cancelled"
)

// ErrActionEnded: the room action was already sent or cancelled, so nothing changed.
var ErrActionEnded = errors.New("room action already sent or cancelled")

// recentActions is how long an ended room action stays in its room's list.
const recentActions = 24 * time.Hour

// RoomAction is a power command for a whole room, held for a grace period before it is sent
// (fleet/room_actions.go). The row is its record: who scheduled it and how it ended.
type RoomAction struct {
	bun.BaseModel `bun:"table:room_actions,alias:ra"`

	ID         int64      `bun:"id,pk,autoincrement"`
	RoomID     int64      `bun:"room_id"`
	RoomName   string     `bun:"room_name,scanonly"` // the room's name when read
	Type       string     `bun:"type"`
	Parameters string     `bun:"parameters"` // JSON object; power commands have no secrets
	Priority   int        `bun:"priority"`
	Timeout    int        `bun:"timeout"`
	State      string     `bun:"state"`
	SendAt     time.Time  `bun:"send_at"`
	CreatedBy  string     `bun:"created_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	EndedBy    string     `bun:"ended_by"` // who cancelled; "" when sent or ended by the server
	EndedAt    *time.Time `bun:"ended_at"`
	SentCount  int        `bun:"sent_count"` // commands queued when it was sent
}

// selectRoomActions selects room actions with their room's name.
func selectRoomActions(db bun.IDB, as *[]RoomAction) *bun.SelectQuery {
	return db.NewSelect().Model(as).ColumnExpr("ra.*").
		ColumnExpr("(SELECT name FROM rooms WHERE rooms.id = ra.room_id) AS room_name")
}

// ScheduleRoomAction stores a as scheduled for the room named a.RoomName and fills in its id;
// ErrNotFound when there is no such room.
func (s *Store) ScheduleRoomAction(ctx context.Context, a *RoomAction, now time.Time) error {
	a.State, a.CreatedAt, a.SendAt = ActionScheduled, now.UTC(), a.SendAt.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model((*Room)(nil)).Column("id").Where("name = ?", a.RoomName).Scan(ctx, &a.RoomID); err != nil {
			return notFound("room "+a.RoomName, err)
		}
		_, err := tx.NewInsert().Model(a).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("schedule room action: %w", err)
	}
	return nil
}

// CancelRoomAction cancels a scheduled room action; by "" is the server. One UPDATE that only a
// scheduled action passes, so a cancel racing the send has exactly one winner: the loser gets
// ErrActionEnded and changes nothing. ErrNotFound when there is no such action.
func (s *Store) CancelRoomAction(ctx context.Context, id int64, by string, now time.Time) (*RoomAction, error) {
	now = now.UTC()
	a := new(RoomAction)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := endAction(ctx, tx, id, ActionCancelled, by, now); err != nil {
			return err
		}
		return readAction(ctx, tx, id, a)
	})
	if err != nil {
		return nil, fmt.Errorf("cancel room action %d: %w", id, err)
	}
	return a, nil
}

// SendRoomAction sends a scheduled room action: in one transaction it is marked sent and one
// command is queued (as EnqueueCommands queues) for each PC in its room at this moment, but those
// off says are off (nil: none). It returns the action and the queued commands; ErrActionEnded
// when it was cancelled or sent meanwhile, and then nothing is queued.
func (s *Store) SendRoomAction(ctx context.Context, id int64, off func(pcID int64) bool, now time.Time) (*RoomAction, []Command, error) {
	defer s.urgentWrite()()
	now = now.UTC()
	a := new(RoomAction)
	var cmds []Command
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := endAction(ctx, tx, id, ActionSent, "", now); err != nil {
			return err
		}
		if err := readAction(ctx, tx, id, a); err != nil {
			return err
		}
		var pcs []int64
		if err := tx.NewSelect().Model((*PC)(nil)).Column("id").Where("room_id = ?", a.RoomID).Order("id").Scan(ctx, &pcs); err != nil {
			return err
		}
		for _, pc := range pcs {
			if off != nil && off(pc) {
				continue
			}
			cmds = append(cmds, Command{PCID: pc, Type: a.Type, Parameters: a.Parameters, Priority: a.Priority,
				Timeout: a.Timeout, CreatedBy: a.CreatedBy})
		}
		if len(cmds) == 0 {
			return nil
		}
		if err := insertCommands(ctx, tx, cmds, now); err != nil {
			return err
		}
		a.SentCount = len(cmds)
		_, err := tx.NewUpdate().Model(a).WherePK().Column("sent_count").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("send room action %d: %w", id, err)
	}
	return a, cmds, nil
}

// endAction moves a scheduled action to state; ErrActionEnded when it is no longer scheduled.
func endAction(ctx context.Context, tx bun.Tx, id int64, state, by string, now time.Time) error {
	res, err := tx.NewUpdate().Model((*RoomAction)(nil)).
		Set("state = ?, ended_by = ?, ended_at = ?", state, by, now).
		Where("id = ? AND state = ?", id, ActionScheduled).Exec(ctx)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	exists, err := tx.NewSelect().Model((*RoomAction)(nil)).Where("id = ?", id).Exists(ctx)
	switch {
	case err != nil:
		return err
	case !exists:
		return ErrNotFound
	}
	return ErrActionEnded
}

// readAction reads one room action with its room's name into a.
func readAction(ctx context.Context, tx bun.Tx, id int64, a *RoomAction) error {
	var as []RoomAction
	if err := selectRoomActions(tx, &as).Where("ra.id = ?", id).Scan(ctx); err != nil {
		return err
	}
	if len(as) == 0 {
		return ErrNotFound
	}
	*a = as[0]
	return nil
}

// RoomActions lists a room's scheduled actions and those that ended in the last 24 hours before
// now, newest first.
func (s *Store) RoomActions(ctx context.Context, roomID int64, now time.Time) ([]RoomAction, error) {
	var as []RoomAction
	err := selectRoomActions(s.r, &as).Where("ra.room_id = ?", roomID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("ra.state = ?", ActionScheduled).WhereOr("ra.ended_at >= ?", now.UTC().Add(-recentActions))
		}).Order("ra.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("actions of room %d: %w", roomID, err)
	}
	return as, nil
}

// ScheduledRoomActions lists every scheduled room action, the one due first first: the fleet
// sends those due and waits for the next.
func (s *Store) ScheduledRoomActions(ctx context.Context) ([]RoomAction, error) {
	var as []RoomAction
	if err := selectRoomActions(s.r, &as).Where("ra.state = ?", ActionScheduled).Order("ra.send_at", "ra.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("scheduled room actions: %w", err)
	}
	return as, nil
}

// RoomActionLog lists room actions for the event log, newest first: q's room, account (who
// asked or who cancelled), days and page; its hostname does not apply, and no action belongs to
// no room.
func (s *Store) RoomActionLog(ctx context.Context, q LogQuery) ([]RoomAction, error) {
	if q.RoomID == NoRoom {
		return nil, nil
	}
	var as []RoomAction
	sq := selectRoomActions(s.r, &as)
	if q.RoomID > 0 {
		sq = sq.Where("ra.room_id = ?", q.RoomID)
	}
	if q.CreatedBy != "" {
		sq = sq.WhereGroup(" AND ", func(w *bun.SelectQuery) *bun.SelectQuery {
			return w.Where("ra.created_by = ?", q.CreatedBy).WhereOr("ra.ended_by = ?", q.CreatedBy)
		})
	}
	q.Hostname, q.RoomID = "", 0 // filter's are a PC's; an action is its room's, handled above
	if err := q.filter(sq, "ra", "created_at", "").Scan(ctx); err != nil {
		return nil, fmt.Errorf("room action log: %w", err)
	}
	return as, nil
}
