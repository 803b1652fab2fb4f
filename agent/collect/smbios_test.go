package collect

import (
	"encoding/binary"
	"testing"
)

// dellUUID is a system UUID as Dell firmware reports it, and its bytes as an SMBIOS 2.6+ table
// stores them (first three fields little-endian).
const dellUUID = "4C4C4544-0038-3510-8052-B2C04F4E4D32"

var dellUUIDBytes = []byte{0x44, 0x45, 0x4C, 0x4C, 0x38, 0x00, 0x10, 0x35, 0x80, 0x52, 0xB2, 0xC0, 0x4F, 0x4E, 0x4D, 0x32}

// rawSMBIOS builds what GetSystemFirmwareTable('RSMB') returns: the header, then the structures.
func rawSMBIOS(major, minor byte, structures ...[]byte) []byte {
	var table []byte
	for _, s := range structures {
		table = append(table, s...)
	}
	raw := []byte{0, major, minor, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(raw[4:], uint32(len(table)))
	return append(raw, table...)
}

// structure builds one SMBIOS structure: type, length, handle, the rest of the formatted area,
// then its strings and the double NUL.
func structure(typ byte, handle uint16, formatted []byte, strs ...string) []byte {
	s := []byte{typ, byte(4 + len(formatted)), byte(handle), byte(handle >> 8)}
	s = append(s, formatted...)
	for _, str := range strs {
		s = append(s, str...)
		s = append(s, 0)
	}
	if len(strs) == 0 {
		s = append(s, 0)
	}
	return append(s, 0)
}

// biosInfo is a type-0 structure with strings, which the parser must step over.
var biosInfo = structure(0, 0, []byte{1, 2, 0, 0xF0, 3, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "Dell Inc.", "1.21.0", "07/06/2023")

func TestSMBIOSUUID(t *testing.T) {
	end := structure(127, 0xFEFF, nil)
	sysInfo := func(uuid []byte) []byte {
		formatted := append([]byte{1, 2, 0, 3}, uuid...) // manufacturer, product, version, serial
		formatted = append(formatted, 6, 0, 4)           // wake-up type, SKU, family
		return structure(1, 0x0100, formatted, "Dell Inc.", "OptiPlex 7010", "8F5QRS2", "OptiPlex")
	}
	ff := make([]byte, 16)
	for i := range ff {
		ff[i] = 0xFF
	}
	tests := []struct {
		name string
		raw  []byte
		want string // "" when an error is expected
	}{
		{"SMBIOS 3.3: first fields little-endian", rawSMBIOS(3, 3, biosInfo, sysInfo(dellUUIDBytes), end), dellUUID},
		{"SMBIOS 2.6 is already little-endian", rawSMBIOS(2, 6, biosInfo, sysInfo(dellUUIDBytes), end), dellUUID},
		{"SMBIOS 2.5 stores the bytes as written", rawSMBIOS(2, 5, biosInfo, sysInfo(dellUUIDBytes), end), "44454C4C-3800-1035-8052-B2C04F4E4D32"},
		{"type 1 first, no strings before it", rawSMBIOS(3, 0, structure(1, 1, append([]byte{0, 0, 0, 0}, dellUUIDBytes...)), end), dellUUID},
		{"no UUID (all FF)", rawSMBIOS(3, 0, biosInfo, sysInfo(ff), end), ""},
		{"UUID never set (all 00)", rawSMBIOS(3, 0, biosInfo, sysInfo(make([]byte, 16)), end), ""},
		{"no type 1", rawSMBIOS(3, 0, biosInfo, end), ""},
		{"SMBIOS 2.0's short type 1", rawSMBIOS(2, 0, structure(1, 1, []byte{1, 2, 3, 4}, "a"), end), ""},
		{"table cut inside the strings", rawSMBIOS(3, 0, biosInfo[:len(biosInfo)-5]), ""},
		{"length past the end", rawSMBIOS(3, 0, []byte{1, 200, 0, 0}), ""},
		{"header only", []byte{0, 3, 0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := smbiosUUID(tt.raw)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("smbiosUUID = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("smbiosUUID = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseUUIDText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4c4c4544-0038-3510-8052-b2c04f4e4d32\n", dellUUID},
		{"00000000-0000-0000-0000-000000000000\n", ""},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", ""},
		{"not a uuid", ""},
		{"4c4c4544-0038-3510-8052", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseUUIDText(tt.in)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Fatalf("parseUUIDText = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
