package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// Heartbeat records a heartbeat of PC id. A light one and coming back online only touch memory
// (the batch writer stores them within FlushEvery); a full one and an IP change are written
// before it returns. It reports whether the IP address changed.
func (f *Fleet) Heartbeat(ctx context.Context, id int64, info *wire.SystemInfo, full bool) (ipChanged bool, err error) {
	p := f.get(id)
	if p == nil {
		return false, ErrUnknownPC
	}
	f.polls.Add(1)
	now := f.now()
	if info != nil && info.IPAddress != nil && *info.IPAddress != "" {
		if ipChanged, err = f.recordIP(ctx, p, *info.IPAddress, now); err != nil {
			return false, err
		}
	}
	if full && info != nil {
		if err := f.saveFull(ctx, p, info, now); err != nil {
			return ipChanged, err
		}
	}
	p.mu.Lock()
	if full && info != nil && info.CurrentUser != nil {
		user := *info.CurrentUser
		p.user = &user
	}
	back := !p.online
	if back {
		// Recorded under p.mu, so setOffline always sees an unflushed return.
		p.online, p.powerReason = true, ""
		f.dirtyMu.Lock()
		f.cameBack[id] = now
		f.dirtyMu.Unlock()
	}
	p.lastSeen = now
	if info != nil {
		if info.CPUUsage != nil {
			p.cpu = info.CPUUsage
		}
		if info.RAMUsagePercent != nil {
			p.ram = info.RAMUsagePercent
		}
	}
	snap, light := p.view(), p.light()
	p.mu.Unlock()
	if back {
		f.log.Info("PC online", "pc_id", id, "machine_id", p.machineID)
		f.publish(events.PCOnline, snap)
	}
	if !full {
		f.queueLight(light)
	}
	f.publish(events.PCState, snap)
	return ipChanged, nil
}

// queueLight schedules a light state for the next flush.
func (f *Fleet) queueLight(l models.LightState) { f.light.put(l) }

// takeCameBack removes a PC's unflushed return online, if any.
func (f *Fleet) takeCameBack(id int64) (time.Time, bool) {
	f.dirtyMu.Lock()
	defer f.dirtyMu.Unlock()
	at, ok := f.cameBack[id]
	delete(f.cameBack, id)
	return at, ok
}

func (f *Fleet) recordIP(ctx context.Context, p *pc, ip string, now time.Time) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ip == p.ip {
		return false, nil
	}
	if err := f.store.RecordIP(ctx, p.id, ip, now); err != nil {
		return false, err
	}
	p.ip = ip
	return true, nil
}

func (f *Fleet) saveFull(ctx context.Context, p *pc, info *wire.SystemInfo, now time.Time) error {
	fs := models.FullState{CPUUsage: info.CPUUsage, RAMUsed: info.RAMUsed, RAMUsagePercent: info.RAMUsagePercent,
		CurrentUser: info.CurrentUser, Uptime: info.Uptime, At: now}
	if info.Processes != nil {
		b, err := json.Marshal(info.Processes)
		if err != nil {
			return err
		}
		s := string(b)
		fs.Processes = &s
	}
	for mount, d := range info.DiskUsage {
		fs.Disks = append(fs.Disks, models.Disk{Mount: mount, UsedGB: &d.UsedGB, FreeGB: &d.FreeGB, Percent: &d.Percent})
	}
	// A batched light state older than this full one must not overwrite it.
	f.light.remove(p.id)
	return f.store.SaveFullState(ctx, p.id, fs)
}

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
	p.lastSeen = now
	light, deleted := p.light(), p.deleted
	p.mu.Unlock()
	if !deleted {
		f.queueLight(light)
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
	switch c.Type {
	case wire.TypeShutdown:
		p.powerReason = models.ReasonAdminShutdown
	case wire.TypeRestart:
		p.powerReason = models.ReasonAdminRestart
	}
	f.delivered.Add(1)
	f.publishCommand(c)
	return c, p.notify, nil
}

func (f *Fleet) publishCommand(c *models.Command) {
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
	for i := range cmds {
		if p := f.get(cmds[i].PCID); p != nil {
			p.mu.Lock()
			p.pending++
			p.wake()
			p.mu.Unlock()
		}
		f.publishCommand(&cmds[i])
	}
	return nil
}

// Result records a command's result from rep (models.Store.ReportResult says who may report).
func (f *Fleet) Result(ctx context.Context, cmdID int64, rep models.Reporter, r models.Result) (*models.Command, error) {
	c, err := f.store.ReportResult(ctx, cmdID, rep, r, f.now())
	if err != nil {
		return nil, err
	}
	f.publishCommand(c)
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
		f.publishCommand(&cs[i])
	}
}

// Offline takes a PC offline at once: the agent said it is shutting down or losing its network.
// A power command delivered before overrides the reason.
func (f *Fleet) Offline(ctx context.Context, id int64, reason string) error {
	p := f.get(id)
	if p == nil {
		return ErrUnknownPC
	}
	return f.setOffline(ctx, p, f.now(), reason, false)
}

// setOffline records an outage starting at since. With onlyIfStale it first checks that the PC
// has still not polled since the sweep chose it.
func (f *Fleet) setOffline(ctx context.Context, p *pc, since time.Time, reason string, onlyIfStale bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.online || p.deleted || (onlyIfStale && !p.lastSeen.Equal(since)) {
		return nil
	}
	if p.powerReason != "" {
		reason = p.powerReason
	}
	// An unflushed return online must be stored first, or the flush would close this outage.
	if at, ok := f.takeCameBack(p.id); ok {
		if err := f.store.SetOnline(ctx, p.id, at); err != nil {
			f.dirtyMu.Lock()
			f.cameBack[p.id] = at
			f.dirtyMu.Unlock()
			return err
		}
	}
	if err := f.store.SetOffline(ctx, p.id, since, reason); err != nil {
		return err
	}
	p.online, p.powerReason = false, ""
	f.log.Info("PC offline", "pc_id", p.id, "machine_id", p.machineID, "reason", reason)
	f.publish(events.PCOffline, p.view())
	return nil
}

// Delete removes a PC and everything about it.
func (f *Fleet) Delete(ctx context.Context, id int64) error {
	if err := f.store.DeletePC(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	p := f.byID[id]
	if p != nil {
		delete(f.byID, id)
		delete(f.byMachine, p.machineID)
		delete(f.byToken, p.tokenHash)
	}
	f.mu.Unlock()
	f.light.remove(id)
	f.dirtyMu.Lock()
	delete(f.cameBack, id)
	f.dirtyMu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.deleted = true
		p.wake()
		p.mu.Unlock()
	}
	f.publish(events.PCRemoved, models.PCView{ID: id})
	return nil
}

// Run flushes light state every FlushEvery and, every second, takes silent PCs offline and
// times out overdue commands. It returns when ctx ends, after a last flush.
func (f *Fleet) Run(ctx context.Context) {
	flush := time.NewTicker(f.cfg.FlushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			// The request context is gone; the last flush gets its own.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			f.Flush(fctx)
			cancel()
			return
		case <-flush.C:
			f.Flush(ctx)
		case <-sweep.C:
			f.Sweep(ctx)
		}
	}
}

// Flush writes the batch: light states and returns online. On failure it is kept for the next
// try, unless newer data arrived meanwhile.
func (f *Fleet) Flush(ctx context.Context) {
	f.dirtyMu.Lock()
	back := f.cameBack
	f.cameBack = make(map[int64]time.Time, len(back))
	f.dirtyMu.Unlock()
	states := f.light.take()
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

// Sweep takes PCs silent for OfflineAfter offline and times out overdue commands.
func (f *Fleet) Sweep(ctx context.Context) {
	now := f.now()
	type stale struct {
		p    *pc
		seen time.Time
	}
	var silent []stale
	f.mu.RLock()
	for _, p := range f.byID {
		p.mu.Lock()
		if p.online && p.waiting == 0 && now.Sub(p.lastSeen) > f.cfg.OfflineAfter {
			silent = append(silent, stale{p, p.lastSeen})
		}
		p.mu.Unlock()
	}
	f.mu.RUnlock()
	for _, s := range silent {
		if err := f.setOffline(ctx, s.p, s.seen, models.ReasonTimeout, true); err != nil {
			f.log.Error("mark PC offline failed", "pc_id", s.p.id, "err", err)
		}
	}
	cs, err := f.store.ExpireCommands(ctx, now)
	if err != nil {
		f.log.Error("command timeout sweep failed", "err", err)
		return
	}
	for _, c := range cs {
		f.log.Info("command timed out", "command_id", c.ID, "pc_id", c.PCID, "delivered", c.StartedAt != nil)
	}
	f.ended(cs)
}
