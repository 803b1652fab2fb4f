package fleet

import (
	"context"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// The fleet's background work: the batch writer and the sweeps.

// Run writes PCs that came back online every FlushEvery and the light states every StateEvery;
// every second, takes silent PCs offline and times out overdue commands; sends room actions when
// they are due (room_actions.go), first ending those the server was down through; runs the
// rooms' timetables (timetables.go); and keeps the history (rollup.go). With other instances
// (peers.go) only the leader sweeps, sends room actions and runs timetables, and an instance that
// becomes the leader starts as a server starts. It returns when ctx ends, after a last flush of
// both.
func (f *Fleet) Run(ctx context.Context) {
	history := make(chan struct{})
	go func() {
		defer close(history)
		f.runHistory(ctx)
	}()
	defer func() { <-history }()
	flush := time.NewTicker(f.cfg.FlushEvery)
	defer flush.Stop()
	state := time.NewTicker(f.cfg.StateEvery)
	defer state.Stop()
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	actions := time.NewTimer(idleWait)
	defer actions.Stop()
	timetables := time.NewTicker(timetableEvery)
	defer timetables.Stop()
	leading := false
	lead := func() {
		if now := f.peers.Leader(); now != leading {
			leading = now
			if leading {
				actions.Reset(f.startRoomActions(ctx))
				f.timetableFrom = time.Time{}
			}
		}
	}
	lead()
	for {
		select {
		case <-ctx.Done():
			// The request context is gone; the last flush gets its own.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			f.Flush(fctx)
			cancel()
			return
		case <-flush.C:
			f.flush(ctx, nil)
		case <-state.C:
			f.Flush(ctx)
		case <-sweep.C:
			lead()
			f.Sweep(ctx)
		case <-actions.C:
			actions.Reset(f.dueActions(ctx))
		case <-f.actionsChanged:
			actions.Reset(f.dueActions(ctx))
		case <-timetables.C:
			if leading {
				f.runTimetables(ctx)
			}
		}
	}
}

// Flush writes the batch: light states and returns online. On failure it is kept for the next
// try, unless newer data arrived meanwhile.
func (f *Fleet) Flush(ctx context.Context) { f.flush(ctx, f.light.take()) }

// flush writes states and the PCs that came back online.
func (f *Fleet) flush(ctx context.Context, states []models.LightState) {
	f.dirtyMu.Lock()
	back := f.cameBack
	f.cameBack = make(map[int64]time.Time, len(back))
	f.dirtyMu.Unlock()
	if len(states) == 0 && len(back) == 0 {
		return
	}
	online := make([]models.Online, 0, len(back))
	for id, at := range back {
		online = append(online, models.Online{PCID: id, At: at})
	}
	if err := f.store.SaveLive(ctx, states, online); err != nil {
		f.log.Error("live state flush failed; retrying", "pcs", len(states), "online", len(online), "err", err)
		f.light.restore(states)
		f.dirtyMu.Lock()
		for id, at := range back {
			if _, newer := f.cameBack[id]; !newer {
				f.cameBack[id] = at
			}
		}
		f.dirtyMu.Unlock()
	}
}

// lastPoll is when a PC last polled, here or at another instance; now while it holds a
// long-poll.
func (f *Fleet) lastPoll(id int64) time.Time {
	p := f.get(id)
	if p == nil {
		return time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting > 0 {
		return f.now()
	}
	return p.lastSeen
}

// dueActions sends the room actions due, on the leader; another instance looks again later.
func (f *Fleet) dueActions(ctx context.Context) time.Duration {
	if !f.peers.Leader() {
		return idleWait
	}
	return f.sendDueActions(ctx)
}

// Sweep takes PCs silent for OfflineAfter offline, fails wakes unanswered for WakeLimit and
// times out overdue commands, on the leader; on every instance it tells the others of PCs
// holding a long-poll here, which do not poll meanwhile.
func (f *Fleet) Sweep(ctx context.Context) {
	now := f.now()
	type stale struct {
		p    *pc
		seen time.Time
	}
	var silent, unwoken []stale
	var holding []models.LightState
	f.mu.RLock()
	for _, p := range f.byID {
		p.mu.Lock()
		switch {
		case p.waiting > 0 && now.Sub(p.lastSeen) > f.cfg.OfflineAfter/2:
			f.addBeat(p, now, nil)
			p.lastSeen, p.here = now, now
			holding = append(holding, p.light())
		case p.online && p.waiting == 0 && now.Sub(p.lastSeen) > f.cfg.OfflineAfter:
			silent = append(silent, stale{p, p.lastSeen})
		}
		if sent, ok := p.waking(); ok && now.Sub(sent) > f.cfg.WakeLimit {
			unwoken = append(unwoken, stale{p, sent})
		}
		p.mu.Unlock()
	}
	f.mu.RUnlock()
	for _, l := range holding {
		f.peers.Tell(beatChange(l))
	}
	if !f.peers.Leader() {
		return
	}
	for _, s := range silent {
		if err := f.setOffline(ctx, s.p, s.seen, models.ReasonTimeout, stillSilent); err != nil {
			f.log.Error("mark PC offline failed", "pc_id", s.p.id, "err", err)
		}
	}
	for _, s := range unwoken {
		f.endWake(ctx, s.p, s.seen, models.WakeFailed, now)
	}
	cs, err := f.store.ExpireCommands(ctx, now, f.lastPoll)
	if err != nil {
		f.log.Error("command timeout sweep failed", "err", err)
		return
	}
	for _, c := range cs {
		f.log.Info("command timed out", "command_id", c.ID, "pc_id", c.PCID, "delivered", c.StartedAt != nil)
	}
	f.ended(cs)
}
