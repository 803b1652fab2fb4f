package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// rfc3339Z is a timestamp as the contract writes it: RFC 3339 in UTC.
var rfc3339Z = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// utcTime checks and parses a contract timestamp.
func utcTime(t testing.TB, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	if !ok || !rfc3339Z.MatchString(s) {
		t.Fatalf("timestamp %v (%T) is not RFC 3339 UTC ending in Z", v, v)
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// items returns the objects of a JSON array at path.
func items(t testing.TB, r response, path string) []map[string]any {
	t.Helper()
	arr, ok := r.get(path).([]any)
	if !ok {
		t.Fatalf("%s is not an array: %s", path, r.Raw)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

// hasKeys fails unless the object has every key (null values count).
func hasKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q: %v", what, k, m)
		}
	}
}

// pcIDs returns the ids of a PC list.
func pcIDs(t testing.TB, r response) []int64 {
	t.Helper()
	var ids []int64
	for _, p := range items(t, r, "pcs") {
		ids = append(ids, int64(p["id"].(float64)))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// loginRaw posts the login form and returns the raw answer.
func loginRaw(t testing.TB, ts *testServer, username, password string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirect(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestAdminPINs(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()

	t.Run("expires_in bounds", func(t *testing.T) {
		for _, c := range []struct {
			body   map[string]any
			status int
			usage  string
			secs   int
		}{
			{map[string]any{}, 200, "single", 600},
			{map[string]any{"usage_type": "multi"}, 200, "multi", 600},
			{map[string]any{"usage_type": "single", "expires_in": 60}, 200, "single", 60},
			{map[string]any{"usage_type": "multi", "expires_in": 86400}, 200, "multi", 86400},
			{map[string]any{"expires_in": 59}, 400, "", 0},
			{map[string]any{"expires_in": 86401}, 400, "", 0},
			{map[string]any{"expires_in": 0}, 400, "", 0},
			{map[string]any{"expires_in": -600}, 400, "", 0},
		} {
			t.Run(fmt.Sprint(c.body), func(t *testing.T) {
				before := time.Now().UTC().Truncate(time.Second)
				res := a.do("POST", "/api/admin/registration-token", c.body)
				if c.status != 200 {
					checkEnvelope(t, res, c.status, "INVALID_FIELD", "expires_in")
					return
				}
				res.must(t, 200)
				if res.get("status") != "success" || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(fmt.Sprint(res.get("token"))) ||
					res.get("usage_type") != c.usage || res.get("created_by") != "admin" {
					t.Fatalf("created PIN: %s", res.Raw)
				}
				exp := utcTime(t, res.get("expires_at"))
				want := before.Add(time.Duration(c.secs) * time.Second)
				if exp.Before(want) || exp.After(want.Add(5*time.Second)) {
					t.Fatalf("expires_at %s, want about %s", exp, want)
				}
			})
		}
	})

	single, singleID := ts.pinWithID(a, "single")
	multi, multiID := ts.pinWithID(a, "multi")
	// The list shows ids: a PIN's value is stored only as a keyed hash and shown once.
	ids := map[string]float64{single: float64(singleID), multi: float64(multiID)}
	find := func(pin string) map[string]any {
		t.Helper()
		for _, p := range items(t, a.do("GET", "/api/admin/registration-tokens", nil).must(t, 200), "tokens") {
			if p["id"] == ids[pin] {
				hasKeys(t, "PIN "+pin, p, "id", "token", "usage_type", "used_count", "expires_at", "created_by")
				utcTime(t, p["expires_at"])
				if p["token"] != "******" {
					t.Fatalf("the list shows a PIN's value: %v", p)
				}
				return p
			}
		}
		return nil
	}
	if p := find(single); p == nil || p["usage_type"] != "single" || p["used_count"] != 0.0 || p["created_by"] != "admin" {
		t.Fatalf("single PIN in the list: %v", p)
	}

	t.Run("single use", func(t *testing.T) {
		ts.register(single, "S1")
		if p := find(single); p == nil || p["used_count"] != 1.0 {
			t.Fatalf("used single PIN: %v", p)
		}
		res := ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "S2", "pin": single, "hostname": "h", "mac_address": "00:00:5E:00:53:01"})
		checkEnvelope(t, res, 403, "PIN_USED", "PIN already used")
	})
	t.Run("multi use", func(t *testing.T) {
		for i := range 3 {
			ts.register(multi, fmt.Sprint("MU", i))
		}
		// Re-registering a known machine spends a use too, and keeps the PC.
		again := ts.register(multi, "MU0")
		if p := find(multi); p == nil || p["used_count"] != 4.0 || p["usage_type"] != "multi" {
			t.Fatalf("multi PIN after 4 registrations: %v", p)
		}
		if n := len(items(t, a.do("GET", "/api/admin/pcs", nil).must(t, 200), "pcs")); n != 4 {
			t.Fatalf("%d PCs after re-registering one, want 4 (S1, MU0-2); again=%d", n, again.PCID)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		res := a.do("DELETE", "/api/admin/registration-token/"+multi, nil).must(t, 200)
		if res.get("status") != "success" || res.get("message") != "Token expired successfully" {
			t.Fatalf("revoke: %s", res.Raw)
		}
		if p := find(multi); p != nil {
			t.Fatalf("revoked PIN still listed: %v", p)
		}
		res = ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "MU9", "pin": multi, "hostname": "h", "mac_address": "00:00:5E:00:53:01"})
		checkEnvelope(t, res, 403, "INVALID_PIN", "Invalid or expired PIN")
		checkEnvelope(t, a.do("DELETE", "/api/admin/registration-token/"+multi, nil), 404, "NOT_FOUND")
	})
}

// fleetFixture is three registered PCs; the first sent a full heartbeat with a new IP.
type fleetFixture struct {
	ts      *testServer
	a       *admin
	pcs     []*agent
	pcPaths []string
}

func newFleetFixture(t *testing.T, n int) *fleetFixture {
	t.Helper()
	ts := newTestServer(t)
	f := &fleetFixture{ts: ts, a: ts.admin()}
	pin := ts.pin(f.a, "multi")
	for i := range n {
		ag := ts.register(pin, fmt.Sprint("PC", i+1))
		f.pcs = append(f.pcs, ag)
		f.pcPaths = append(f.pcPaths, "/api/admin/pc/"+itoa(ag.PCID))
	}
	return f
}

func TestAdminPCsListAndDetail(t *testing.T) {
	f := newFleetFixture(t, 3)
	ts, a := f.ts, f.a
	p1, p2, p3 := f.pcs[0], f.pcs[1], f.pcs[2]

	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": p1.MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 45.2, "ram_used": 8.5, "ram_usage_percent": 53.1, "current_user": "student",
			"uptime": 86400, "ip_address": "192.168.1.101", "processes": []string{"chrome.exe", "Code.exe"},
			"disk_usage": map[string]any{`C:\`: map[string]any{"used_gb": 107.2, "free_gb": 129.8, "percent": 45.2}}}}).must(t, 200)
	p2.poll(nil).must(t, 200)
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 5, "cols": 6}).must(t, 200)
	a.do("PUT", f.pcPaths[0]+"/seat", map[string]any{"room": "Lab 1", "row": 2, "col": 3}).must(t, 200)
	a.do("PUT", f.pcPaths[2]+"/seat", map[string]any{"room": "Lab 1", "row": 1, "col": 1}).must(t, 200)

	all := a.do("GET", "/api/admin/pcs", nil).must(t, 200)
	for _, p := range items(t, all, "pcs") {
		hasKeys(t, "PC", p, "id", "machine_id", "hostname", "mac_address", "ip_address", "is_online", "is_verified",
			"room_name", "seat_row", "seat_col", "cpu_usage", "ram_usage_percent", "current_user", "last_seen")
	}
	for _, c := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{p1.PCID, p2.PCID, p3.PCID}},
		{"?room=" + url.QueryEscape("Lab 1"), []int64{p1.PCID, p3.PCID}},
		{"?room=Nowhere", nil},
		{"?online=true", []int64{p1.PCID, p2.PCID}},
		{"?online=false", []int64{p3.PCID}},
		{"?room=" + url.QueryEscape("Lab 1") + "&online=true", []int64{p1.PCID}},
	} {
		t.Run("list"+c.query, func(t *testing.T) {
			if got := pcIDs(t, a.do("GET", "/api/admin/pcs"+c.query, nil).must(t, 200)); !slices.Equal(got, c.want) {
				t.Fatalf("PCs %v, want %v", got, c.want)
			}
		})
	}

	t.Run("detail", func(t *testing.T) {
		res := a.do("GET", f.pcPaths[0], nil).must(t, 200)
		pc := res.get("pc").(map[string]any)
		hasKeys(t, "PC detail", pc, "id", "machine_id", "hostname", "mac_address", "ip_address", "is_online", "is_verified",
			"room_name", "seat_row", "seat_col", "cpu_usage", "ram_usage_percent", "current_user", "last_seen",
			"specs", "disks", "processes", "uptime", "ip_history")
		if pc["machine_id"] != "PC1" || pc["hostname"] != "LAB-PC1" || pc["mac_address"] != "A1:B2:C3:D4:E5:F6" ||
			pc["ip_address"] != "192.168.1.101" || pc["is_online"] != true || pc["is_verified"] != true ||
			pc["room_name"] != "Lab 1" || pc["seat_row"] != 2.0 || pc["seat_col"] != 3.0 ||
			pc["cpu_usage"] != 45.2 || pc["ram_usage_percent"] != 53.1 || pc["current_user"] != "student" || pc["uptime"] != 86400.0 {
			t.Fatalf("detail: %s", res.Raw)
		}
		utcTime(t, pc["last_seen"])
		specs := pc["specs"].(map[string]any)
		if specs["cpu_model"] != "Intel Core i5-9400" || specs["cpu_cores"] != 6.0 || specs["cpu_threads"] != 6.0 ||
			specs["ram_total"] != 16.0 || specs["os_edition"] != "Windows 10 Pro" || specs["os_version"] != "10.0.19045" {
			t.Fatalf("specs: %v", specs)
		}
		disks := items(t, res, "pc.disks")
		if len(disks) != 1 || disks[0]["mount"] != `C:\` || disks[0]["total_gb"] != 237.0 || disks[0]["fstype"] != "NTFS" ||
			disks[0]["used_gb"] != 107.2 || disks[0]["free_gb"] != 129.8 || disks[0]["percent"] != 45.2 {
			t.Fatalf("disks: %v", disks)
		}
		if fmt.Sprint(pc["processes"]) != "[chrome.exe Code.exe]" {
			t.Fatalf("processes: %v", pc["processes"])
		}
		ips := items(t, res, "pc.ip_history")
		if len(ips) != 2 || ips[0]["ip_address"] != "192.168.1.101" || ips[1]["ip_address"] != "192.168.1.100" {
			t.Fatalf("ip_history (newest first): %v", ips)
		}
		utcTime(t, ips[0]["seen_at"])
		// A PC that never sent a full heartbeat has empty, not missing, state.
		res = a.do("GET", f.pcPaths[2], nil).must(t, 200)
		if procs, ok := res.get("pc.processes").([]any); !ok || len(procs) != 0 || res.get("pc.is_online") != false {
			t.Fatalf("detail of a silent PC: %s", res.Raw)
		}
	})

	t.Run("verify flag", func(t *testing.T) {
		if got := items(t, a.do("GET", "/api/admin/pcs/unverified", nil).must(t, 200), "pcs"); len(got) != 0 {
			t.Fatalf("PCs registered with a PIN are verified: %v", got)
		}
		res := a.do("PUT", f.pcPaths[1]+"/verified", map[string]any{"verified": false}).must(t, 200)
		if res.get("is_verified") != false {
			t.Fatalf("set verified: %s", res.Raw)
		}
		got := items(t, a.do("GET", "/api/admin/pcs/unverified", nil).must(t, 200), "pcs")
		if len(got) != 1 || got[0]["id"] != float64(p2.PCID) || got[0]["hostname"] != "LAB-PC2" || got[0]["machine_id"] != "PC2" ||
			got[0]["is_verified"] != false {
			t.Fatalf("unverified list: %v", got)
		}
		if v := a.do("GET", f.pcPaths[1], nil).must(t, 200).get("pc.is_verified"); v != false {
			t.Fatalf("detail is_verified %v", v)
		}
		a.do("PUT", f.pcPaths[1]+"/verified", map[string]any{"verified": true}).must(t, 200)
		if got := items(t, a.do("GET", "/api/admin/pcs/unverified", nil).must(t, 200), "pcs"); len(got) != 0 {
			t.Fatalf("verified again, still listed: %v", got)
		}
		checkEnvelope(t, a.do("PUT", "/api/admin/pc/999999/verified", map[string]any{"verified": true}), 404, "NOT_FOUND")
	})
}

func TestAdminDeletePC(t *testing.T) {
	f := newFleetFixture(t, 2)
	ts, a := f.ts, f.a
	victim, other := f.pcs[0], f.pcs[1]
	db, _ := openDB(t, ts)

	// Give the victim state, disks, IP history, an outage and commands of every status.
	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": victim.MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 1.0, "ip_address": "10.0.0.9", "processes": []string{"a.exe"},
			"disk_usage": map[string]any{`C:\`: map[string]any{"used_gb": 1, "free_gb": 2, "percent": 33}}}}).must(t, 200)
	done := a.do("POST", f.pcPaths[0]+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	victim.poll(nil).must(t, 200)
	victim.do("POST", "/api/client/commands/"+itoa(done)+"/result", map[string]any{"status": "success", "output": "x"}).must(t, 200)
	victim.do("POST", "/api/client/offline", map[string]any{"machine_id": victim.MachineID}).must(t, 200)
	pending := a.do("POST", f.pcPaths[0]+"/execute", map[string]any{"command": "whoami"}).must(t, 200).num("command_id")
	otherCmd := a.do("POST", f.pcPaths[1]+"/execute", map[string]any{"command": "whoami"}).must(t, 200).num("command_id")
	settle(t, ts, db)

	res := a.do("DELETE", f.pcPaths[0], nil).must(t, 200)
	if res.get("status") != "success" || res.get("message") != "PC deleted successfully" {
		t.Fatalf("delete: %s", res.Raw)
	}
	settle(t, ts, db)
	for _, table := range []string{"pc_state", "pc_disks", "pc_ip_history", "pc_outages", "commands"} {
		if rows := queryRows(t, db, `SELECT * FROM `+table+` WHERE pc_id = ?`, victim.PCID); len(rows) != 0 {
			t.Errorf("%s keeps rows of the deleted PC: %q", table, rows)
		}
	}
	if rows := queryRows(t, db, `SELECT id FROM pcs WHERE id = ?`, victim.PCID); len(rows) != 0 {
		t.Errorf("pcs keeps the deleted PC: %q", rows)
	}

	for _, c := range []struct{ name, path string }{
		{"detail", f.pcPaths[0]},
		{"commands", f.pcPaths[0] + "/commands"},
		{"history", f.pcPaths[0] + "/history"},
		{"done command", "/api/admin/command/" + itoa(done)},
		{"pending command", "/api/admin/command/" + itoa(pending)},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkEnvelope(t, a.do("GET", c.path, nil), 404, "NOT_FOUND")
		})
	}
	t.Run("agent", func(t *testing.T) {
		want := "PC not registered: " + victim.MachineID
		checkEnvelope(t, victim.poll(nil), 404, "PC_NOT_FOUND", want)
		checkEnvelope(t, victim.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": victim.MachineID,
			"full_update": false, "system_info": map[string]any{"cpu_usage": 1}}), 404, "PC_NOT_FOUND", want)
	})
	if got := pcIDs(t, a.do("GET", "/api/admin/pcs", nil).must(t, 200)); !slices.Equal(got, []int64{other.PCID}) {
		t.Fatalf("PCs after delete: %v", got)
	}
	if got := a.do("GET", "/api/admin/command/"+itoa(otherCmd), nil).must(t, 200).get("command.status"); got != "pending" {
		t.Fatalf("the other PC's command: %v", got)
	}
	checkEnvelope(t, a.do("DELETE", f.pcPaths[0], nil), 404, "NOT_FOUND")
}

func TestAdminCommands(t *testing.T) {
	f := newFleetFixture(t, 3)
	ts, a := f.ts, f.a
	p1, p2, p3 := f.pcs[0], f.pcs[1], f.pcs[2]
	_ = ts
	p3.poll(nil).must(t, 200) // on: a shutdown is not queued for a PC that is off

	t.Run("one PC, status shape and lifecycle", func(t *testing.T) {
		id := a.do("POST", f.pcPaths[0]+"/command", map[string]any{"type": "message", "parameters": map[string]any{"message": "안녕"}}).
			must(t, 200).num("command_id")
		res := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
		c := res.get("command").(map[string]any)
		hasKeys(t, "command", c, "id", "pc_id", "type", "parameters", "status", "output", "error_message", "exit_code",
			"priority", "created_at", "started_at", "completed_at")
		if c["id"] != float64(id) || c["pc_id"] != float64(p1.PCID) || c["type"] != "message" || c["status"] != "pending" ||
			c["output"] != "" || c["error_message"] != "" || c["exit_code"] != nil || c["priority"] != 5.0 ||
			c["started_at"] != nil || c["completed_at"] != nil {
			t.Fatalf("pending command: %s", res.Raw)
		}
		if fmt.Sprint(c["parameters"]) != "map[duration:10 message:안녕]" {
			t.Fatalf("parameters with their default: %v", c["parameters"])
		}
		utcTime(t, c["created_at"])

		if got := p1.poll(nil).must(t, 200).num("data.command.id"); got != id {
			t.Fatalf("delivered %d, want %d", got, id)
		}
		if st := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200); st.get("command.status") != "executing" {
			t.Fatalf("delivered command: %s", st.Raw)
		} else {
			utcTime(t, st.get("command.started_at"))
		}
		p1.do("POST", "/api/client/commands/"+itoa(id)+"/result", map[string]any{"status": "success", "output": "shown", "exit_code": 0}).must(t, 200)
		res = a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
		if res.get("command.status") != "completed" || res.get("command.output") != "shown" || res.get("command.exit_code") != 0.0 {
			t.Fatalf("completed command: %s", res.Raw)
		}
		utcTime(t, res.get("command.completed_at"))
	})

	t.Run("documented routes", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			body   any
			typ    string
			params string
		}{
			{"/shutdown", nil, "shutdown", "map[delay:0]"},
			{"/shutdown", map[string]any{"delay": 60, "message": "System maintenance"}, "shutdown", "map[delay:60 message:System maintenance]"},
			{"/reboot", nil, "restart", "map[delay:0]"},
			{"/execute", map[string]any{"command": "ipconfig /all"}, "execute", "map[command:ipconfig /all]"},
		} {
			res := a.do("POST", f.pcPaths[2]+c.path, c.body).must(t, 200)
			if res.get("status") != "success" || res.num("command_id") == 0 {
				t.Fatalf("%s: %s", c.path, res.Raw)
			}
			got := a.do("GET", "/api/admin/command/"+itoa(res.num("command_id")), nil).must(t, 200)
			if got.get("command.type") != c.typ || fmt.Sprint(got.get("command.parameters")) != c.params {
				t.Fatalf("%s stored as %s", c.path, got.Raw)
			}
		}
		a.do("DELETE", f.pcPaths[2]+"/commands/pending", nil).must(t, 200)
	})

	t.Run("bulk by pc_ids", func(t *testing.T) {
		res := a.do("POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": []int64{p1.PCID, p2.PCID, p3.PCID, p2.PCID},
			"type": "execute", "parameters": map[string]any{"command": "hostname"}, "priority": 3, "timeout": 120}).must(t, 200)
		ids, ok := res.get("command_ids").(map[string]any)
		if !ok || len(ids) != 3 {
			t.Fatalf("one command per PC: %s", res.Raw)
		}
		seen := map[float64]bool{}
		for key, v := range ids {
			id := v.(float64)
			if seen[id] {
				t.Fatalf("command id %v twice: %s", id, res.Raw)
			}
			seen[id] = true
			c := a.do("GET", "/api/admin/command/"+itoa(int64(id)), nil).must(t, 200)
			if itoa(c.num("command.pc_id")) != key || c.num("command.priority") != 3 || c.get("command.type") != "execute" {
				t.Fatalf("command %v for PC %s: %s", id, key, c.Raw)
			}
		}
		a.do("POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": []int64{}, "type": "execute",
			"parameters": map[string]any{"command": "x"}}).must(t, 200)
	})

	t.Run("bulk all or none", func(t *testing.T) {
		before := len(items(t, a.do("GET", f.pcPaths[0]+"/commands", nil).must(t, 200), "commands"))
		res := a.do("POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": []int64{p1.PCID, 999999},
			"type": "execute", "parameters": map[string]any{"command": "hostname"}})
		checkEnvelope(t, res, 404, "NOT_FOUND", "999999")
		if after := len(items(t, a.do("GET", f.pcPaths[0]+"/commands", nil).must(t, 200), "commands")); after != before {
			t.Fatalf("a refused bulk queued for the known PC: %d commands, had %d", after, before)
		}
	})

	t.Run("bulk by room", func(t *testing.T) {
		a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab R", "rows": 2, "cols": 2}).must(t, 200)
		a.do("POST", "/api/admin/rooms", map[string]any{"name": "Empty", "rows": 2, "cols": 2}).must(t, 200)
		a.do("PUT", f.pcPaths[0]+"/seat", map[string]any{"room": "Lab R", "row": 1, "col": 1}).must(t, 200)
		a.do("PUT", f.pcPaths[2]+"/seat", map[string]any{"room": "Lab R", "row": 1, "col": 2}).must(t, 200)
		res := a.do("POST", "/api/admin/commands/bulk", map[string]any{"room": "Lab R", "type": "message",
			"parameters": map[string]any{"message": "class starts"}}).must(t, 200)
		ids, _ := res.get("command_ids").(map[string]any)
		var keys []string
		for k := range ids {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{itoa(p1.PCID), itoa(p3.PCID)}
		sort.Strings(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("room bulk went to %v, want %v: %s", keys, want, res.Raw)
		}
		res = a.do("POST", "/api/admin/commands/bulk", map[string]any{"room": "Empty", "type": "message",
			"parameters": map[string]any{"message": "x"}}).must(t, 200)
		if ids, ok := res.get("command_ids").(map[string]any); !ok || len(ids) != 0 {
			t.Fatalf("an empty room queues nothing: %s", res.Raw)
		}
	})

	t.Run("history newest first", func(t *testing.T) {
		cs := items(t, a.do("GET", f.pcPaths[0]+"/commands", nil).must(t, 200), "commands")
		if len(cs) < 3 {
			t.Fatalf("history: %v", cs)
		}
		for i := 1; i < len(cs); i++ {
			if cs[i-1]["id"].(float64) <= cs[i]["id"].(float64) {
				t.Fatalf("not newest first: %v before %v", cs[i-1]["id"], cs[i]["id"])
			}
			if cs[i]["pc_id"] != float64(p1.PCID) {
				t.Fatalf("another PC's command in the history: %v", cs[i])
			}
		}
		if got := items(t, a.do("GET", f.pcPaths[0]+"/commands?limit=2", nil).must(t, 200), "commands"); len(got) != 2 || got[0]["id"] != cs[0]["id"] {
			t.Fatalf("limit=2: %v", got)
		}
	})

	t.Run("cancel pending", func(t *testing.T) {
		// Drain p2's queue first, then leave one command executing and two pending.
		a.do("DELETE", f.pcPaths[1]+"/commands/pending", nil).must(t, 200)
		running := a.do("POST", f.pcPaths[1]+"/execute", map[string]any{"command": "sleep"}).must(t, 200).num("command_id")
		if got := p2.poll(nil).must(t, 200).num("data.command.id"); got != running {
			t.Fatalf("delivered %d, want %d", got, running)
		}
		q1 := a.do("POST", f.pcPaths[1]+"/execute", map[string]any{"command": "one"}).must(t, 200).num("command_id")
		q2 := a.do("POST", f.pcPaths[1]+"/execute", map[string]any{"command": "two"}).must(t, 200).num("command_id")
		res := a.do("DELETE", f.pcPaths[1]+"/commands/pending", nil).must(t, 200)
		cs := items(t, res, "commands")
		var got []int64
		for _, c := range cs {
			got = append(got, int64(c["id"].(float64)))
			if c["status"] != "error" || !strings.Contains(fmt.Sprint(c["error_message"]), "cancelled") {
				t.Fatalf("cancelled command: %v", c)
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		if !slices.Equal(got, []int64{q1, q2}) {
			t.Fatalf("cancelled %v, want %v", got, []int64{q1, q2})
		}
		for _, id := range []int64{q1, q2} {
			c := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
			if c.get("command.status") != "error" || !strings.Contains(fmt.Sprint(c.get("command.error_message")), "admin") {
				t.Fatalf("cancelled command %d: %s", id, c.Raw)
			}
		}
		if st := a.do("GET", "/api/admin/command/"+itoa(running), nil).must(t, 200).get("command.status"); st != "executing" {
			t.Fatalf("cancel touched the delivered command: %v", st)
		}
		if res := p2.poll(nil).must(t, 200); res.get("data.has_command") != false {
			t.Fatalf("a cancelled command was delivered: %s", res.Raw)
		}
		if res := a.do("DELETE", f.pcPaths[1]+"/commands/pending", nil).must(t, 200); len(items(t, res, "commands")) != 0 {
			t.Fatalf("nothing left to cancel: %s", res.Raw)
		}
	})
}

func TestAdminPriorityOrder(t *testing.T) {
	f := newFleetFixture(t, 1)
	a, ag := f.a, f.pcs[0]
	want := map[int]int64{}
	var order []int64
	for i, prio := range []int{9, 1, 5, 5} {
		id := a.do("POST", f.pcPaths[0]+"/command", map[string]any{"type": "execute",
			"parameters": map[string]any{"command": fmt.Sprint("cmd", i)}, "priority": prio}).must(t, 200).num("command_id")
		want[i] = id
	}
	// Priority 1 first, then the two 5s by age, then 9.
	expect := []int64{want[1], want[2], want[3], want[0]}
	prios := []int64{1, 5, 5, 9}
	for i := range expect {
		res := ag.poll(nil).must(t, 200)
		order = append(order, res.num("data.command.id"))
		if res.num("data.command.priority") != prios[i] {
			t.Errorf("poll %d: priority %d, want %d", i+1, res.num("data.command.priority"), prios[i])
		}
	}
	if !slices.Equal(order, expect) {
		t.Fatalf("delivery order %v, want %v", order, expect)
	}
	if res := ag.poll(nil).must(t, 200); res.get("data.has_command") != false {
		t.Fatalf("queue should be empty: %s", res.Raw)
	}
}

func TestAdminCommandTimeout(t *testing.T) {
	f := newFleetFixture(t, 1)
	a := f.a
	id := a.do("POST", f.pcPaths[0]+"/command", map[string]any{"type": "execute",
		"parameters": map[string]any{"command": "hostname"}, "timeout": 1}).must(t, 200).num("command_id")
	other := a.do("POST", f.pcPaths[0]+"/command", map[string]any{"type": "execute",
		"parameters": map[string]any{"command": "hostname"}, "timeout": 3600}).must(t, 200).num("command_id")
	var res response
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res = a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
		if res.get("command.status") != "pending" {
			break
		}
	}
	if res.get("command.status") != "timeout" || res.get("command.error_message") == "" || res.get("command.started_at") != nil {
		t.Fatalf("a command the PC never fetched within its timeout: %s", res.Raw)
	}
	utcTime(t, res.get("command.completed_at"))
	if st := a.do("GET", "/api/admin/command/"+itoa(other), nil).must(t, 200).get("command.status"); st != "pending" {
		t.Fatalf("the command with a long timeout: %v", st)
	}
	// A late result for it changes nothing.
	checkEnvelope(t, f.pcs[0].do("POST", "/api/client/commands/"+itoa(id)+"/result", map[string]any{"status": "success", "output": "late"}),
		409, "ALREADY_REPORTED")
	if st := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200).get("command.status"); st != "timeout" {
		t.Fatalf("after a late result: %v", st)
	}
	// The timed-out command is never delivered; the other one is.
	if got := f.pcs[0].poll(nil).must(t, 200).num("data.command.id"); got != other {
		t.Fatalf("delivered %d, want %d", got, other)
	}
}

func TestAdminRoomsAndSeats(t *testing.T) {
	f := newFleetFixture(t, 2)
	a := f.a
	seat := func(i int, body map[string]any) response {
		return a.do("PUT", f.pcPaths[i]+"/seat", body)
	}
	where := func(i int) string {
		r := a.do("GET", f.pcPaths[i], nil).must(t, 200)
		return fmt.Sprint(r.get("pc.room_name"), " ", r.get("pc.seat_row"), " ", r.get("pc.seat_col"))
	}
	roomList := func() []map[string]any {
		return items(t, a.do("GET", "/api/admin/rooms", nil).must(t, 200), "rooms")
	}

	res := a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab A", "rows": 3, "cols": 4}).must(t, 200)
	if res.get("status") != "success" || res.get("room.name") != "Lab A" || res.num("room.rows") != 3 || res.num("room.cols") != 4 {
		t.Fatalf("create room: %s", res.Raw)
	}
	utcTime(t, res.get("room.created_at"))
	checkEnvelope(t, a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab A", "rows": 1, "cols": 1}), 409, "CONFLICT")

	steps := []struct {
		name   string
		do     func() response
		status int
		check  func(t *testing.T)
	}{
		{"place", func() response { return seat(0, map[string]any{"room": "Lab A", "row": 1, "col": 1}) }, 200,
			func(t *testing.T) {
				if w := where(0); w != "Lab A 1 1" {
					t.Fatalf("seat %s", w)
				}
				if rs := roomList(); len(rs) != 1 || rs[0]["pc_count"] != 1.0 {
					t.Fatalf("rooms %v", rs)
				}
			}},
		{"move", func() response { return seat(0, map[string]any{"room": "Lab A", "row": 3, "col": 4}) }, 200,
			func(t *testing.T) {
				if w := where(0); w != "Lab A 3 4" {
					t.Fatalf("seat %s", w)
				}
			}},
		{"seat taken", func() response { return seat(1, map[string]any{"room": "Lab A", "row": 3, "col": 4}) }, 409,
			func(t *testing.T) {
				if w := where(1); w != "<nil> <nil> <nil>" {
					t.Fatalf("seat %s", w)
				}
			}},
		{"same seat again is fine", func() response { return seat(0, map[string]any{"room": "Lab A", "row": 3, "col": 4}) }, 200, nil},
		{"row outside the grid", func() response { return seat(1, map[string]any{"room": "Lab A", "row": 4, "col": 1}) }, 400, nil},
		{"col outside the grid", func() response { return seat(1, map[string]any{"room": "Lab A", "row": 1, "col": 5}) }, 400, nil},
		{"row zero", func() response { return seat(1, map[string]any{"room": "Lab A", "row": 0, "col": 1}) }, 400, nil},
		{"second PC placed", func() response { return seat(1, map[string]any{"room": "Lab A", "row": 1, "col": 2}) }, 200, nil},
		{"shrink below a placed PC", func() response {
			return a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab A"), map[string]any{"rows": 2})
		}, 409, nil},
		{"rename", func() response {
			return a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab A"), map[string]any{"name": "Lab B"})
		}, 200, func(t *testing.T) {
			if w := where(0); w != "Lab B 3 4" {
				t.Fatalf("seat after rename %s", w)
			}
			if rs := roomList(); len(rs) != 1 || rs[0]["name"] != "Lab B" || rs[0]["pc_count"] != 2.0 {
				t.Fatalf("rooms %v", rs)
			}
		}},
		{"rename onto an existing room", func() response {
			a.do("POST", "/api/admin/rooms", map[string]any{"name": "Other", "rows": 1, "cols": 1}).must(t, 200)
			defer func() { a.do("DELETE", "/api/admin/room/Other", nil).must(t, 200) }()
			return a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab B"), map[string]any{"name": "Other"})
		}, 409, nil},
		{"grow", func() response {
			return a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab B"), map[string]any{"rows": 6, "cols": 8})
		}, 200, func(t *testing.T) {
			if rs := roomList(); rs[0]["rows"] != 6.0 || rs[0]["cols"] != 8.0 {
				t.Fatalf("rooms %v", rs)
			}
		}},
		{"delete while PCs sit in it", func() response {
			return a.do("DELETE", "/api/admin/room/"+url.PathEscape("Lab B"), nil)
		}, 409, nil},
		{"unplace the first", func() response { return seat(0, map[string]any{"room": nil}) }, 200, func(t *testing.T) {
			if w := where(0); w != "<nil> <nil> <nil>" {
				t.Fatalf("unplaced seat %s", w)
			}
		}},
		{"unplace the second", func() response { return seat(1, map[string]any{"room": nil}) }, 200, nil},
		{"shrink when empty", func() response {
			return a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab B"), map[string]any{"rows": 1, "cols": 1})
		}, 200, nil},
		{"delete", func() response { return a.do("DELETE", "/api/admin/room/"+url.PathEscape("Lab B"), nil) }, 200,
			func(t *testing.T) {
				if rs := roomList(); len(rs) != 0 {
					t.Fatalf("rooms after delete %v", rs)
				}
			}},
		{"delete again", func() response { return a.do("DELETE", "/api/admin/room/"+url.PathEscape("Lab B"), nil) }, 404, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res := s.do()
			if s.status == 200 {
				if res.must(t, 200).get("status") != "success" {
					t.Fatalf("%s", res.Raw)
				}
			} else {
				checkEnvelope(t, res, s.status, "")
			}
			if s.check != nil {
				s.check(t)
			}
		})
	}
}

func TestAdminAccountsAndRoles(t *testing.T) {
	f := newFleetFixture(t, 1)
	ts, a := f.ts, f.a
	f.pcs[0].poll(nil).must(t, 200) // on: a shutdown is not queued for a PC that is off
	cmdID := a.do("POST", f.pcPaths[0]+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")

	for _, acc := range []struct{ name, role string }{{"op", "operator"}, {"view", "viewer"}} {
		res := a.do("POST", "/api/admin/accounts", map[string]any{"username": acc.name, "password": acc.name + " password 123", "role": acc.role}).must(t, 200)
		if res.get("status") != "success" || res.get("username") != acc.name || res.get("role") != acc.role {
			t.Fatalf("create %s: %s", acc.name, res.Raw)
		}
	}
	checkEnvelope(t, a.do("POST", "/api/admin/accounts", map[string]any{"username": "op", "password": "another password", "role": "viewer"}), 409, "CONFLICT")
	list := items(t, a.do("GET", "/api/admin/accounts", nil).must(t, 200), "accounts")
	got := map[string]string{}
	for _, acc := range list {
		if strings.Contains(fmt.Sprint(acc), "$2") {
			t.Fatalf("account list shows a hash: %v", acc)
		}
		got[fmt.Sprint(acc["username"])] = fmt.Sprint(acc["role"], " ", acc["must_change_password"])
	}
	if fmt.Sprint(got) != "map[admin:admin false op:operator true view:viewer true]" {
		t.Fatalf("accounts: %v", got)
	}

	viewer := ts.firstLogin("view", "view password 123", "view password 456")
	operator := ts.firstLogin("op", "op password 123", "op password 456")
	pc := f.pcPaths[0]
	cases := []struct {
		method, path string
		body         any
		viewer, op   int
	}{
		{"GET", "/api/admin/pcs", nil, 200, 200},
		{"GET", "/api/admin/pcs/unverified", nil, 200, 200},
		{"GET", pc, nil, 200, 200},
		{"GET", pc + "/commands", nil, 200, 200},
		{"GET", pc + "/history", nil, 200, 200},
		{"GET", "/api/admin/command/" + itoa(cmdID), nil, 200, 200},
		{"GET", "/api/admin/rooms", nil, 200, 200},
		{"GET", "/api/admin/registration-tokens", nil, 200, 200},
		{"GET", "/api/admin/status", nil, 200, 200},
		{"POST", pc + "/command", map[string]any{"type": "message", "parameters": map[string]any{"message": "hi"}}, 403, 200},
		{"POST", pc + "/execute", map[string]any{"command": "hostname"}, 403, 200},
		{"POST", pc + "/shutdown", nil, 403, 200},
		{"POST", pc + "/reboot", nil, 403, 200},
		{"POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": []int64{f.pcs[0].PCID}, "type": "message", "parameters": map[string]any{"message": "x"}}, 403, 200},
		{"DELETE", pc + "/commands/pending", nil, 403, 200},
		{"POST", "/api/admin/registration-token", map[string]any{"usage_type": "single"}, 403, 200},
		{"POST", "/api/admin/rooms", map[string]any{"name": "R1", "rows": 1, "cols": 1}, 403, 200},
		{"PUT", "/api/admin/room/R1", map[string]any{"rows": 2}, 403, 200},
		{"PUT", pc + "/seat", map[string]any{"room": "R1", "row": 1, "col": 1}, 403, 200},
		{"PUT", pc + "/verified", map[string]any{"verified": true}, 403, 200},
		{"GET", "/api/admin/accounts", nil, 403, 403},
		{"POST", "/api/admin/accounts", map[string]any{"username": "x", "password": "long enough pw", "role": "admin"}, 403, 403},
		{"PUT", "/api/admin/account/view/password", map[string]any{"new_password": "hijacked password"}, 403, 403},
		{"PUT", "/api/admin/account/admin/password", map[string]any{"new_password": "hijacked password"}, 403, 403},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			for _, who := range []struct {
				name   string
				client *admin
				want   int
			}{{"viewer", viewer, c.viewer}, {"operator", operator, c.op}} {
				res := who.client.do(c.method, c.path, c.body)
				if c.method != "GET" && c.path == pc+"/seat" && who.want == 200 {
					// The operator places the PC; undo it so the room stays deletable.
					defer func() { a.do("PUT", pc+"/seat", map[string]any{"room": nil}).must(t, 200) }()
				}
				if who.want == 403 {
					checkEnvelope(t, res, 403, "FORBIDDEN")
				} else if res.Status != who.want {
					t.Errorf("%s: %d, want %d: %s", who.name, res.Status, who.want, res.Raw)
				}
			}
		})
	}
	// The refused role changes left nothing behind.
	if got := len(items(t, a.do("GET", "/api/admin/accounts", nil).must(t, 200), "accounts")); got != 3 {
		t.Fatalf("%d accounts, want 3", got)
	}
	if res := loginRaw(t, ts, "view", "hijacked password"); res.Header.Get("Location") != "/login" {
		t.Fatalf("a viewer or operator reset a password: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAdminPasswords(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	for _, acc := range []struct{ name, role string }{{"op", "operator"}, {"view", "viewer"}} {
		a.do("POST", "/api/admin/accounts", map[string]any{"username": acc.name, "password": acc.name + " first password", "role": acc.role}).must(t, 200)
	}
	mustChange := func(name string) any {
		for _, acc := range items(t, a.do("GET", "/api/admin/accounts", nil).must(t, 200), "accounts") {
			if acc["username"] == name {
				return acc["must_change_password"]
			}
		}
		return nil
	}

	t.Run("change own password", func(t *testing.T) {
		s1 := ts.login("op", "op first password")
		s2 := ts.login("op", "op first password")
		checkEnvelope(t, s1.do("POST", "/api/admin/password", map[string]any{"current_password": "wrong", "new_password": "op second password"}),
			403, "WRONG_PASSWORD")
		checkEnvelope(t, s1.do("POST", "/api/admin/password", map[string]any{"current_password": "op first password", "new_password": "short"}),
			400, "INVALID_FIELD", "new_password")
		// s2 is a live session, held at the forced change.
		checkEnvelope(t, s2.do("GET", "/api/admin/pcs", nil), 403, "PASSWORD_CHANGE_REQUIRED")
		res := s1.do("POST", "/api/admin/password", map[string]any{"current_password": "op first password", "new_password": "op second password"}).must(t, 200)
		if res.get("status") != "success" {
			t.Fatalf("change: %s", res.Raw)
		}
		checkEnvelope(t, s2.do("GET", "/api/admin/pcs", nil), 401, "UNAUTHORIZED")
		s1.do("GET", "/api/admin/pcs", nil).must(t, 200)
		if r := loginRaw(t, ts, "op", "op first password"); r.StatusCode != 302 || r.Header.Get("Location") != "/login" {
			t.Fatalf("old password still logs in: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		ts.login("op", "op second password")
		if v := mustChange("op"); v != false {
			t.Fatalf("must_change_password after changing it: %v", v)
		}
		// The admin's own sessions were not touched.
		a.do("GET", "/api/admin/pcs", nil).must(t, 200)
	})

	t.Run("reset another's password", func(t *testing.T) {
		// A viewer may change its own password.
		victim := ts.login("view", "view first password")
		victim.do("POST", "/api/admin/password", map[string]any{"current_password": "view first password", "new_password": "view own password"}).must(t, 200)
		if v := mustChange("view"); v != false {
			t.Fatalf("must_change_password: %v", v)
		}
		res := a.do("PUT", "/api/admin/account/view/password", map[string]any{"new_password": "view reset password"}).must(t, 200)
		if res.get("status") != "success" {
			t.Fatalf("reset: %s", res.Raw)
		}
		checkEnvelope(t, victim.do("GET", "/api/admin/pcs", nil), 401, "UNAUTHORIZED")
		if r := loginRaw(t, ts, "view", "view own password"); r.Header.Get("Location") != "/login" {
			t.Fatal("the replaced password still logs in")
		}
		ts.login("view", "view reset password")
		if v := mustChange("view"); v != true {
			t.Fatalf("a reset password must be changed at next login: must_change_password %v", v)
		}
		a.do("GET", "/api/admin/pcs", nil).must(t, 200)
		checkEnvelope(t, a.do("PUT", "/api/admin/account/view/password", map[string]any{"new_password": "short"}), 400, "INVALID_FIELD", "new_password")
	})
}

// A room is manageable by whatever name it was created with; a name the routes cannot carry
// must be refused at creation instead.
func TestAdminRoomNamesInPaths(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	for _, name := range []string{"Lab 1", "3/F Lab", "Lab%20X", "Lab?x#1", "랩실 2", "a+b&c=d", "..", "Lab.json"} {
		t.Run(name, func(t *testing.T) {
			res := a.do("POST", "/api/admin/rooms", map[string]any{"name": name, "rows": 1, "cols": 1})
			if res.Status == 400 {
				checkEnvelope(t, res, 400, "INVALID_FIELD", "name")
				return
			}
			if res.must(t, 200).get("room.name") != name {
				t.Fatalf("created %s", res.Raw)
			}
			path := "/api/admin/room/" + url.PathEscape(name)
			if res := a.do("PUT", path, map[string]any{"rows": 2}); res.Status != 200 {
				t.Fatalf("room %q was created but cannot be resized: %d %s", name, res.Status, res.Raw)
			}
			if res := a.do("DELETE", path, nil); res.Status != 200 {
				t.Fatalf("room %q was created but cannot be deleted: %d %s", name, res.Status, res.Raw)
			}
		})
	}
}
