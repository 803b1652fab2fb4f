package handlers_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// fastOffline makes a PC offline after one silent second (the sweep runs every second).
func fastOffline(_ *handlers.Config, f *fleet.Config) { f.OfflineAfter = time.Second }

// waitFor polls cond until it holds or the deadline passes; it never asserts on elapsed time.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

func isOnline(t *testing.T, a *admin, pcID int64) bool {
	t.Helper()
	return a.do("GET", "/api/admin/pc/"+itoa(pcID), nil).must(t, 200).get("pc.is_online") == true
}

func outages(t *testing.T, a *admin, pcID int64) []map[string]any {
	t.Helper()
	return items(t, a.do("GET", "/api/admin/pc/"+itoa(pcID)+"/history", nil).must(t, 200), "history")
}

func TestOnlineOfflineCycle(t *testing.T) {
	ts := newTestServer(t, fastOffline)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")

	if isOnline(t, a, ag.PCID) {
		t.Fatal("online before its first poll")
	}
	ag.poll(nil).must(t, 200)
	if !isOnline(t, a, ag.PCID) {
		t.Fatal("not online after its first poll")
	}
	if got := pcIDs(t, a.do("GET", "/api/admin/pcs?online=true", nil).must(t, 200)); len(got) != 1 {
		t.Fatalf("online filter after the first poll: %v", got)
	}

	waitFor(t, 10*time.Second, "offline after silence", func() bool { return !isOnline(t, a, ag.PCID) })
	h := outages(t, a, ag.PCID)
	if len(h) != 1 || h[0]["reason"] != "timeout" || h[0]["ended_at"] != nil || h[0]["duration_seconds"] != nil {
		t.Fatalf("outage after silence: %v", h)
	}
	started := utcTime(t, h[0]["started_at"])
	if got := pcIDs(t, a.do("GET", "/api/admin/pcs?online=false", nil).must(t, 200)); len(got) != 1 {
		t.Fatalf("offline filter: %v", got)
	}

	// Stay away a little, so the outage has a length (started_at is truncated to the second).
	waitFor(t, 10*time.Second, "a second of outage", func() bool { return time.Since(started) > 2500*time.Millisecond })
	ag.poll(nil).must(t, 200)
	if !isOnline(t, a, ag.PCID) {
		t.Fatal("not back online at the next poll")
	}
	// Coming back is stored by the batch writer, within about a second.
	waitFor(t, 10*time.Second, "the outage to close", func() bool {
		h = outages(t, a, ag.PCID)
		return len(h) == 1 && h[0]["ended_at"] != nil
	})
	if h[0]["duration_seconds"] == nil {
		t.Fatalf("outage after coming back: %v", h)
	}
	ended := utcTime(t, h[0]["ended_at"])
	if d := int64(h[0]["duration_seconds"].(float64)); d < 1 || ended.Before(started) || d > int64(ended.Sub(started).Seconds())+1 {
		t.Fatalf("outage %s to %s lasted %d s", started, ended, d)
	}
	// The sweep's started_at is when the PC was last seen, not when the sweep noticed.
	if last := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200); last.get("pc.last_seen") == nil {
		t.Fatalf("last_seen: %s", last.Raw)
	}
}

func TestOutageReasons(t *testing.T) {
	ts := newTestServer(t, fastOffline)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	for _, c := range []struct {
		name   string
		reason string
		leave  func(t *testing.T, ag *agent)
	}{
		{"agent shutdown", "shutdown", func(t *testing.T, ag *agent) {
			ag.do("POST", "/api/client/shutdown", map[string]any{"machine_id": ag.MachineID}).must(t, 200)
		}},
		{"agent offline", "network_error", func(t *testing.T, ag *agent) {
			ag.do("POST", "/api/client/offline", map[string]any{"machine_id": ag.MachineID}).must(t, 200)
		}},
		{"silence", "timeout", func(t *testing.T, ag *agent) {}},
		{"silence after a delivered shutdown", "admin_shutdown", func(t *testing.T, ag *agent) {
			a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/shutdown", map[string]any{"delay": 0}).must(t, 200)
			if res := ag.poll(nil).must(t, 200); res.get("data.command.type") != "shutdown" {
				t.Fatalf("delivery: %s", res.Raw)
			}
		}},
		{"silence after a delivered restart", "admin_restart", func(t *testing.T, ag *agent) {
			a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/reboot", nil).must(t, 200)
			if res := ag.poll(nil).must(t, 200); res.get("data.command.type") != "restart" {
				t.Fatalf("delivery: %s", res.Raw)
			}
		}},
		{"agent shutdown after a delivered restart", "admin_restart", func(t *testing.T, ag *agent) {
			a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/command", map[string]any{"type": "reboot", "parameters": map[string]any{}}).must(t, 200)
			ag.poll(nil).must(t, 200)
			ag.do("POST", "/api/client/shutdown", map[string]any{"machine_id": ag.MachineID}).must(t, 200)
		}},
		{"a queued but undelivered shutdown does not count", "timeout", func(t *testing.T, ag *agent) {
			a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/shutdown", nil).must(t, 200)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ag := ts.register(pin, "PC-"+c.name)
			ag.poll(nil).must(t, 200)
			c.leave(t, ag)
			waitFor(t, 10*time.Second, "offline", func() bool { return !isOnline(t, a, ag.PCID) })
			h := outages(t, a, ag.PCID)
			if len(h) != 1 || h[0]["reason"] != c.reason {
				t.Fatalf("outages %v, want one with reason %s", h, c.reason)
			}
			// Back online with nothing queued: the reason of the next outage starts afresh.
			a.do("DELETE", "/api/admin/pc/"+itoa(ag.PCID)+"/commands/pending", nil).must(t, 200)
			ag.poll(nil).must(t, 200)
			waitFor(t, 10*time.Second, "offline again", func() bool { return !isOnline(t, a, ag.PCID) })
			h = outages(t, a, ag.PCID)
			if len(h) != 2 || h[0]["reason"] != "timeout" || h[1]["ended_at"] == nil {
				t.Fatalf("outages after a second silence: %v", h)
			}
		})
	}
}

func TestLongPollKeepsPCOnline(t *testing.T) {
	ts := newTestServer(t, fastOffline)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	ag.poll(nil).must(t, 200)

	for _, mode := range []string{"GET timeout=3", "POST wait=3"} {
		t.Run(mode, func(t *testing.T) {
			var wg sync.WaitGroup
			var res response
			done := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				if mode == "GET timeout=3" {
					res = ag.do("GET", "/api/client/commands?machine_id=M1&timeout=3", nil)
				} else {
					res = ag.poll(map[string]any{"wait": 3})
				}
			}()
			samples, offline := 0, 0
		watch:
			for {
				select {
				case <-done:
					break watch
				case <-time.After(100 * time.Millisecond):
					samples++
					if !isOnline(t, a, ag.PCID) {
						offline++
					}
				}
			}
			wg.Wait()
			returned := time.Now()
			if res.Status != 200 || res.get("data.has_command") != false {
				t.Fatalf("long-poll: %d %s", res.Status, res.Raw)
			}
			if samples < 10 {
				t.Fatalf("the long-poll was not held (only %d samples)", samples)
			}
			if offline > 0 {
				t.Fatalf("offline in %d of %d samples while held in a long-poll", offline, samples)
			}
			// An outage that started before the poll returned would mean the held PC was swept.
			for _, o := range outages(t, a, ag.PCID) {
				if utcTime(t, o["started_at"]).Before(returned.Add(-2 * time.Second)) {
					t.Fatalf("outage while held: %v", o)
				}
			}
			ag.poll(nil).must(t, 200)
		})
	}
}

func TestPollRateLimit(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")

	t.Run("back to back", func(t *testing.T) {
		ag := ts.register(pin, "FAST")
		ok, limited := 0, 0
		for range 10 {
			res := ag.poll(nil)
			switch res.Status {
			case 200:
				ok++
			case 429:
				limited++
				checkEnvelope(t, res, 429, "RATE_LIMITED")
				if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
					t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
				}
			default:
				t.Fatalf("poll: %d %s", res.Status, res.Raw)
			}
		}
		if ok == 0 || limited == 0 {
			t.Fatalf("10 polls back to back: %d answered, %d refused; want some of each", ok, limited)
		}
		// A refused poll changes nothing: it does not count as a heartbeat.
		if res := ag.poll(map[string]any{"heartbeat": map[string]any{"cpu_usage": 99.0}}); res.Status == 429 {
			if cpu := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200).get("pc.cpu_usage"); cpu == 99.0 {
				t.Fatal("a refused poll's heartbeat was processed")
			}
		}
	})

	t.Run("the poll after a delivery is never refused", func(t *testing.T) {
		ag := ts.register(pin, "BUSY")
		const n = 12
		var want []int64
		for i := range n {
			want = append(want, a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute",
				map[string]any{"command": "step " + strconv.Itoa(i)}).must(t, 200).num("command_id"))
		}
		// Each delivered command is followed at once by the next poll, as the agent does.
		for i := range n {
			res := ag.poll(nil)
			if res.Status != 200 || res.num("data.command.id") != want[i] {
				t.Fatalf("poll %d right after a delivery: %d %s", i+1, res.Status, res.Raw)
			}
		}
	})
}

func TestLightHeartbeatReachesDatabase(t *testing.T) {
	ts := newTestServer(t, func(_ *handlers.Config, f *fleet.Config) { f.StateEvery = 200 * time.Millisecond })
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	ctx := context.Background()
	for i, cpu := range []float64{77.7, 12.25} {
		res := ag.poll(map[string]any{"heartbeat": map[string]any{"cpu_usage": cpu, "ram_usage_percent": 33.0 + float64(i), "ip_address": "192.168.1.100"}}).must(t, 200)
		if res.get("data.heartbeat_processed") != true {
			t.Fatalf("poll: %s", res.Raw)
		}
		// The live view shows it at once.
		if got := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200).get("pc.cpu_usage"); got != cpu {
			t.Fatalf("live cpu_usage %v, want %v", got, cpu)
		}
		// The database has it after the next state write (every StateEvery).
		waitFor(t, 5*time.Second, "light state in the database", func() bool {
			d, err := ts.store.PCDetail(ctx, ag.PCID)
			if err != nil {
				t.Fatal(err)
			}
			return d.State.CPUUsage != nil && *d.State.CPUUsage == cpu && d.State.RAMUsagePercent != nil &&
				*d.State.RAMUsagePercent == 33.0+float64(i) && d.State.LightAt != nil && d.LastSeen != nil
		})
	}
	// A light heartbeat never erases what a full one stored.
	ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "M1", "full_update": true,
		"system_info": map[string]any{"cpu_usage": 5.0, "current_user": "student", "uptime": 100, "processes": []string{"a.exe"}}}).must(t, 200)
	ag.poll(map[string]any{"heartbeat": map[string]any{"cpu_usage": 6.0}}).must(t, 200)
	waitFor(t, 5*time.Second, "the light state after a full one", func() bool {
		d, err := ts.store.PCDetail(ctx, ag.PCID)
		if err != nil {
			t.Fatal(err)
		}
		return d.State.CPUUsage != nil && *d.State.CPUUsage == 6.0
	})
	d, err := ts.store.PCDetail(ctx, ag.PCID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State.CurrentUser == nil || *d.State.CurrentUser != "student" || d.State.Uptime == nil || *d.State.Uptime != 100 ||
		d.State.Processes == nil || *d.State.Processes != `["a.exe"]` || d.State.RAMUsagePercent == nil || *d.State.RAMUsagePercent != 34.0 {
		t.Fatalf("full state after a light heartbeat: %+v", d.State)
	}
}
