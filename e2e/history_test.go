package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestHistorySurvivesSIGKILL: an agent heartbeats across a minute's end; the server is killed
// with SIGKILL a few seconds into the next minute. After a restart the finished minute is in the
// history, and the latest state stored is at most -state-every (2 s here) older than the kill:
// the promise is the minute in progress and one state interval, nothing more.
func TestHistorySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server; waits for a minute's end")
	}
	srv := startServer(t, "-state-every", "2s")
	var reg struct {
		PCID  int64  `json:"pc_id"`
		Token string `json:"agent_token"`
	}
	if err := send(http.DefaultClient, "POST", srv.URL+"/api/client/register", "", "", map[string]any{"machine_id": "HIST-1",
		"pin": srv.pin(), "hostname": "HIST-1", "mac_address": "AA:BB:CC:00:00:02"}, &reg); err != nil {
		t.Fatal(err)
	}
	type acked struct {
		cpu float64
		at  time.Time
	}
	var beats []acked
	finished := time.Now().Truncate(time.Minute) // the minute whose end the agent crosses
	killAt := finished.Add(time.Minute + 5*time.Second)
	for cpu := 1.0; time.Now().Before(killAt); cpu++ {
		if err := send(http.DefaultClient, "POST", srv.URL+"/api/client/commands", reg.Token, "", map[string]any{"machine_id": "HIST-1",
			"heartbeat": map[string]any{"cpu_usage": cpu, "ram_usage_percent": 30.0}}, nil); err != nil {
			t.Fatal(err)
		}
		beats = append(beats, acked{cpu, time.Now()})
		time.Sleep(2 * time.Second)
	}
	srv.proc.signal(syscall.SIGKILL)
	killed := time.Now()
	<-srv.proc.done

	srv.start()
	srv.login()
	series := srv.api("GET", fmt.Sprintf("/api/admin/pc/%d/metrics?from=%d&to=%d&step=60", reg.PCID, finished.Unix(),
		finished.Add(2*time.Minute).Unix()), nil)
	points, _ := series["points"].([]any)
	var first map[string]any
	if len(points) > 0 {
		first = points[0].(map[string]any)
	}
	want := 0
	for _, b := range beats {
		if b.at.Before(finished.Add(time.Minute)) {
			want++
		}
	}
	if first == nil || first["at"] != finished.UTC().Format(time.RFC3339) || first["samples"] != float64(want) {
		t.Fatalf("the finished minute %s with %d heartbeats, after the kill: %v", finished.UTC().Format("15:04"), want, series)
	}
	// The stored state: at least what was acknowledged a state interval (and a margin) before.
	var floor float64
	for _, b := range beats {
		if b.at.Before(killed.Add(-3 * time.Second)) {
			floor = b.cpu
		}
	}
	pc := srv.api("GET", fmt.Sprintf("/api/admin/pc/%d", reg.PCID), nil)["pc"].(map[string]any)
	if cpu, _ := pc["cpu_usage"].(float64); cpu < floor {
		t.Errorf("stored CPU %v after the kill, but %v was acknowledged 3 s before it", cpu, floor)
	}
	t.Logf("%d heartbeats in the finished minute kept; stored CPU %v (last sent %v)", want, pc["cpu_usage"], beats[len(beats)-1].cpu)
}
