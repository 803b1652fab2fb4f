package handlers_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
)

// dbBytes is the size of the test server's database on disk, write-ahead log included.
func dbBytes(t testing.TB, ts *testServer) int64 {
	t.Helper()
	var n int64
	if testdb.Postgres() {
		db, _ := openDB(t, ts)
		if err := db.QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
			JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, p := range []string{ts.dsn, ts.dsn + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// Issue 10, finding 5: 30 heartbeats with a 1 MiB ip_address grew the database by 32 MiB, one
// IP history row each. They are refused now, and the file does not grow.
func TestHugeIPAddressIsRefused(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "BIG-IP")
	db, _ := openDB(t, ts)
	settle(t, ts, db)
	before := dbBytes(t, ts)
	refused := 0
	for i := range 30 {
		ip := fmt.Sprintf("%02d", i) + strings.Repeat("9", 1<<20)
		res := ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": false,
			"system_info": map[string]any{"cpu_usage": 1.0, "ip_address": ip}})
		if res.Status == 400 {
			checkEnvelope(t, res, 400, handlers.CodeInvalidField, "ip_address")
			refused++
		}
	}
	settle(t, ts, db)
	grown := dbBytes(t, ts) - before
	rows := queryRows(t, db, `SELECT COUNT(*) FROM pc_ip_history`)
	t.Logf("30 heartbeats with a 1 MiB ip_address: %d refused, database grew %.1f MiB, IP history %v", refused, float64(grown)/(1<<20), rows)
	if refused != 30 || grown > 64<<10 {
		t.Errorf("%d of 30 refused; the database grew %d KiB", refused, grown>>10)
	}
}

// Every bound on what an agent sends, on every agent route: a 400 that names the field and the
// bound, and nothing stored.
func TestAgentInputBounds(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.PINFailures = 1000 })
	db, _ := openDB(t, ts)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	ag := ts.register(pin, "M1")
	cmd := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	ag.poll(nil).must(t, 200)

	long := func(n int) string { return strings.Repeat("x", n) }
	register := func(k string, v any) map[string]any {
		body := map[string]any{"machine_id": "NEW-1", "pin": pin, "hostname": "LAB-NEW", "mac_address": "00:11:22:33:44:55"}
		body[k] = v
		return body
	}
	full := func(k string, v any) map[string]any {
		return map[string]any{"machine_id": "M1", "full_update": true, "system_info": map[string]any{"cpu_usage": 1.0, k: v}}
	}
	names := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%0*d", size, i)
		}
		return out
	}
	disks := func(n, mountLen int, fstype string) map[string]any {
		out := map[string]any{}
		for i := range n {
			out[fmt.Sprintf("%0*d", mountLen, i)] = map[string]any{"total_gb": 1.0, "used_gb": 1.0, "free_gb": 1.0, "percent": 1.0, "fstype": fstype}
		}
		return out
	}
	const (
		reg, hb, poll, get = "/api/client/register", "/api/client/heartbeat", "/api/client/commands", "GET"
	)
	result := "/api/client/commands/" + itoa(cmd) + "/result"
	cases := []struct {
		name, path string
		body       any
		mentions   []string
	}{
		{"register machine_id too long", reg, register("machine_id", long(129)), []string{"machine_id", "128"}},
		{"register machine_id not ASCII", reg, register("machine_id", "PC-é"), []string{"machine_id", "printable ASCII"}},
		{"register machine_id with a control character", reg, register("machine_id", "PC\x01"), []string{"machine_id", "printable ASCII"}},
		{"register instance_id too long", reg, register("instance_id", long(129)), []string{"instance_id", "128"}},
		{"register hostname too long", reg, register("hostname", long(256)), []string{"hostname", "255"}},
		{"register hostname with CR", reg, register("hostname", "LAB\rX"), []string{"hostname", "control"}},
		{"register hostname with ESC", reg, register("hostname", "LAB\x1b[31m"), []string{"hostname", "control"}},
		{"register MAC not a MAC", reg, register("mac_address", "m"), []string{"mac_address", "AA:BB:CC:DD:EE:FF"}},
		{"register MAC SQL", reg, register("mac_address", `'); DELETE FROM commands; --`), []string{"mac_address"}},
		{"register MAC 1 MiB", reg, register("mac_address", long(1<<20)), []string{"mac_address", "64"}},
		{"register IP SQL", reg, register("ip_address", `10.0.0.1' OR '1'='1`), []string{"ip_address", "IPv4 or IPv6"}},
		{"register IP out of range", reg, register("ip_address", "999.1.1.1"), []string{"ip_address"}},
		{"register cpu_model too long", reg, register("cpu_model", long(257)), []string{"cpu_model", "256"}},
		{"register os_edition too long", reg, register("os_edition", long(257)), []string{"os_edition", "256"}},
		{"register os_version with BEL", reg, register("os_version", "10\a"), []string{"os_version", "control"}},
		{"register 65 disks", reg, register("disk_info", disks(65, 2, "NTFS")), []string{"disk_info", "64"}},
		{"register mount too long", reg, register("disk_info", disks(1, 261, "NTFS")), []string{"disk_info", "260"}},
		{"register fstype too long", reg, register("disk_info", disks(1, 2, long(33))), []string{"disk_info", "32"}},
		{"register system_info user too long", reg, register("system_info", map[string]any{"current_user": long(257)}), []string{"current_user", "256"}},
		{"heartbeat machine_id too long", hb, map[string]any{"machine_id": long(129), "system_info": map[string]any{}}, []string{"machine_id", "128"}},
		{"heartbeat instance_id not ASCII", hb, map[string]any{"machine_id": "M1", "instance_id": "ü", "system_info": map[string]any{}}, []string{"instance_id"}},
		{"heartbeat IP 1 MiB", hb, full("ip_address", long(1<<20)), []string{"ip_address", "64"}},
		{"heartbeat IP a word", hb, full("ip_address", "localhost"), []string{"ip_address"}},
		{"heartbeat user too long", hb, full("current_user", long(257)), []string{"current_user", "256"}},
		{"heartbeat user with ESC", hb, full("current_user", "\x1b[2Jstudent"), []string{"current_user", "control"}},
		{"heartbeat 2001 processes", hb, full("processes", names(2001, 4)), []string{"processes", "2000"}},
		{"heartbeat process name too long", hb, full("processes", names(1, 261)), []string{"processes", "260"}},
		{"heartbeat process name with CR", hb, full("processes", []string{"a\r.exe"}), []string{"processes", "control"}},
		{"heartbeat 65 disks", hb, full("disk_usage", disks(65, 2, "")), []string{"disk_usage", "64"}},
		{"heartbeat mount too long", hb, full("disk_usage", disks(1, 261, "")), []string{"disk_usage", "260"}},
		{"flat poll heartbeat IP", poll, map[string]any{"machine_id": "M1", "heartbeat": map[string]any{"ip_address": long(65)}}, []string{"ip_address", "64"}},
		{"nested poll heartbeat user", poll, map[string]any{"machine_id": "M1", "heartbeat": map[string]any{"full_update": true,
			"system_info": map[string]any{"current_user": long(257)}}}, []string{"current_user", "256"}},
		{"poll machine_id too long", poll, map[string]any{"machine_id": long(129)}, []string{"machine_id", "128"}},
		{"GET poll machine_id too long", get, "/api/client/commands?timeout=1&machine_id=" + long(129), []string{"machine_id", "128"}},
		{"GET poll instance_id not ASCII", get, "/api/client/commands?timeout=1&machine_id=M1&instance_id=%C3%BC", []string{"instance_id"}},
		{"result output over 1 MiB", result, map[string]any{"status": "success", "output": long(1<<20 + 1)}, []string{"output", "1048576"}},
		{"result error_message over 256 KiB", result, map[string]any{"status": "error", "output": "", "error_message": long(256<<10 + 1)}, []string{"error_message", "262144"}},
		{"shutdown machine_id too long", "/api/client/shutdown", map[string]any{"machine_id": long(129)}, []string{"machine_id", "128"}},
		{"offline machine_id with DEL", "/api/client/offline", map[string]any{"machine_id": "M1\x7f"}, []string{"machine_id", "printable ASCII"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			beforeDB := settle(t, ts, db)
			beforeAPI := apiSnapshot(t, a, ag.PCID)
			var res response
			if c.path == get {
				res = ag.do("GET", c.body.(string), nil)
			} else {
				res = ag.do("POST", c.path, c.body)
			}
			checkEnvelope(t, res, 400, handlers.CodeInvalidField, c.mentions...)
			if len(res.Raw) > 1024 {
				t.Errorf("the refusal is %d bytes: it must not echo the value", len(res.Raw))
			}
			if d := diffDumps(beforeDB, settle(t, ts, db)); d != "" {
				t.Errorf("a refused request changed the database:\n%s", d)
			}
			afterAPI := apiSnapshot(t, a, ag.PCID)
			for k, v := range beforeAPI {
				if afterAPI[k] != v {
					t.Errorf("a refused request changed %s:\n  before: %s\n  after:  %s", k, v, afterAPI[k])
				}
			}
		})
	}
}

// Values at the bounds, and every form the published and our own agents send, are taken.
func TestAgentInputAtTheBounds(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	long := func(r string, n int) string { return strings.Repeat(r, n) }
	for i, m := range []string{"AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "0000.5e00.5301", "02:00:5e:10:00:00:00:01"} {
		ts.registerWith(map[string]any{"machine_id": fmt.Sprintf("MAC-%d", i), "pin": pin, "hostname": "h", "mac_address": m})
	}
	ag := ts.registerWith(map[string]any{"machine_id": long("M", handlers.MaxMachineID), "pin": pin, "hostname": long("한", handlers.MaxHostname),
		"mac_address": "00:11:22:33:44:55", "ip_address": "", "cpu_model": long("x", handlers.MaxSpecText), "instance_id": long("I", handlers.MaxInstanceID)})
	for _, ip := range []string{"10.0.0.1", "fe80::1%eth0", "::ffff:192.168.1.100", handlers.UnknownIP} {
		ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": false,
			"system_info": map[string]any{"cpu_usage": 1.0, "ip_address": ip}}).must(t, 200)
	}
	procs := make([]string, handlers.MaxProcesses)
	for i := range procs {
		procs[i] = fmt.Sprintf("%0*d", handlers.MaxProcessName, i)
	}
	user := "학생\tone\ntwo" + long("u", handlers.MaxCurrentUser-11)
	ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 1.0, "current_user": user, "processes": procs}}).must(t, 200)
	pc := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200)
	if pc.get("pc.current_user") != user || len(pc.get("pc.processes").([]any)) != handlers.MaxProcesses || pc.get("pc.ip_address") != handlers.UnknownIP {
		t.Fatalf("stored: user %q, %d processes, ip %v", pc.get("pc.current_user"), len(pc.get("pc.processes").([]any)), pc.get("pc.ip_address"))
	}
	cmd := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "dir"}).must(t, 200).num("command_id")
	ag.poll(nil).must(t, 200)
	out := "\x1b[32mok\x1b[0m\r\n" + long("o", handlers.MaxResultOutput-13)
	ag.do("POST", "/api/client/commands/"+itoa(cmd)+"/result", map[string]any{"status": "error", "output": out,
		"error_message": long("e", handlers.MaxResultError)}).must(t, 200)
	if got := a.do("GET", "/api/admin/command/"+itoa(cmd), nil).must(t, 200).get("command.output"); got != out {
		t.Fatalf("output of %d bytes stored as %d", len(out), len(fmt.Sprint(got)))
	}
}

// An agent that changes its IP address on every heartbeat keeps only the newest
// models.IPHistoryKept changes; other PCs' history is untouched.
func TestIPHistoryKeptPerPC(t *testing.T) {
	ts := newTestServer(t)
	db, _ := openDB(t, ts)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	other := ts.register(pin, "QUIET")
	ag := ts.register(pin, "ROAMING")
	const changes = 300
	ipOf := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256) }
	for i := range changes {
		ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": false,
			"system_info": map[string]any{"cpu_usage": 1.0, "ip_address": ipOf(i)}}).must(t, 200)
	}
	kept := queryRows(t, db, `SELECT ip_address FROM pc_ip_history WHERE pc_id = ? ORDER BY id`, ag.PCID)
	t.Logf("%d IP changes (and the registration's address): %d rows kept", changes, len(kept))
	if len(kept) != models.IPHistoryKept || kept[0] != "ip_address="+ipOf(changes-models.IPHistoryKept) || kept[len(kept)-1] != "ip_address="+ipOf(changes-1) {
		t.Fatalf("kept %d rows, from %v to %v; want the newest %d, %s to %s", len(kept), kept[0], kept[len(kept)-1],
			models.IPHistoryKept, ipOf(changes-models.IPHistoryKept), ipOf(changes-1))
	}
	if rows := queryRows(t, db, `SELECT ip_address FROM pc_ip_history WHERE pc_id = ?`, other.PCID); len(rows) != 1 {
		t.Fatalf("the other PC's history: %v", rows)
	}
}
