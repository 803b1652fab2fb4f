package collect

import (
	"net"
	"regexp"
	"slices"
	"testing"
)

var upperHex32 = regexp.MustCompile(`^[0-9A-F]{32}$`)

func TestIdentityOfThisPC(t *testing.T) {
	ctx := t.Context()
	first, again, other := newLocal(t).Identity(ctx), newLocal(t).Identity(ctx), newLocal(t).Identity(ctx)
	t.Logf("identity: %+v", first)
	if !upperHex64.MatchString(first.MachineID()) {
		t.Errorf("machine id %q is not 64 upper-case hex digits", first.MachineID())
	}
	for _, id := range []Identity{again, other} {
		if id.MachineID() != first.MachineID() || id.InstanceID() != first.InstanceID() {
			t.Errorf("identity differs between reads: %+v and %+v", first, id)
		}
	}
	if first.InstanceID() != "" && !upperHex32.MatchString(first.InstanceID()) {
		t.Errorf("instance id %q is not 32 upper-case hex digits", first.InstanceID())
	}
	for _, mac := range first.MACs {
		if !macFormat.MatchString(mac) {
			t.Errorf("mac %q is not AA:BB:CC:DD:EE:FF", mac)
		}
	}
}

// Two PCs cloned from one disk image share the OS id; the hardware facts must still tell them
// apart, while the id of agents enrolled before stays the OS id's hash alone.
func TestIdentityOfClones(t *testing.T) {
	master := Identity{OSID: "c2b7a1e0-4d5f-4e8a-9b1c-0d2e3f4a5b6c", SystemUUID: dellUUID, MACs: []string{"00:1A:2B:3C:4D:5E"}}
	clone := Identity{OSID: master.OSID, SystemUUID: "4C4C4544-0038-3510-8052-C3C04F4E4D32", MACs: []string{"00:1A:2B:3C:4D:99"}}
	if master.MachineID() == clone.MachineID() || master.InstanceID() == clone.InstanceID() {
		t.Errorf("clones share machine id %s / instance id %s", master.MachineID(), master.InstanceID())
	}
	if legacy := "CC01922E7169EB6CBBEF4B682BEAB68DF515131E3BA205F33A80FDD378942389"; master.LegacyMachineID() != legacy || clone.LegacyMachineID() != legacy {
		t.Errorf("legacy ids %s, %s; want %s (SHA-256 of the OS id)", master.LegacyMachineID(), clone.LegacyMachineID(), legacy)
	}
	if master.MachineID() == master.LegacyMachineID() {
		t.Error("the machine id ignores the hardware facts")
	}
	onlyMACs := Identity{MACs: master.MACs}
	if onlyMACs.MachineID() == "" || onlyMACs.LegacyMachineID() != "" || onlyMACs.InstanceID() == "" {
		t.Errorf("with the MACs alone: machine id %q, legacy %q, instance %q", onlyMACs.MachineID(), onlyMACs.LegacyMachineID(), onlyMACs.InstanceID())
	}
	if (Identity{}).MachineID() != "" || (Identity{OSID: "x"}).InstanceID() != "" {
		t.Error("an identity without facts must not name a PC")
	}
}

func TestPhysicalMACs(t *testing.T) {
	hw := func(s string) net.HardwareAddr {
		mac, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		return mac
	}
	up := net.FlagUp | net.FlagBroadcast
	nics := []nic{
		{flags: up, mac: hw("00:1a:2b:3c:4d:5e")},       // onboard Ethernet
		{flags: net.FlagLoopback | net.FlagUp},          // lo
		{flags: up | net.FlagPointToPoint},              // a VPN tunnel: no address
		{flags: up, mac: hw("02:42:ac:11:00:02")},       // docker0: locally administered
		{flags: up, mac: hw("8a:3f:11:22:33:44")},       // Windows' random Wi-Fi MAC
		{flags: up, mac: hw("01:00:5e:00:00:01")},       // a multicast address
		{flags: up, mac: hw("00:1a:2b:ff:fe:3c:4d:5e")}, // not an EUI-48 (FireWire, InfiniBand)
		{flags: 0, mac: hw("00:1a:2b:3c:4d:00")},        // Wi-Fi card switched off: still this PC
		{flags: up, mac: hw("00:1A:2B:3C:4D:5E")},       // the same card listed twice
	}
	got := physicalMACs(nics)
	if want := []string{"00:1A:2B:3C:4D:00", "00:1A:2B:3C:4D:5E"}; !slices.Equal(got, want) {
		t.Errorf("physicalMACs = %v, want %v", got, want)
	}
}
