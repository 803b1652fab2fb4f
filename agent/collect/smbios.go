package collect

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// smbiosUUID returns the system UUID from a raw SMBIOS table as Windows' GetSystemFirmwareTable
// ('RSMB') returns it: an 8-byte header (calling method, major and minor version, DMI revision,
// table length) and then the structures, each a formatted area followed by strings that end in a
// double NUL. The UUID sits at offset 8 of the type-1 (System Information) structure.
func smbiosUUID(raw []byte) (string, error) {
	if len(raw) < 8 {
		return "", errors.New("smbios: answer shorter than its header")
	}
	major, minor := raw[1], raw[2]
	table := raw[8:]
	if n := binary.LittleEndian.Uint32(raw[4:8]); uint64(n) < uint64(len(table)) {
		table = table[:n]
	}
	for len(table) >= 4 {
		typ, length := table[0], int(table[1])
		if length < 4 || length > len(table) {
			return "", fmt.Errorf("smbios: damaged structure of type %d", typ)
		}
		switch typ {
		case 127: // end of table
			return "", errors.New("smbios: no system information structure")
		case 1:
			if length < 8+16 {
				return "", fmt.Errorf("smbios: system information of %d bytes has no UUID (SMBIOS before 2.1)", length)
			}
			// From SMBIOS 2.6 on the first three fields are little-endian, as in Microsoft's GUIDs.
			return formatUUID(table[8:24], major > 2 || major == 2 && minor >= 6)
		}
		end := bytes.Index(table[length:], []byte{0, 0})
		if end < 0 {
			return "", fmt.Errorf("smbios: strings of a type %d structure do not end", typ)
		}
		table = table[length+end+2:]
	}
	return "", errors.New("smbios: no system information structure")
}

// parseUUIDText reads a UUID written 8-4-4-4-12 (Linux' product_uuid) in the order written.
func parseUUIDText(text string) (string, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(text), "-", ""))
	if err != nil || len(b) != 16 {
		return "", fmt.Errorf("smbios: %q is not a UUID", text)
	}
	return formatUUID(b, false)
}

// formatUUID writes 16 UUID bytes as upper-case 8-4-4-4-12 text. All FF means the firmware has no
// UUID and all 00 that it was never set (SMBIOS 7.2.1): neither tells PCs apart.
func formatUUID(b []byte, littleEndian bool) (string, error) {
	switch {
	case bytes.Equal(b, bytes.Repeat([]byte{0xFF}, 16)):
		return "", errors.New("smbios: the firmware has no system UUID (all FF)")
	case bytes.Equal(b, make([]byte, 16)):
		return "", errors.New("smbios: the firmware's system UUID was never set (all 00)")
	}
	u := [16]byte(b)
	if littleEndian {
		u[0], u[1], u[2], u[3] = u[3], u[2], u[1], u[0]
		u[4], u[5] = u[5], u[4]
		u[6], u[7] = u[7], u[6]
	}
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
