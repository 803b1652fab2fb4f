package collect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"slices"
	"strings"
)

// Identity is the hardware facts a PC is known by. A fact that could not be read is empty.
type Identity struct {
	OSID       string   // MachineGuid (Windows) or /etc/machine-id (Linux), raw
	SystemUUID string   // the SMBIOS system UUID, upper-case 8-4-4-4-12 text
	MACs       []string // physical NICs' MACs, AA:BB:CC:DD:EE:FF, sorted
}

// MachineID is the id a PC enrols under: the upper-hex SHA-256 of all three facts. The OS id
// alone is shared by PCs cloned from one disk image; their SMBIOS UUIDs and MACs differ. Empty
// when no fact could be read.
func (id Identity) MachineID() string {
	if id.OSID == "" && id.SystemUUID == "" && len(id.MACs) == 0 {
		return ""
	}
	return hashID("os=" + id.OSID + "\nsmbios=" + id.SystemUUID + "\nmacs=" + strings.Join(id.MACs, ","))
}

// LegacyMachineID is the id agents before the hardware facts enrolled under (SHA-256 of the OS
// id alone): an upgraded agent whose agent.json lacks its machine id keeps being the same PC.
func (id Identity) LegacyMachineID() string {
	if id.OSID == "" {
		return ""
	}
	return hashID(id.OSID)
}

// InstanceID tells apart copies of one enrolled disk image, which share machine id and token:
// 32 hex digits of the SHA-256 of the SMBIOS UUID and the MAC set, read at every start. Empty
// when neither could be read.
func (id Identity) InstanceID() string {
	if id.SystemUUID == "" && len(id.MACs) == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte("smbios=" + id.SystemUUID + "\nmacs=" + strings.Join(id.MACs, ",")))
	return strings.ToUpper(hex.EncodeToString(sum[:16]))
}

// Identity reads the hardware facts. One that cannot be read is left out and logged at debug:
// the others still tell this PC apart.
func (c *Collector) Identity(ctx context.Context) Identity {
	const level = slog.LevelDebug // a missing fact is routine: no root, a VM without SMBIOS
	var id Identity
	id.OSID, _ = field(ctx, c, level, "os_machine_id", machineID)
	id.SystemUUID, _ = field(ctx, c, level, "smbios_uuid", systemUUID)
	if nics, ok := field(ctx, c, level, "mac_set", func(context.Context) ([]nic, error) { return interfaces() }); ok {
		id.MACs = physicalMACs(nics)
	}
	return id
}

// physicalMACs returns the sorted, distinct MACs of the NICs that are hardware: not loopback, with
// a 6-byte address (tunnels have none), globally unique (virtual switches, containers and
// Windows' random Wi-Fi addresses set the locally administered bit) and unicast.
func physicalMACs(nics []nic) []string {
	var macs []string
	for _, n := range nics {
		if n.flags&net.FlagLoopback != 0 || len(n.mac) != 6 || n.mac[0]&0x03 != 0 {
			continue
		}
		macs = append(macs, strings.ToUpper(n.mac.String()))
	}
	slices.Sort(macs)
	return slices.Compact(macs)
}
