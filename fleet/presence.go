package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// Presence: heartbeats, IP changes, going offline.

// Beat is a heartbeat: what the PC reported, and whether it is a full one (disks, processes,
// console user). The zero Beat is a poll that carried none.
type Beat struct {
	Info  *wire.SystemInfo
	Full  bool
	Agent string // the caller's agent version, kept with a full heartbeat; "" unknown
}

// Heartbeat records a heartbeat of PC id. A light one only touches memory (its minute of history,
// rollup.go, and the latest state, which the batch writer stores every StateEvery); coming back
// online is stored within FlushEvery; a full one and an IP change are written before it returns.
// It reports whether the IP address changed.
func (f *Fleet) Heartbeat(ctx context.Context, id int64, b Beat) (ipChanged bool, err error) {
	info, full := b.Info, b.Full
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
	fullInfo := full && info != nil
	var stored models.FullState
	if fullInfo {
		if stored, err = f.saveFull(ctx, p, info, b.Agent, now); err != nil {
			return ipChanged, err
		}
	}
	p.presence.Lock() // not while setOffline stores an outage
	defer p.presence.Unlock()
	p.mu.Lock()
	if fullInfo {
		// What the store kept of it: "" leaves the known value.
		p.user = cmp.Or(stored.CurrentUser, p.user)
		p.agent = cmp.Or(stored.AgentVersion, p.agent)
		p.wakeMAC, p.subnet = cmp.Or(stored.WakeMAC, p.wakeMAC), cmp.Or(stored.Subnet, p.subnet)
		p.gen++
	}
	f.addBeat(p, now, info)
	back := !p.online
	var wokeFrom time.Time
	if back {
		wokeFrom, _ = p.waking()
		// Recorded under p.presence, so setOffline always sees an unflushed return.
		p.online, p.powerReason = true, ""
		f.dirtyMu.Lock()
		f.cameBack[id] = now
		f.dirtyMu.Unlock()
	}
	p.lastSeen, p.here = now, now
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
	if ipChanged || full {
		// Stored already: the others reload the address, user and version.
		f.peers.Tell(Change{Kind: ChangePC, ID: id})
	}
	if !wokeFrom.IsZero() {
		// After the state above, which would show the wake as it was.
		f.endWake(ctx, p, wokeFrom, models.WakeAwake, now)
	}
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
	p.presence.Lock()
	defer p.presence.Unlock()
	p.mu.Lock()
	same := ip == p.ip
	p.mu.Unlock()
	if same {
		return false, nil
	}
	if err := f.store.RecordIP(ctx, p.id, ip, now); err != nil {
		return false, err
	}
	p.mu.Lock()
	p.ip = ip
	p.gen++
	p.mu.Unlock()
	return true, nil
}

// saveFull stores a full heartbeat and returns what it stored.
func (f *Fleet) saveFull(ctx context.Context, p *pc, info *wire.SystemInfo, agent string, now time.Time) (models.FullState, error) {
	fs := models.FullState{CPUUsage: info.CPUUsage, RAMUsed: info.RAMUsed, RAMUsagePercent: info.RAMUsagePercent,
		CurrentUser: info.CurrentUser, Uptime: info.Uptime, AgentVersion: agent, At: now}
	fs.WakeMAC, fs.Subnet = wakeNetwork(info)
	if info.Processes != nil {
		b, err := json.Marshal(info.Processes)
		if err != nil {
			return fs, err
		}
		s := string(b)
		fs.Processes = &s
	}
	for mount, d := range info.DiskUsage {
		fs.Disks = append(fs.Disks, models.Disk{Mount: mount, UsedGB: &d.UsedGB, FreeGB: &d.FreeGB, Percent: &d.Percent})
	}
	// A batched light state older than this full one must not overwrite it.
	f.light.takeOne(p.id)
	return fs, f.store.SaveFullState(ctx, p.id, fs)
}

// Offline takes a PC offline at once: the agent said it is shutting down or losing its network.
// A power command delivered before overrides the reason.
func (f *Fleet) Offline(ctx context.Context, id int64, reason string) error {
	p := f.get(id)
	if p == nil {
		return ErrUnknownPC
	}
	return f.setOffline(ctx, p, f.now(), reason, whatever)
}

// offlineIf says when setOffline acts: whatever the PC did, or only if it has still not polled
// since the sweep chose it (its last poll is since).
type offlineIf int

const (
	whatever offlineIf = iota
	stillSilent
)

// setOffline records an outage starting at since.
func (f *Fleet) setOffline(ctx context.Context, p *pc, since time.Time, reason string, when offlineIf) error {
	p.presence.Lock()
	defer p.presence.Unlock()
	p.mu.Lock()
	skip := !p.online || p.deleted || (when == stillSilent && !p.lastSeen.Equal(since))
	if p.powerReason != "" {
		reason = p.powerReason
	}
	p.mu.Unlock()
	if skip {
		return nil
	}
	// The last light state is kept with the outage, not up to StateEvery later.
	if l, ok := f.light.takeOne(p.id); ok {
		if err := f.store.SaveLive(ctx, []models.LightState{l}, nil); err != nil {
			f.light.restore([]models.LightState{l})
			return err
		}
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
	p.mu.Lock()
	p.online, p.powerReason = false, ""
	v := p.view()
	p.mu.Unlock()
	f.log.Info("PC offline", "pc_id", p.id, "machine_id", p.machineID, "reason", reason)
	f.publish(events.PCOffline, v)
	return nil
}
