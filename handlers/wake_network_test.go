package handlers_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// A full heartbeat carries the interface that reaches the server (our addition): its MAC and its
// address with the prefix are kept for Wake-on-LAN; a malformed one is refused and changes
// nothing.
func TestFullHeartbeatKeepsTheWakeNetwork(t *testing.T) {
	ts := newTestServer(t)
	ag := ts.register(ts.pin(ts.admin(), "multi"), "W1")
	full := func(info map[string]any) response {
		return ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "W1", "full_update": true, "system_info": info})
	}
	stored := func() (mac, subnet string) {
		db, err := sql.Open(testdb.Driver(), ts.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(testdb.Bind("SELECT wake_mac, subnet FROM pcs WHERE id = ?"), ag.PCID).Scan(&mac, &subnet); err != nil {
			t.Fatal(err)
		}
		return mac, subnet
	}
	full(map[string]any{"cpu_usage": 5.0, "mac_address": "00-1a-2b-3c-4d-5e", "subnet": "192.168.10.23/24"}).must(t, 200)
	if mac, subnet := stored(); mac != "00:1A:2B:3C:4D:5E" || subnet != "192.168.10.23/24" {
		t.Fatalf("stored %q %q", mac, subnet)
	}
	for _, bad := range []map[string]any{{"subnet": "192.168.10.23"}, {"subnet": "fe80::1/64"}, {"subnet": "x/24"}, {"mac_address": "not a mac"}} {
		checkEnvelope(t, full(bad), 400, "INVALID_FIELD")
	}
	// A full heartbeat without them (the published client's) keeps what is known.
	full(map[string]any{"cpu_usage": 6.0}).must(t, 200)
	if mac, subnet := stored(); mac != "00:1A:2B:3C:4D:5E" || subnet != "192.168.10.23/24" {
		t.Fatalf("after a heartbeat without them: %q %q", mac, subnet)
	}
}

// Waking PCs: for each subnet, up to two PCs of ours that are on send the magic packets; a PC of
// a published client is no relay; a subnet with none says so; a PC on is left alone.
func TestWakePlansRelaysBySubnet(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ids := idsOf(wakeFleet(t, ts, a, []wakeSpec{
		{"R1", "02:00:00:00:01:01", "10.1.0.11/24", true, true},
		{"R2", "02:00:00:00:01:02", "10.1.0.12/24", true, true},
		{"R3", "02:00:00:00:01:03", "10.1.0.13/24", true, true},  // a third: two relays are enough
		{"P1", "02:00:00:00:01:04", "10.2.0.14/24", false, true}, // a published client: no relay
		{"T1", "02:00:00:00:01:05", "10.1.0.21/24", true, false},
		{"T2", "02:00:00:00:01:06", "10.1.0.22/24", true, false},
		{"T3", "02:00:00:00:01:07", "10.2.0.23/24", true, false}, // its subnet has no agent of ours on
		{"T4", "", "", true, false},                              // never reported its network
	}))
	res := a.do("POST", "/api/admin/wake", map[string]any{"pc_ids": []int64{ids["T1"], ids["T2"], ids["T3"], ids["T4"], ids["R1"]}}).must(t, 200)
	relays := res.get("relays").([]any)
	if len(relays) != 1 {
		t.Fatalf("relays: %s", res.Raw)
	}
	r := relays[0].(map[string]any)
	if r["subnet"] != "10.1.0.0/24" || r["broadcast"] != "10.1.0.255" || len(r["via"].([]any)) != 2 || len(r["targets"].([]any)) != 2 ||
		len(r["command_ids"].([]any)) != 2 {
		t.Fatalf("the 10.1.0.0/24 relay: %s", res.Raw)
	}
	if got := res.get("no_relay").([]any); len(got) != 2 || int64(got[0].(float64)) != ids["T3"] || int64(got[1].(float64)) != ids["T4"] {
		t.Errorf("no relay: %v, want T3 and T4", got)
	}
	if got := res.get("already_online").([]any); len(got) != 1 || int64(got[0].(float64)) != ids["R1"] {
		t.Errorf("already online: %v, want R1", got)
	}
	// The relays' commands carry both MACs and the subnet's broadcast, checked by the catalogue.
	c := a.do("GET", "/api/admin/command/"+itoa(int64(r["command_ids"].([]any)[0].(float64))), nil).must(t, 200)
	if c.get("command.type") != "wake_on_lan" || c.get("command.parameters.macs") != "02:00:00:00:01:05,02:00:00:00:01:06" ||
		c.get("command.parameters.broadcast") != "10.1.0.255" {
		t.Fatalf("relay command: %s", c.Raw)
	}
	checkEnvelope(t, a.do("POST", "/api/admin/wake", map[string]any{}), 400, "INVALID_FIELD")
}

// wakeSpec is a PC of a wake test: its network, whether it runs our agent, whether it is on.
type wakeSpec struct {
	id, mac, subnet string
	ours, online    bool
}

// wakeFleet registers the PCs of specs, each with a full heartbeat reporting its network, and
// takes those that are off offline; it returns their agents by machine id.
func wakeFleet(t *testing.T, ts *testServer, a *admin, specs []wakeSpec) map[string]*agent {
	t.Helper()
	pin := ts.pin(a, "multi")
	agents := map[string]*agent{}
	for _, sp := range specs {
		ag := ts.register(pin, sp.id)
		agents[sp.id] = ag
		ua := "python-requests/2.31"
		if sp.ours {
			ua = "wcms-agent/1.0.0 (windows; amd64)"
		}
		info := map[string]any{"cpu_usage": 1.0}
		if sp.mac != "" {
			info["mac_address"], info["subnet"] = sp.mac, sp.subnet
		}
		ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": sp.id, "full_update": true, "system_info": info},
			"Authorization", "Bearer "+ag.Token, "User-Agent", ua).must(t, 200)
		if !sp.online {
			ag.do("POST", "/api/client/offline", map[string]any{"machine_id": sp.id, "reason": "shutdown"}).must(t, 200)
		}
	}
	return agents
}

// idsOf are the agents' PC ids by machine id.
func idsOf(agents map[string]*agent) map[string]int64 {
	ids := make(map[string]int64, len(agents))
	for m, ag := range agents {
		ids[m] = ag.PCID
	}
	return ids
}

// A woken PC's wake is confirmed by its first heartbeat: its tile says waking, then awake with
// the time it took, live; one that never answers fails after the limit. Both are in the event
// log, and a second instance's answer could not end a wake twice (the store ends it once).
func TestWakeConfirmedByHeartbeatOrFailed(t *testing.T) {
	ts := newTestServer(t, func(_ *handlers.Config, f *fleet.Config) { f.WakeLimit = 3 * time.Second })
	a := ts.admin()
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 1, "cols": 3}).must(t, 200)
	agents := wakeFleet(t, ts, a, []wakeSpec{
		{"R1", "02:00:00:00:02:01", "10.3.0.11/24", true, true},
		{"T1", "02:00:00:00:02:02", "10.3.0.12/24", true, false},
		{"T2", "02:00:00:00:02:03", "10.3.0.13/24", true, false},
	})
	for col, m := range []string{"R1", "T1", "T2"} {
		a.do("PUT", "/api/admin/pc/"+itoa(agents[m].PCID)+"/seat", map[string]any{"room": "Lab 1", "row": 1, "col": col + 1}).must(t, 200)
	}
	evs, stop := openStream(t, a, "/stream?room=Lab%201")
	defer stop()
	tileWake := func(m, state string) func(sseEvent) bool {
		target := views.Target{Kind: views.LiveTile, ID: agents[m].PCID}.ElementID()
		return func(ev sseEvent) bool {
			return ev.name == target && strings.Contains(ev.data, `data-wake="`+state+`"`)
		}
	}
	wakeOf := func(m string) map[string]any {
		w, _ := a.do("GET", "/api/admin/pc/"+itoa(agents[m].PCID), nil).must(t, 200).get("pc.wake").(map[string]any)
		return w
	}

	// The room's button, as the dashboard posts it.
	res := a.form("POST", "/wake", url.Values{"room": {"Lab 1"}}, true).must(t, 200)
	if doc := parseHTML(t, res.Raw); !strings.Contains(textOf(byTestID(t, doc, "wake-waking")), "2") ||
		attr(byTestID(t, doc, "wake-relay"), "data-subnet") != "10.3.0.0/24" {
		t.Fatalf("wake answer: %s", res.Raw)
	}
	until(t, evs, "T1 waking on its tile", tileWake("T1", "waking"))
	if w := wakeOf("T1"); w["state"] != "waking" || w["sent_at"] == nil {
		t.Fatalf("T1 wake %v, want waking", w)
	}

	time.Sleep(1100 * time.Millisecond) // a wake that took a second or more
	agents["T1"].do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "T1", "system_info": map[string]any{"cpu_usage": 3.0}}).must(t, 200)
	ev := until(t, evs, "T1 awake on its tile", tileWake("T1", "awake"))
	if !strings.Contains(ev.data, "1초") && !strings.Contains(ev.data, "1s") {
		t.Errorf("T1's tile does not say the wake took a second: %s", ev.data)
	}
	if w := wakeOf("T1"); w["state"] != "awake" || w["took_seconds"] != 1.0 {
		t.Fatalf("T1 wake %v, want awake after 1 s", w)
	}
	until(t, evs, "T2 failed on its tile", tileWake("T2", "failed"))
	if w := wakeOf("T2"); w["state"] != "failed" {
		t.Fatalf("T2 wake %v, want failed", w)
	}
	// A heartbeat after the limit brings T2 online but does not turn its failed wake into a
	// success.
	agents["T2"].do("POST", "/api/client/heartbeat", map[string]any{"machine_id": "T2", "system_info": map[string]any{"cpu_usage": 3.0}}).must(t, 200)
	if w := wakeOf("T2"); w["state"] != "failed" {
		t.Fatalf("T2 wake after a late heartbeat: %v", w)
	}

	log := a.do("GET", "/log?tab="+views.LogEvents, nil).must(t, 200)
	kinds := map[string]int{}
	for _, row := range byTestIDAll(parseHTML(t, log.Raw), "pc-event") {
		kinds[attr(row, "data-kind")]++
		if k := attr(row, "data-kind"); k == models.EventWoke || k == models.EventWakeFailed {
			if d := textOf(byTestID(t, row, "pc-event-detail")); !strings.Contains(d, "초") {
				t.Errorf("%s without how long: %q", k, d)
			}
		}
	}
	if kinds[models.EventWakeSent] != 2 || kinds[models.EventWoke] != 1 || kinds[models.EventWakeFailed] != 1 {
		t.Errorf("event log kinds %v, want 2 sent, 1 woke, 1 failed", kinds)
	}
}
