package collect

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestMachineIDFromEtc(t *testing.T) {
	raw, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		t.Skipf("no /etc/machine-id here: %v", err)
	}
	id := newLocal(t).Identity(t.Context())
	if want := fmt.Sprintf("%X", sha256.Sum256([]byte(strings.TrimSpace(string(raw))))); id.LegacyMachineID() != want {
		t.Errorf("legacy machine id = %s, want %s (SHA-256 of /etc/machine-id)", id.LegacyMachineID(), want)
	}
	if uuid, err := os.ReadFile("/sys/class/dmi/id/product_uuid"); err == nil && id.SystemUUID != strings.ToUpper(strings.TrimSpace(string(uuid))) {
		t.Errorf("SMBIOS UUID = %q, want product_uuid's %q", id.SystemUUID, uuid)
	}
}
