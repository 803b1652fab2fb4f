package handlers_test

import (
	"database/sql"
	"testing"

	"github.com/wcms-lab/wcms/internal/testdb"
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
	pin := ts.pin(a, "multi")
	type pcSpec struct {
		id, mac, subnet string
		ours, online    bool
	}
	specs := []pcSpec{
		{"R1", "02:00:00:00:01:01", "10.1.0.11/24", true, true},
		{"R2", "02:00:00:00:01:02", "10.1.0.12/24", true, true},
		{"R3", "02:00:00:00:01:03", "10.1.0.13/24", true, true},  // a third: two relays are enough
		{"P1", "02:00:00:00:01:04", "10.2.0.14/24", false, true}, // a published client: no relay
		{"T1", "02:00:00:00:01:05", "10.1.0.21/24", true, false},
		{"T2", "02:00:00:00:01:06", "10.1.0.22/24", true, false},
		{"T3", "02:00:00:00:01:07", "10.2.0.23/24", true, false}, // its subnet has no agent of ours on
		{"T4", "", "", true, false},                              // never reported its network
	}
	ids := map[string]int64{}
	for _, sp := range specs {
		ag := ts.register(pin, sp.id)
		ids[sp.id] = ag.PCID
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
