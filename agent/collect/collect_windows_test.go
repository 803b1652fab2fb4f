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
	id := newLocal(t).Identity(t.Context())
	if want := fmt.Sprintf("%X", sha256.Sum256([]byte(guid))); id.LegacyMachineID() != want {
		t.Errorf("legacy machine id = %s, want %s (SHA-256 of MachineGuid)", id.LegacyMachineID(), want)
	}
	t.Logf("SMBIOS UUID %q, MACs %v", id.SystemUUID, id.MACs)
}

func TestConsoleUser(t *testing.T) {
	user, err := consoleUser(t.Context())
	if err != nil {
		t.Fatalf("consoleUser: %v", err)
	}
	t.Logf("console user: %q", user)
}
