package handlers_test

import (
	"strings"
	"testing"
	"time"
)

// A shutdown or restart is not queued for a PC that is off unless the admin chose how long it
// may wait: queued, it would run whenever the PC next starts, perhaps in a class. Other
// commands still wait, and a room's power action goes to the PCs that are on when it is sent.
func TestPowerCommandsLeaveOffPCsOut(t *testing.T) {
	l, _ := roomLab(t, 0)
	a := l.admin
	l.pc2.do("POST", "/api/client/offline", map[string]any{"machine_id": "m-2", "reason": "shutdown"}).must(t, 200)
	off := itoa(l.pc2.PCID)

	checkEnvelope(t, a.do("POST", "/api/admin/pc/"+off+"/shutdown", nil), 409, "CONFLICT")
	checkEnvelope(t, a.do("POST", "/api/admin/pc/"+off+"/command", map[string]any{"type": "restart", "parameters": map[string]any{}}), 409, "CONFLICT")
	if n := len(l.commands(t, l.pc2)); n != 0 {
		t.Fatalf("%d commands queued for the PC that is off", n)
	}
	// Asked to wait, it waits; a message waits without asking.
	a.do("POST", "/api/admin/pc/"+off+"/command", map[string]any{"type": "shutdown", "parameters": map[string]any{}, "expires_in": 3600}).must(t, 200)
	a.do("POST", "/api/admin/pc/"+off+"/command", map[string]any{"type": "message", "parameters": map[string]any{"message": "hi"}}).must(t, 200)
	if n := len(l.commands(t, l.pc2)); n != 2 {
		t.Fatalf("%d commands for the PC that is off, want the shutdown asked to wait and the message", n)
	}

	// Bulk: the PC that is off is left out and named.
	res := a.do("POST", "/api/admin/commands/bulk", map[string]any{"type": "restart", "pc_ids": []int64{l.pc1.PCID, l.pc2.PCID}}).must(t, 200)
	ids, _ := res.get("command_ids").(map[string]any)
	skipped, _ := res.get("skipped_offline").([]any)
	if len(ids) != 1 || ids[itoa(l.pc1.PCID)] == nil || len(skipped) != 1 || int64(skipped[0].(float64)) != l.pc2.PCID {
		t.Fatalf("bulk restart: %s", res.Raw)
	}
	if res := a.do("POST", "/api/admin/commands/bulk", map[string]any{"type": "shutdown", "pc_ids": []int64{l.pc2.PCID}}).must(t, 200); len(res.get("command_ids").(map[string]any)) != 0 {
		t.Fatalf("bulk shutdown of a PC that is off: %s", res.Raw)
	}

	// The dashboard's form says which PCs it left out; all off is a clear refusal.
	r := a.form("POST", "/commands", pcValues("pc_ids", itoa(l.pc1.PCID), "pc_ids", off, "type", "shutdown"), true).must(t, 200)
	if got := textOf(byTestID(t, htmlDoc(t, r), "results-off")); !strings.Contains(got, "m-2") {
		t.Errorf("the matrix does not name the PC left out: %q", got)
	}
	a.form("POST", "/commands", pcValues("pc_ids", off, "type", "shutdown"), true).must(t, 409)

	// A room's shutdown (no grace here) reaches the PC that is on only.
	before := len(l.commands(t, l.pc2))
	scheduleRoom(t, a, "type", "shutdown")
	deadline := time.Now().Add(5 * time.Second)
	for len(l.roomActions(t)) == 0 || l.roomActions(t)[0].State != "sent" {
		if time.Now().After(deadline) {
			t.Fatal("room action not sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := l.roomActions(t)[0].SentCount; got != 1 || len(l.commands(t, l.pc2)) != before {
		t.Errorf("room shutdown sent %d commands, %d new for the PC that is off; want 1 and 0", got, len(l.commands(t, l.pc2))-before)
	}
}
