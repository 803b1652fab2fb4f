package fleet

import (
	"slices"
	"time"
)

// PCs cloned from one enrolled disk image share machine_id and agent token, so the server sees
// one PC whose calls come from copies taking turns. One change of copy is a PC that moved or
// was reinstalled; coming back to a copy seen moments before, again and again, is clones.
const (
	cloneWindow   = 10 * time.Minute // switches older than this are forgotten
	cloneSwitches = 3                // switches back to a recent copy that make a suspect
)

// Copy is one copy of an agent seen calling under a PC's identity: our agent by its instance
// id, a published client (no instance id) by its address.
type Copy struct {
	Instance string
	Addr     string
	At       time.Time // last call
}

// same tells whether o is the copy that made a call from instance and addr.
func (o Copy) same(instance, addr string) bool {
	if instance != "" || o.Instance != "" {
		return instance == o.Instance
	}
	return addr == o.Addr
}

// copies follows the copies calling under one identity; the PC's mu guards it.
type copies struct {
	current     Copy
	others      [3]Copy // other copies seen lately, in no order
	switches    int     // switches back to a copy in others, since firstSwitch
	firstSwitch time.Time
	lastSwitch  time.Time
}

// see records a call; it reports whether the PC has just become a clone suspect.
func (w *copies) see(instance, addr string, now time.Time) bool {
	if w.current.At.IsZero() || w.current.same(instance, addr) {
		w.current = Copy{Instance: instance, Addr: addr, At: now}
		return false
	}
	was := w.suspect(now)
	slot, back := 0, false
	for i, o := range w.others {
		if !o.At.IsZero() && o.same(instance, addr) && now.Sub(o.At) < cloneWindow {
			slot, back = i, true
			break
		}
		if o.At.Before(w.others[slot].At) {
			slot = i
		}
	}
	w.others[slot], w.current = w.current, Copy{Instance: instance, Addr: addr, At: now}
	if back {
		if now.Sub(w.firstSwitch) >= cloneWindow {
			w.switches, w.firstSwitch = 0, now
		}
		w.switches++
		w.lastSwitch = now
	}
	return !was && w.suspect(now)
}

// suspect tells whether copies have been taking turns lately.
func (w *copies) suspect(now time.Time) bool {
	return w.switches >= cloneSwitches && now.Sub(w.lastSwitch) < cloneWindow
}

// seen lists the copies that called within the window, the latest first.
func (w *copies) seen(now time.Time) []Copy {
	out := []Copy{w.current}
	for _, o := range w.others {
		if !o.At.IsZero() && now.Sub(o.At) < cloneWindow {
			out = append(out, o)
		}
	}
	slices.SortFunc(out[1:], func(a, b Copy) int { return b.At.Compare(a.At) })
	return out
}

// watch notes which copy of the agent called as p, and warns once when copies take turns.
func (f *Fleet) watch(p *pc, c Caller) {
	now := f.now()
	p.mu.Lock()
	became := p.copies.see(c.Instance, c.Addr, now)
	var seen []Copy
	if became {
		seen = p.copies.seen(now)
	}
	p.mu.Unlock()
	if became {
		addrs := make([]string, len(seen))
		for i, s := range seen {
			addrs[i] = s.Addr
		}
		f.log.Warn("cloned image suspected: several machines take turns calling as one PC; "+
			"give each its own identity (docs/AGENT.md, cloned disk images)",
			"pc_id", p.id, "machine_id", p.machineID, "addrs", addrs)
	}
}

// CloneSuspect is a PC whose identity several machines seem to share.
type CloneSuspect struct {
	PCID      int64
	MachineID string
	Hostname  string
	Copies    []Copy
}

// CloneSuspects lists the PCs whose calls come from copies taking turns, by id.
func (f *Fleet) CloneSuspects() []CloneSuspect {
	now := f.now()
	var out []CloneSuspect
	f.mu.RLock()
	for _, p := range f.byID {
		p.mu.Lock()
		if p.copies.suspect(now) {
			out = append(out, CloneSuspect{PCID: p.id, MachineID: p.machineID, Hostname: p.hostname, Copies: p.copies.seen(now)})
		}
		p.mu.Unlock()
	}
	f.mu.RUnlock()
	slices.SortFunc(out, func(a, b CloneSuspect) int { return int(a.PCID - b.PCID) })
	return out
}
