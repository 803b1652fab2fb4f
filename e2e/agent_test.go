package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAgentEndToEnd is the agent's life against the real server: register with a PIN,
// heartbeats arrive, an execute runs and its output is recorded, the server goes away for 20 s
// while a result is pending, the agent backs off, the spooled result arrives when the server is
// back, nothing runs twice, and a clean stop takes the PC offline at once.
func TestAgentEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs both binaries with a 20 s outage")
	}
	srv := startServer(t)
	agentBin := build(t, "./cmd/wcms-agent", "wcms-agent", "linux", "0.9.0")
	dir := t.TempDir()
	data := filepath.Join(dir, "agent-data")
	pin := srv.pin()
	ag := start(t, filepath.Join(dir, "agent.log"), []string{"WCMS_LOG_LEVEL=debug"},
		agentBin, "run", "-server", srv.URL, "-pin", pin, "-data", data)

	// Registration and heartbeats.
	var pc map[string]any
	waitFor(t, "the PC online with a heartbeat", 20*time.Second, func() bool {
		pcs := srv.pcs()
		if len(pcs) != 1 {
			return false
		}
		pc = pcs[0]
		return pc["is_online"] == true && pc["cpu_usage"] != nil && pc["ram_usage_percent"] != nil
	})
	id := pc["id"].(float64)
	host, _ := os.Hostname()
	if pc["hostname"] != host || len(pc["machine_id"].(string)) != 64 {
		t.Errorf("PC as registered: %v", pc)
	}
	detail := srv.api("GET", "/api/admin/pc/"+itoa(id), nil)["pc"].(map[string]any)
	if procs, _ := detail["processes"].([]any); len(procs) == 0 {
		t.Errorf("no processes after the first (full) heartbeat: %v", detail)
	}

	// A command runs and its output is recorded.
	ran := filepath.Join(dir, "ran.txt")
	c := srv.waitCommand(srv.command(id, "execute", map[string]any{"command": "echo e2e-$((6*7)); echo first >> " + ran}), 20*time.Second)
	if c["status"] != "completed" || !strings.Contains(c["output"].(string), "e2e-42") || c["exit_code"] != 0.0 {
		t.Fatalf("execute: %v", c)
	}

	// The server goes away while a result is pending.
	slow := srv.command(id, "execute", map[string]any{"command": "sleep 3; echo after-outage; echo second >> " + ran})
	waitFor(t, "the slow command handed out", 10*time.Second, func() bool { return srv.commandState(slow)["status"] == "executing" })
	srv.proc.signal(syscall.SIGKILL)
	<-srv.proc.done
	down := time.Now()
	agentLog := filepath.Join(dir, "agent.log")
	waitFor(t, "the result spooled", 15*time.Second, func() bool {
		return countLines(agentLog, "result not delivered; it stays spooled") > 0
	})
	time.Sleep(20*time.Second - time.Since(down))
	attempts := countLines(agentLog, "poll failed")
	srv.start()
	srv.login()
	c = srv.waitCommand(slow, 45*time.Second)
	if c["status"] != "completed" || !strings.Contains(c["output"].(string), "after-outage") {
		t.Fatalf("the command that finished during the outage: %v", c)
	}
	t.Logf("polls tried during a 20 s outage: %d (back-off capped at 30 s)", attempts)
	if attempts < 2 || attempts > 12 {
		t.Errorf("%d poll attempts in 20 s of outage; want a few, spaced out by the back-off", attempts)
	}

	// Nothing ran twice, including after the agent's own restart.
	ag.stop(t)
	waitFor(t, "the PC offline after a clean stop", 5*time.Second, func() bool {
		return srv.pcs()[0]["is_online"] == false
	})
	b, _ := os.ReadFile(ran)
	if got := string(b); got != "first\nsecond\n" {
		t.Errorf("runs recorded %q, want each command once", got)
	}
	if out := ag.output(); strings.Contains(out, pin) {
		t.Error("the agent logged its PIN")
	}
}

func itoa(f float64) string { return strconv.FormatInt(int64(f), 10) }
