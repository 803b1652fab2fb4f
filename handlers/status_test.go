package handlers_test

import (
	"strings"
	"testing"
)

// /healthz, /metrics and the status API report what really happened.
func TestOperationsEndpoints(t *testing.T) {
	ts := newTestServer(t)
	if res := ts.do(nil, "GET", "/healthz", nil).must(t, 200); res.get("status") != "ok" {
		t.Fatalf("healthz: %s", res.Raw)
	}
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	ag.poll(nil).must(t, 200)
	ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "M1", "full_update": true,
		"system_info": map[string]any{"cpu_usage": 1, "processes": []string{"a.exe"}}}).must(t, 200)
	a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "dir"}).must(t, 200)
	a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/shutdown", nil).must(t, 200)

	metrics := ts.do(nil, "GET", "/metrics", nil).must(t, 200).Raw
	for _, line := range []string{
		"wcms_pcs 1", "wcms_pcs_online 1", "wcms_commands_pending 2", "wcms_polls_total 2",
		`wcms_heartbeats_total{kind="light"} 1`, `wcms_heartbeats_total{kind="full"} 1`,
		"wcms_registrations_total 1", `wcms_commands_enqueued_total{type="execute"} 1`,
		`wcms_commands_enqueued_total{type="shutdown"} 1`, "wcms_event_subscribers 0",
	} {
		if !strings.Contains(metrics, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	ag.poll(nil).must(t, 200)
	metrics = ts.do(nil, "GET", "/metrics", nil).Raw
	if !strings.Contains(metrics, "\nwcms_commands_pending 1\n") || !strings.Contains(metrics, "\nwcms_commands_delivered_total 1\n") {
		t.Errorf("after one delivery: pending and delivered counts wrong")
	}

	st := a.do("GET", "/api/admin/status", nil).must(t, 200)
	if st.num("pcs") != 1 || st.num("pcs_online") != 1 || st.num("commands_pending") != 1 || st.get("legacy_clients") != true ||
		st.num("database_bytes") <= 0 || st.get("version") != "test" {
		t.Fatalf("status: %s", st.Raw)
	}
}
