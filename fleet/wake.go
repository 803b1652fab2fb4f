package fleet

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// Wake-on-LAN: a PC that is off hears nothing from the server, but its network card listens on
// its own subnet. So the server asks PCs that are on, in the same subnet, to send the magic
// packets (wire.TypeWakeOnLAN).

// relaysPerSubnet is how many PCs send the packets for a subnet: two, so one that is busy or
// about to go off does not leave the others asleep.
const relaysPerSubnet = 2

// wakeNetwork is the MAC (AA:BB:…) and subnet (192.168.10.23/24) a full heartbeat reports; ""
// for what it does not carry.
func wakeNetwork(info *wire.SystemInfo) (mac, subnet string) {
	if info.MACAddress != nil {
		if hw, err := net.ParseMAC(*info.MACAddress); err == nil {
			mac = strings.ToUpper(hw.String())
		}
	}
	if info.Subnet != nil {
		subnet = *info.Subnet
	}
	return mac, subnet
}

// WakePlan says who wakes whom.
type WakePlan struct {
	Relays  []Relay
	NoRelay []int64 // off, with no PC of ours on in its subnet, or its subnet unknown
	Online  []int64 // on already
}

// Relay is one subnet's wake: the PCs that send the packets, and for whom.
type Relay struct {
	Subnet    netip.Prefix
	Broadcast netip.Addr
	Via       []int64 // online PCs running our agent (the published clients know no wake)
	Targets   []int64
	MACs      []string
}

// PlanWake plans waking the PCs of ids (unknown ones are left out), as the fleet is now.
func (f *Fleet) PlanWake(ids []int64) WakePlan {
	targets := make([]models.PCView, 0, len(ids))
	for _, id := range ids {
		if v, ok := f.View(id); ok {
			targets = append(targets, v)
		}
	}
	return planWake(targets, f.relays)
}

// relays are the PCs that can send a wake now.
func (f *Fleet) relays() []models.PCView { return f.Views(canRelay) }

// canRelay tells whether a PC can send a wake: it is on and runs our agent (the published
// clients know no wake).
func canRelay(v *models.PCView) bool {
	return v.Online && v.AgentVersion != wire.AgentCompatible && v.AgentVersion != ""
}

// planWake plans waking targets, as they are in the views given; relays lists the PCs that can
// send the packets (canRelay), asked for only when some target can be woken.
func planWake(targets []models.PCView, relays func() []models.PCView) WakePlan {
	var plan WakePlan
	bySubnet := map[netip.Prefix]*Relay{}
	for i := range targets {
		v := &targets[i]
		if v.Online {
			plan.Online = append(plan.Online, v.ID)
			continue
		}
		subnet, ok := subnetOf(v.Subnet)
		if !ok || v.WakeMAC == "" {
			plan.NoRelay = append(plan.NoRelay, v.ID)
			continue
		}
		r := bySubnet[subnet]
		if r == nil {
			r = &Relay{Subnet: subnet, Broadcast: broadcastOf(subnet)}
			bySubnet[subnet] = r
		}
		r.Targets, r.MACs = append(r.Targets, v.ID), append(r.MACs, v.WakeMAC)
	}
	if len(bySubnet) == 0 {
		return plan
	}
	for _, v := range relays() {
		if subnet, ok := subnetOf(v.Subnet); ok {
			if r := bySubnet[subnet]; r != nil && len(r.Via) < relaysPerSubnet {
				r.Via = append(r.Via, v.ID)
			}
		}
	}
	for _, r := range bySubnet {
		if len(r.Via) == 0 {
			plan.NoRelay = append(plan.NoRelay, r.Targets...)
			continue
		}
		plan.Relays = append(plan.Relays, *r)
	}
	slices.SortFunc(plan.Relays, func(a, b Relay) int { return cmp.Compare(a.Subnet.String(), b.Subnet.String()) })
	slices.Sort(plan.NoRelay)
	return plan
}

// subnetOf is the network of an interface address with its prefix (192.168.10.23/24 →
// 192.168.10.0/24), IPv4 only.
func subnetOf(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// broadcastOf is a network's directed broadcast address (192.168.10.0/24 → 192.168.10.255).
func broadcastOf(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Wake wakes the PCs of ids for by: it plans the relays (PlanWake), queues their wake_on_lan
// commands and marks the targets waking. perRelay[i] are the commands of plan.Relays[i].
func (f *Fleet) Wake(ctx context.Context, ids []int64, by string) (plan WakePlan, perRelay [][]models.Command, err error) {
	plan = f.PlanWake(ids)
	all, perRelay, err := wakeCommands(plan, by)
	if err != nil || len(all) == 0 {
		return plan, perRelay, err
	}
	// perRelay are views of all: they see the ids Enqueue fills in.
	if err := f.Enqueue(ctx, all); err != nil {
		return plan, nil, err
	}
	return plan, perRelay, f.startWake(ctx, plan.targets(), by)
}

// wakeCommands are the relays' wake_on_lan commands, wakeBatch MACs each: all of them, and each
// relay's as a part of all.
func wakeCommands(plan WakePlan, by string) (all []models.Command, perRelay [][]models.Command, err error) {
	ends := make([]int, len(plan.Relays))
	for i, r := range plan.Relays {
		for macs := range slices.Chunk(r.MACs, wakeBatch) {
			cmd, err := models.NewCommand(wire.TypeWakeOnLAN, map[string]any{"macs": strings.Join(macs, ","),
				"broadcast": r.Broadcast.String()}, by)
			if err != nil {
				return nil, nil, err
			}
			for _, via := range r.Via {
				cmd.PCID = via
				all = append(all, cmd)
			}
		}
		ends[i] = len(all)
	}
	start := 0
	for _, end := range ends {
		perRelay = append(perRelay, all[start:end:end])
		start = end
	}
	return all, perRelay, nil
}

// targets are the PCs the plan's relays wake.
func (plan WakePlan) targets() []int64 {
	var ids []int64
	for _, r := range plan.Relays {
		ids = append(ids, r.Targets...)
	}
	return ids
}

// wakeBatch is how many MACs one wake_on_lan command carries (the catalogue's bound).
const wakeBatch = 64

// startWake records that by sent a wake to the PCs of ids (the targets of PlanWake's relays):
// each is waking until its first heartbeat, or failed after Config.WakeLimit (Sweep).
func (f *Fleet) startWake(ctx context.Context, ids []int64, by string) error {
	w, err := f.store.StartWake(ctx, ids, by, f.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if p := f.get(id); p != nil {
			f.setWake(p, w)
			f.peers.Tell(Change{Kind: ChangePC, ID: id})
		}
	}
	f.log.Info("wake sent", "count", len(ids), "by", by)
	return nil
}

// endWake ends p's wake sent at sentAt as state (models.WakeAwake or WakeFailed), once across
// the instances: the store decides which one ends it.
func (f *Fleet) endWake(ctx context.Context, p *pc, sentAt time.Time, state string, now time.Time) {
	took := now.Sub(sentAt).Round(time.Second)
	ended, err := f.store.EndWake(ctx, p.id, sentAt, state, took.String(), now)
	if err != nil {
		f.log.Error("end wake failed", "pc_id", p.id, "err", err)
		return
	}
	if !ended {
		return
	}
	sent := sentAt
	f.setWake(p, models.Wake{State: state, SentAt: &sent, EndedAt: &now})
	f.peers.Tell(Change{Kind: ChangePC, ID: p.id})
	f.log.Info("wake ended", "pc_id", p.id, "state", state, "took", took.String())
}

// setWake puts w in p's memory and shows the PC.
func (f *Fleet) setWake(p *pc, w models.Wake) {
	p.mu.Lock()
	p.lastWake = w
	p.gen++
	v := p.view()
	p.mu.Unlock()
	f.show(events.PCState, v)
}

// waking is when p's wake was sent, if it is waking; p.mu must be held.
func (p *pc) waking() (time.Time, bool) {
	if p.lastWake.State != models.WakeWaking || p.lastWake.SentAt == nil {
		return time.Time{}, false
	}
	return *p.lastWake.SentAt, true
}
