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
	reg, err := newLocal(t).Registration(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%X", sha256.Sum256([]byte(strings.TrimSpace(string(raw))))); reg.MachineID != want {
		t.Errorf("machine id = %s, want %s (SHA-256 of /etc/machine-id)", reg.MachineID, want)
	}
}
