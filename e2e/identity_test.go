package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReenrolmentNeedsApproval runs issue 10's takeover with real agent processes: a second
// install under an enrolled PC's machine id, with a live PIN of its own, waits for an operator
// while the first keeps the PC; once approved, the second is the PC and the first is refused.
// Neither keeps its PIN on disk.
func TestReenrolmentNeedsApproval(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two agents through about a minute of waiting for approval")
	}
	srv := startServer(t)
	agentBin := build(t, "./cmd/wcms-agent", "wcms-agent", "linux", "0.9.0")
	dir := t.TempDir()
	const machine = "LAB-E2E-01"
	run := func(who string) (*proc, string) {
		data := filepath.Join(dir, who)
		log := filepath.Join(dir, who+".log")
		// WHO tells which process ran a command: both run on this one host.
		return start(t, log, []string{"WHO=" + who}, agentBin, "run", "-server", srv.URL, "-pin", srv.pin(),
			"-data", data, "-machine-id", machine), data
	}
	whoRuns := func(id float64) string {
		c := srv.waitCommand(srv.command(id, "execute", map[string]any{"command": "echo ran-by-$WHO"}), 45*time.Second)
		return strings.TrimSpace(c["output"].(string))
	}

	first, firstData := run("first")
	var pcID float64
	waitFor(t, "the first install online", 20*time.Second, func() bool {
		pcs := srv.pcs()
		if len(pcs) == 1 && pcs[0]["is_online"] == true {
			pcID = pcs[0]["id"].(float64)
			return true
		}
		return false
	})
	second, secondData := run("second")
	waitFor(t, "the second install's request", 20*time.Second, func() bool {
		return len(srv.api("GET", "/api/admin/reenrolments", nil)["reenrolments"].([]any)) == 1
	})
	if got := whoRuns(pcID); got != "ran-by-first" {
		t.Fatalf("while the request waits, the command ran as %q", got)
	}
	waitFor(t, "the second install saying it waits", 10*time.Second, func() bool {
		return strings.Contains(second.output(), "waiting for an operator's approval")
	})
	// Asking again while it waits is not taken for a PC the server has forgotten.
	time.Sleep(40 * time.Second)
	if out := second.output(); strings.Count(out, "waiting for an operator's approval") != 1 || strings.Contains(out, "no longer valid") {
		t.Fatalf("while waiting, the second install said:\n%s", tail(out, 20))
	}

	req := srv.api("GET", "/api/admin/reenrolments", nil)["reenrolments"].([]any)[0].(map[string]any)
	srv.api("POST", "/api/admin/reenrolment/"+itoa(req["id"].(float64))+"/approve", nil)
	if got := whoRuns(pcID); got != "ran-by-second" {
		t.Fatalf("after approval, the command ran as %q", got)
	}
	if n := len(srv.pcs()); n != 1 {
		t.Fatalf("%d PCs after the re-enrolment, want the one PC", n)
	}
	waitFor(t, "the first install told its token is no longer valid", 20*time.Second, func() bool {
		return strings.Contains(first.output(), "token is no longer valid")
	})
	for _, data := range []string{firstData, secondData} {
		raw, err := os.ReadFile(filepath.Join(data, "agent.json"))
		if err != nil || strings.Contains(string(raw), `"pin"`) || !strings.Contains(string(raw), machine) {
			t.Errorf("%s/agent.json: %v\n%s", data, err, raw)
		}
	}
}
