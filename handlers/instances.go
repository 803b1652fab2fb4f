package handlers

import (
	"context"
	"time"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// instanceEvery is how often this instance writes its row for the status page; one not
// written for instanceSilent is shown as not answering.
const (
	instanceEvery  = 5 * time.Second
	instanceSilent = 3 * instanceEvery
)

// runInstance writes this instance's row every instanceEvery until ctx ends.
func (s *Server) runInstance(ctx context.Context) {
	tick := time.NewTicker(instanceEvery)
	defer tick.Stop()
	for now := time.Now(); ; {
		s.saveInstance(ctx, now)
		select {
		case <-ctx.Done():
			return
		case now = <-tick.C:
		}
	}
}

// saveInstance writes this instance's row: every instance on the database shows on every
// instance's status page (docs/SCALING.md).
func (s *Server) saveInstance(ctx context.Context, now time.Time) {
	st := s.fleet.Stats()
	perSecond, _ := s.pollRate.observe(st.Polls, now)
	err := s.store.SaveInstance(ctx, models.Instance{ID: s.cfg.InstanceID, Name: s.cfg.InstanceName, Version: s.cfg.Version,
		StartedAt: s.started, SeenAt: now, Leader: s.fleet.Leader(), PCsHere: st.Here, PollsPerSecond: perSecond,
		PINKeyCheck: s.pins.KeyCheck()})
	if err != nil && ctx.Err() == nil {
		s.log.Error("saving this instance's status row failed", "err", err)
	}
}

// instanceRows are the instances for the status page, this one first.
func (s *Server) instanceRows(ctx context.Context, now time.Time) ([]views.InstanceRow, error) {
	ins, err := s.store.Instances(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]views.InstanceRow, 0, len(ins))
	for _, in := range ins {
		r := views.InstanceRow{Instance: in, This: in.ID == s.cfg.InstanceID, Silent: now.Sub(in.SeenAt) > instanceSilent,
			Age: now.Sub(in.SeenAt)}
		if r.This {
			rows = append([]views.InstanceRow{r}, rows...)
		} else {
			rows = append(rows, r)
		}
	}
	return rows, nil
}
