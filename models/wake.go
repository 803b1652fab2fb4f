package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Wake states: a wake was sent and the PC has not answered yet; then it ends awake (its first
// heartbeat came) or failed (none within the fleet's limit).
const (
	WakeWaking = "waking"
	WakeAwake  = "awake"
	WakeFailed = "failed"
)

// Wake is a PC's last Wake-on-LAN (fleet/wake.go); the zero Wake: never woken.
type Wake struct {
	State   string     `bun:"state"`
	SentAt  *time.Time `bun:"sent_at"`
	EndedAt *time.Time `bun:"ended_at"`
}

// Took is how long the PC took to answer its wake; 0 unless it ended awake.
func (w Wake) Took() time.Duration {
	if w.State != WakeAwake || w.SentAt == nil || w.EndedAt == nil {
		return 0
	}
	return w.EndedAt.Sub(*w.SentAt)
}

// StartWake records that a wake was sent by by to the PCs of ids at now: each is waking, and the
// event log says so. It returns the PCs' wake as stored.
func (s *Store) StartWake(ctx context.Context, ids []int64, by string, now time.Time) (Wake, error) {
	now = now.UTC()
	w := Wake{State: WakeWaking, SentAt: &now}
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var pcs []PC
		if err := tx.NewSelect().Model(&pcs).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return err
		}
		if len(pcs) == 0 {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*PC)(nil)).Set("wake_state = ?", w.State).Set("wake_sent_at = ?", now).
			Set("wake_ended_at = NULL").Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return err
		}
		evs := make([]PCEvent, len(pcs))
		for i, pc := range pcs {
			evs[i] = pcEvent(EventWakeSent, &pc, by, now)
		}
		_, err := tx.NewInsert().Model(&evs).Exec(ctx)
		return err
	})
	if err != nil {
		return Wake{}, fmt.Errorf("start wake: %w", err)
	}
	return w, nil
}

// EndWake ends the wake of PC id sent at sentAt with state (WakeAwake or WakeFailed) at now,
// and records it with detail. Only a wake still waking ends, once: false when it had ended or
// a newer wake was sent, and then nothing changed.
func (s *Store) EndWake(ctx context.Context, id int64, sentAt time.Time, state, detail string, now time.Time) (bool, error) {
	now = now.UTC()
	ended := false
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*PC)(nil)).Set("wake_state = ?", state).Set("wake_ended_at = ?", now).
			Where("id = ? AND wake_state = ? AND wake_sent_at = ?", id, WakeWaking, sentAt.UTC()).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ended = true
		pc := new(PC)
		if err := tx.NewSelect().Model(pc).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		kind := EventWoke
		if state == WakeFailed {
			kind = EventWakeFailed
		}
		ev := pcEvent(kind, pc, "", now)
		ev.Detail = detail
		_, err = tx.NewInsert().Model(&ev).Exec(ctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("end wake of PC %d: %w", id, err)
	}
	return ended, nil
}
