package e2e

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestAgentSelfUpdate: a 0.9.0 agent finds 0.9.1 registered on the server, downloads it, checks
// its SHA-256, runs its self-check, swaps it in, restarts into it, and the new build confirms
// itself by reaching the server.
func TestAgentSelfUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two agent versions")
	}
	v1 := build(t, "./cmd/wcms-agent", "wcms-agent", "linux", "0.9.0")
	v2 := build(t, "./cmd/wcms-agent", "v0.9.1/wcms-agent", "linux", "0.9.1")
	srv := startServer(t, "-agent-dir", filepath.Dir(v2))

	dir := t.TempDir()
	exe := filepath.Join(dir, "install", "wcms-agent")
	os.MkdirAll(filepath.Dir(exe), 0o755)
	b, _ := os.ReadFile(v1)
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	agentLog := filepath.Join(dir, "agent.log")
	ag := start(t, agentLog, nil, exe, "run", "-server", srv.URL, "-pin", srv.pin(), "-data", filepath.Join(dir, "data"))

	waitFor(t, "the new build to confirm itself", 60*time.Second, func() bool {
		return countLines(agentLog, "update confirmed") == 1
	})
	if got, want := fileSHA(t, exe), fileSHA(t, v2); got != want {
		t.Errorf("installed build %s, want 0.9.1's %s", got, want)
	}
	if _, err := os.Stat(exe + ".old"); !os.IsNotExist(err) {
		t.Errorf("the previous build is still there after confirmation: %v", err)
	}
	if countLines(agentLog, "version=0.9.1") == 0 || countLines(agentLog, "agent starting") != 2 {
		t.Errorf("want one start of 0.9.0 then one of 0.9.1:\n%s", tail(ag.output(), 30))
	}
	select {
	case <-ag.done:
		t.Fatal("the agent process ended; it should have re-executed itself in place")
	default:
	}
	waitFor(t, "the PC online on the new build", 10*time.Second, func() bool {
		pcs := srv.pcs()
		return len(pcs) == 1 && pcs[0]["is_online"] == true
	})
	if strings.Contains(ag.output(), "rolling back") {
		t.Error("the update rolled back")
	}
}
