package collect

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"
)

const rootDisk = `C:\`

// kernelProcesses are the processes Windows itself names without ".exe".
var kernelProcesses = map[string]bool{
	"System": true, "Registry": true, "Secure System": true, "Memory Compression": true,
	"vmmem": true, "vmmemWSL": true,
}

func checkProcessNames(t *testing.T, names []string) {
	t.Helper()
	for _, name := range names {
		if !strings.HasSuffix(strings.ToLower(name), ".exe") && !kernelProcesses[name] {
			t.Errorf("process %q is not named like an executable (chrome.exe)", name)
		}
	}
}

func TestMachineIDFromRegistry(t *testing.T) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	guid, _, err := k.GetStringValue("MachineGuid")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := newLocal(t).Registration(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%X", sha256.Sum256([]byte(guid))); reg.MachineID != want {
		t.Errorf("machine id = %s, want %s (SHA-256 of MachineGuid)", reg.MachineID, want)
	}
	t.Logf("edition %q, version %q, cpu %q, disks %v", reg.OSEdition, reg.OSVersion, reg.CPUModel, reg.DiskInfo)
}

func TestConsoleUser(t *testing.T) {
	user, err := consoleUser(t.Context())
	if err != nil {
		t.Fatalf("consoleUser: %v", err)
	}
	t.Logf("console user: %q", user)
}
