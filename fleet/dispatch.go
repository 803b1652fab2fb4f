package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// Command dispatch: queueing, delivery to polling agents, results.

// NextCommand hands PC id its most urgent pending command, while from (its token and address)
// still holds the PC's identity. With wait > 0 and nothing pending it holds until a command is
// queued, wait passes, ctx ends or the fleet closes; nil means none.
func (f *Fleet) NextCommand(ctx context.Context, id int64, from Caller, wait time.Duration) (*models.Command, error) {
	p := f.get(id)
	if p == nil {
		return nil, ErrUnknownPC
	}
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
		p.mu.Lock()
		p.waiting++
		p.mu.Unlock()
		defer f.endWait(p)
	}
	for {
		c, notify, err := f.deliver(ctx, p, from)
		if c != nil || err != nil || wait <= 0 {
			return c, err
		}
		select {
		case <-notify:
		case <-timer:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		case <-f.stopping:
			return nil, nil
		}
	}
}

// endWait ends a long-poll: the PC was there all along, so it was seen now.
func (f *Fleet) endWait(p *pc) {
	now := f.now()
	p.mu.Lock()
	p.waiting--
	f.addBeat(p, now, nil)
	p.lastSeen, p.here = now, now
	light, deleted := p.light(), p.deleted
	p.mu.Unlock()
	if !deleted {
		f.queueLight(light)
		f.peers.Tell(beatChange(light))
	}
}

// deliver takes the next pending command from the store when the PC has any and from still
// holds its identity; otherwise it returns the channel that the next enqueue closes.
func (f *Fleet) deliver(ctx context.Context, p *pc, from Caller) (*models.Command, <-chan struct{}, error) {
	p.deliver.Lock()
	defer p.deliver.Unlock()
	p.mu.Lock()
	pending, notify, deleted := p.pending, p.notify, p.deleted
	p.mu.Unlock()
	if pending == 0 || deleted || !f.holds(p, from.Token) {
		return nil, notify, nil
	}
	c, err := f.store.NextCommand(ctx, p.id, from.Addr, f.now())
	if err != nil {
		return nil, notify, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c == nil {
		// Deliveries are serialised and enqueues count after commit, so the store is right.
		p.pending = 0
		return nil, p.notify, nil
	}
	p.pending = max(0, p.pending-1)
	// The agent polls again at once after a command: that poll must not count as too fast.
	p.tokens = min(f.cfg.PollBurst, p.tokens+1)
	p.powerReason = powerReason(c.Type, p.powerReason)
	f.delivered.Add(1)
	f.publishCommand(c, ChangeCommand)
	return c, p.notify, nil
}

// powerReason is the outage reason a delivered command of type t gives its PC's next outage.
func powerReason(t, current string) string {
	switch t {
	case wire.TypeShutdown:
		return models.ReasonAdminShutdown
	case wire.TypeRestart:
		return models.ReasonAdminRestart
	}
	return current
}

// publishCommand shows a command's change and tells the other instances (kind ChangeCommand, or
// ChangeQueued for a new one).
func (f *Fleet) publishCommand(c *models.Command, kind ChangeKind) {
	f.showCommand(c)
	f.peers.Tell(Change{Kind: kind, ID: c.ID})
}

// showCommand publishes a command's change to this instance's screens.
func (f *Fleet) showCommand(c *models.Command) {
	// Parameters may still hold secrets in a freshly delivered copy: publish a stripped copy.
	cp := *c
	cp.Parameters = models.StripSecrets(c.Parameters)
	f.hub.Publish(events.Event{Kind: events.CommandStatus, PCID: c.PCID, CommandID: c.ID, At: f.now(), Command: &cp})
}

// Enqueue queues commands (all or none) and wakes the long-polls of their PCs.
func (f *Fleet) Enqueue(ctx context.Context, cmds []models.Command) error {
	if err := f.store.EnqueueCommands(ctx, cmds, f.now()); err != nil {
		return err
	}
	f.queued(cmds)
	return nil
}

// queued counts stored commands as pending, wakes their PCs' long-polls and publishes them.
func (f *Fleet) queued(cmds []models.Command) {
	for i := range cmds {
		if p := f.get(cmds[i].PCID); p != nil {
			p.mu.Lock()
			p.pending++
			p.wake()
			p.mu.Unlock()
		}
		f.publishCommand(&cmds[i], ChangeQueued)
	}
}

// Result records a command's result from rep (models.Store.ReportResult says who may report).
func (f *Fleet) Result(ctx context.Context, cmdID int64, rep models.Reporter, r models.Result) (*models.Command, error) {
	c, err := f.store.ReportResult(ctx, cmdID, rep, r, f.now())
	if err != nil {
		return nil, err
	}
	f.publishCommand(c, ChangeCommand)
	return c, nil
}

// CancelPending cancels a PC's undelivered commands.
func (f *Fleet) CancelPending(ctx context.Context, pcID int64, by string) ([]models.Command, error) {
	p := f.get(pcID)
	if p == nil {
		return nil, fmt.Errorf("cancel: PC %d: %w", pcID, models.ErrNotFound)
	}
	p.deliver.Lock()
	defer p.deliver.Unlock()
	cs, err := f.store.CancelPending(ctx, pcID, by, f.now())
	if err != nil {
		return nil, err
	}
	f.ended(cs)
	return cs, nil
}

// ended updates pending counts for commands that left the pending state without delivery.
func (f *Fleet) ended(cs []models.Command) {
	for i := range cs {
		if cs[i].StartedAt == nil {
			if p := f.get(cs[i].PCID); p != nil {
				p.mu.Lock()
				p.pending = max(0, p.pending-1)
				p.mu.Unlock()
			}
		}
		f.publishCommand(&cs[i], ChangeCommand)
	}
}
