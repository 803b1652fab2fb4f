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
