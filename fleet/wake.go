package fleet

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strings"

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

// PlanWake plans waking the PCs of ids (unknown ones are left out).
func (f *Fleet) PlanWake(ids []int64) WakePlan {
	var plan WakePlan
	bySubnet := map[netip.Prefix]*Relay{}
	for _, id := range ids {
		v, ok := f.View(id)
		switch {
		case !ok:
		case v.Online:
			plan.Online = append(plan.Online, id)
		default:
			subnet, ok := subnetOf(v.Subnet)
			if !ok || v.WakeMAC == "" {
				plan.NoRelay = append(plan.NoRelay, id)
				continue
			}
			r := bySubnet[subnet]
			if r == nil {
				r = &Relay{Subnet: subnet, Broadcast: broadcastOf(subnet)}
				bySubnet[subnet] = r
			}
			r.Targets, r.MACs = append(r.Targets, id), append(r.MACs, v.WakeMAC)
		}
	}
	if len(bySubnet) == 0 {
		return plan
	}
	for _, v := range f.Views(func(v *models.PCView) bool {
		return v.Online && v.AgentVersion != wire.AgentCompatible && v.AgentVersion != ""
	}) {
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
