package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Instance is one server process on this database, as it last described itself.
type Instance struct {
	bun.BaseModel `bun:"table:instances"`

	ID             string    `bun:"id,pk"`
	Name           string    `bun:"name"` // host and listen address
	Version        string    `bun:"version"`
	StartedAt      time.Time `bun:"started_at"`
	SeenAt         time.Time `bun:"seen_at"`
	Leader         bool      `bun:"leader"`           // runs the cluster's timed work
	PCsHere        int       `bun:"pcs_here"`         // PCs whose last poll came to it
	PollsPerSecond float64   `bun:"polls_per_second"` // agents' polls it took, recently
	PINKeyCheck    string    `bun:"pin_key_check"`    // tokens.PINHasher.KeyCheck
}

// instanceKept is how long a stopped instance's row stays on the status page.
const instanceKept = 24 * time.Hour

// SaveInstance stores an instance's row, and deletes those not seen for a day.
func (s *Store) SaveInstance(ctx context.Context, in Instance) error {
	in.StartedAt, in.SeenAt = in.StartedAt.UTC(), in.SeenAt.UTC()
	s.yieldToUrgent(ctx)
	return s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&in).
			On("CONFLICT (id) DO UPDATE").
			Set("name = EXCLUDED.name, version = EXCLUDED.version, seen_at = EXCLUDED.seen_at, leader = EXCLUDED.leader").
			Set("pcs_here = EXCLUDED.pcs_here, polls_per_second = EXCLUDED.polls_per_second, pin_key_check = EXCLUDED.pin_key_check").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("save instance: %w", err)
		}
		_, err = tx.NewDelete().Model((*Instance)(nil)).Where("seen_at < ?", in.SeenAt.Add(-instanceKept)).Exec(ctx)
		return err
	})
}

// Instances lists the instances seen within the last day, by name.
func (s *Store) Instances(ctx context.Context) ([]Instance, error) {
	var out []Instance
	if err := s.r.NewSelect().Model(&out).Order("name", "started_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	return out, nil
}
