package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// Several server instances on one PostgreSQL database (docs/SCALING.md) each keep the whole
// fleet in memory, since any of them may get any PC's poll or any browser's stream. Each tells
// the others what changed in its memory and applies what they tell: a poll's figures travel
// whole (they are stored only every StateEvery); everything else is stored before it is told,
// so the others reload that PC, command or room from the database. One instance, the leader,
// runs the timed work that must run once for all: taking silent PCs offline, command
// time-outs, room actions, the hourly rollup and pruning.

// Peers are the other instances (cluster.Bus).
type Peers interface {
	Tell(Change) // queue a change for the others; never blocks
	Leader() bool
}

// Leader tells whether this instance runs the timed work that must run once for all.
func (f *Fleet) Leader() bool { return f.peers.Leader() }

// alone is a single instance: nobody to tell, and it leads.
type alone struct{}

func (alone) Tell(Change)  {}
func (alone) Leader() bool { return true }

// ChangeKind says what a Change is.
type ChangeKind uint8

// The kinds of change. The numbers travel between instances: append, never renumber.
const (
	ChangeBeat    ChangeKind = iota + 1 // a poll: the PC is online, seen At, with its figures
	ChangeOffline                       // the PC went offline
	ChangePC                            // reload the PC from the store and show it
	ChangePCQuiet                       // reload the PC; a room change shows it
	ChangeRemoved                       // the PC was deleted
	ChangeCommand                       // reload the command and show it
	ChangeQueued                        // the command is new: also count it pending, wake its long-poll
	ChangeRoom                          // a room changed (ID, and Room: its name before)
	ChangeActions                       // reload the room's (ID) actions and show them
	ChangeResync                        // changes may have been lost: reload everything
)

// Change is what one instance tells the others. The short JSON names keep a batch of them
// within PostgreSQL's 8,000-byte notification.
type Change struct {
	Kind ChangeKind `json:"k"`
	ID   int64      `json:"i,omitempty"` // the PC, command or room
	CPU  *float64   `json:"c,omitempty"`
	RAM  *float64   `json:"r,omitempty"`
	At   int64      `json:"t,omitempty"` // when the PC was seen, Unix milliseconds
	Room string     `json:"n,omitempty"`
}

// beatChange is the change a poll makes.
func beatChange(l models.LightState) Change {
	return Change{Kind: ChangeBeat, ID: l.PCID, CPU: l.CPUUsage, RAM: l.RAMUsagePercent, At: l.At.UnixMilli()}
}

// Apply applies other instances' changes to memory and shows them on this instance's screens,
// in the order they were told. It is called from one goroutine (the cluster's listener).
func (f *Fleet) Apply(ctx context.Context, cs []Change) {
	var pcs, cmds []int64
	for _, c := range cs {
		switch c.Kind {
		case ChangePC, ChangePCQuiet:
			pcs = append(pcs, c.ID)
		case ChangeCommand, ChangeQueued:
			cmds = append(cmds, c.ID)
		case ChangeResync:
			f.Resync(ctx)
			return
		}
	}
	// The rows are read once for the whole batch, before any is applied: each was stored before
	// it was told, so what is read is at least as new as every change that names it.
	rows, gens, err := f.loadRows(ctx, pcs)
	if err != nil {
		f.log.Error("reload PCs changed by another instance failed", "pcs", len(pcs), "err", err)
	}
	commands := map[int64]*models.Command{}
	if len(cmds) > 0 {
		list, err := f.store.Commands(ctx, cmds)
		if err != nil {
			f.log.Error("reload commands changed by another instance failed", "commands", len(cmds), "err", err)
		}
		for i := range list {
			commands[list[i].ID] = &list[i]
		}
	}
	for _, c := range cs {
		switch c.Kind {
		case ChangeBeat:
			f.applyBeat(c)
		case ChangeOffline:
			f.applyOffline(c.ID)
		case ChangePC, ChangePCQuiet:
			if r, ok := rows[c.ID]; ok && !f.reload(r, gens[c.ID], c.Kind == ChangePCQuiet) {
				f.reloadAgain(ctx, c.ID, c.Kind == ChangePCQuiet)
			}
		case ChangeRemoved:
			if f.forget(c.ID) {
				f.show(events.PCRemoved, models.PCView{ID: c.ID})
			}
		case ChangeCommand, ChangeQueued:
			if cmd := commands[c.ID]; cmd != nil {
				f.applyCommand(cmd, c.Kind == ChangeQueued)
			}
		case ChangeRoom:
			f.showRooms([]models.Room{{ID: c.ID, Name: c.Room}})
		case ChangeActions:
			f.showRoomActions(ctx, c.ID, c.Room)
			if f.peers.Leader() {
				f.rearmActions()
			}
		}
	}
}

// loadRows reads the PCs of ids from the store, with their generations as they were before the
// read (reload).
func (f *Fleet) loadRows(ctx context.Context, ids []int64) (map[int64]models.PCRow, map[int64]uint64, error) {
	out := make(map[int64]models.PCRow, len(ids))
	if len(ids) == 0 {
		return out, nil, nil
	}
	gens := make(map[int64]uint64, len(ids))
	for _, id := range ids {
		gens[id] = f.genOf(id)
	}
	rows, err := f.store.ListPCs(ctx, ids...)
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, gens, err
}

// genOf is a PC's generation now; 0 for one not in memory.
func (f *Fleet) genOf(id int64) uint64 {
	p := f.get(id)
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// reloadAgain reads a PC again until no change of this instance overtakes the read (a few tries:
// each such change was stored, so a later read has it).
func (f *Fleet) reloadAgain(ctx context.Context, id int64, quiet bool) {
	for range 3 {
		rows, gens, err := f.loadRows(ctx, []int64{id})
		if err != nil {
			f.log.Error("reload PC changed by another instance failed", "pc_id", id, "err", err)
			return
		}
		r, ok := rows[id]
		if !ok || f.reload(r, gens[id], quiet) {
			return
		}
	}
}

// applyBeat records another instance's poll of a PC.
func (f *Fleet) applyBeat(c Change) {
	p := f.get(c.ID)
	if p == nil {
		return
	}
	at := time.UnixMilli(c.At)
	// A state this instance still holds from the PC's earlier polls here is older.
	if l, ok := f.light.takeOne(c.ID); ok && l.At.After(at) {
		f.light.restore([]models.LightState{l})
	}
	p.mu.Lock()
	back := !p.online
	p.online = true
	if at.After(p.lastSeen) {
		p.lastSeen = at
	}
	if c.CPU != nil {
		p.cpu = c.CPU
	}
	if c.RAM != nil {
		p.ram = c.RAM
	}
	v := p.view()
	p.mu.Unlock()
	if back {
		f.show(events.PCOnline, v)
	}
	f.show(events.PCState, v)
}

// applyOffline takes a PC offline that another instance (the leader, or the one its agent said
// goodbye to) has stored offline.
func (f *Fleet) applyOffline(id int64) {
	p := f.get(id)
	if p == nil {
		return
	}
	p.mu.Lock()
	was := p.online
	p.online, p.powerReason = false, ""
	v := p.view()
	p.mu.Unlock()
	if was {
		f.show(events.PCOffline, v)
	}
}

// applyCommand shows a command another instance changed; a new one counts as pending here too
// and wakes the PC's long-poll, should the PC be polling this instance.
func (f *Fleet) applyCommand(c *models.Command, queued bool) {
	if p := f.get(c.PCID); p != nil {
		p.mu.Lock()
		if queued {
			p.pending++
			p.wake()
		}
		if c.Status == wire.StatusExecuting {
			// The PC may go offline through this instance: say why.
			p.powerReason = powerReason(c.Type, p.powerReason)
		}
		p.mu.Unlock()
	}
	f.showCommand(c)
}

// reload puts a PC's stored facts in memory, adding a PC registered elsewhere, and shows it
// unless quiet. Its live figures stay: memory has newer ones than the store. gen is the PC's
// generation before the row was read: if this instance changed the PC since, the row may be
// older than memory, and reload leaves it and returns false.
func (f *Fleet) reload(r models.PCRow, gen uint64, quiet bool) bool {
	kind := events.PCUpdated
	p := f.get(r.ID)
	if p == nil {
		p = f.newPC(&r, f.now())
		kind = events.PCAdded
	} else {
		p.mu.Lock()
		changed := p.gen != gen
		p.mu.Unlock()
		if changed {
			return false
		}
		f.setToken(p, r.AgentTokenHash, r.TokenUsed)
		p.mu.Lock()
		p.facts(&r)
		p.wake() // a long-poll held with a token just replaced looks again, and takes nothing
		p.mu.Unlock()
	}
	p.mu.Lock()
	v := p.view()
	p.mu.Unlock()
	if !quiet {
		f.show(kind, v)
	}
	return true
}

// Resync reloads every PC and the pending counts from the store after changes may have been
// lost (the connection to the other instances was down). A PC polling here stays online; a
// pending count is never lowered (one too high costs a look at the store at the next poll; one
// too low would leave a command undelivered).
func (f *Fleet) Resync(ctx context.Context) {
	pending, err := f.store.PendingCounts(ctx)
	if err != nil {
		f.log.Error("resync: pending counts failed", "err", err)
		return
	}
	gens := map[int64]uint64{}
	for _, p := range f.all() {
		gens[p.id] = f.genOf(p.id)
	}
	rows, err := f.store.ListPCs(ctx)
	if err != nil {
		f.log.Error("resync: list PCs failed", "err", err)
		return
	}
	now := f.now()
	stored := make(map[int64]bool, len(rows))
	for _, r := range rows {
		stored[r.ID] = true
		if !f.reload(r, gens[r.ID], false) {
			f.reloadAgain(ctx, r.ID, false)
		}
		p := f.get(r.ID)
		if p == nil {
			continue
		}
		p.mu.Lock()
		if r.LastSeen != nil && r.LastSeen.After(p.lastSeen) {
			p.lastSeen = *r.LastSeen
		}
		p.online = r.IsOnline || f.stillOnline(p, now)
		p.pending = max(p.pending, pending[r.ID])
		p.wake()
		p.mu.Unlock()
	}
	// A PC missing from the list may have been registered here since it was read.
	var missing []int64
	for _, p := range f.all() {
		if !stored[p.id] {
			missing = append(missing, p.id)
		}
	}
	if len(missing) > 0 {
		still, _, err := f.loadRows(ctx, missing)
		if err != nil {
			f.log.Error("resync: list PCs failed", "err", err)
			return
		}
		for _, id := range missing {
			if _, ok := still[id]; !ok && f.forget(id) {
				f.show(events.PCRemoved, models.PCView{ID: id})
			}
		}
	}
	f.changes.Add(1)
	f.log.Info("fleet resynchronised from the database", "pcs", len(rows))
}

// errNotHere: another instance may have just registered or re-keyed the PC (refresh).
var errNotHere = errors.New("PC not in this instance's memory")

// refresh reloads a PC from the store when a caller's identity did not match memory: with other
// instances, its registration may be there a moment before its change reaches this one.
func (f *Fleet) refresh(ctx context.Context, machineID string) error {
	if _, single := f.peers.(alone); single {
		return errNotHere
	}
	f.mu.RLock()
	known := f.byMachine[machineID]
	f.mu.RUnlock()
	var gen uint64
	if known != nil {
		gen = f.genOf(known.id)
	}
	r, err := f.store.PCRowByMachine(ctx, machineID)
	if err != nil {
		return err
	}
	if !f.reload(*r, gen, false) {
		f.reloadAgain(ctx, r.ID, false)
	}
	return nil
}
