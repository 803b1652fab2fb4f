package handlers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// openDB opens a second, read-only connection to the test server's database, to check what is
// really stored.
func openDB(t testing.TB, ts *testServer) (*sql.DB, string) {
	t.Helper()
	path, dsn := ts.dsn, ts.dsn
	if !testdb.Postgres() {
		dsn = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	}
	db, err := sql.Open(testdb.Driver(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db, path
}

// dumpDB renders every row of every table, so two dumps tell whether anything changed.
func dumpDB(t testing.TB, db *sql.DB) map[string][]string {
	t.Helper()
	var tables []string
	list, order := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`, "rowid"
	if testdb.Postgres() {
		list, order = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`, "ctid"
	}
	rows, err := db.Query(list)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 9 {
		t.Fatalf("tables: %v", tables)
	}
	out := make(map[string][]string, len(tables))
	for _, table := range tables {
		switch table {
		case "instances", "pc_minutes", "pc_hours":
			// Written by the clock: each instance's status row every few seconds, the history at
			// each minute's end from heartbeats taken before.
			continue
		}
		out[table] = queryRows(t, db, `SELECT * FROM "`+table+`" ORDER BY `+order)
	}
	return out
}

// queryRows renders each row of a query as one line.
func queryRows(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(testdb.Bind(query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := []string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// settle writes the fleet's batched light state, waits for any flush in flight (the store has
// one writer connection, so a no-op write queues behind it) and returns a dump that two reads in
// a row agree on.
func settle(t testing.TB, ts *testServer, db *sql.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	for range 20 {
		a := dumpDB(t, db)
		ts.fleet.Flush(ctx)
		if _, err := ts.store.DeleteExpiredSessions(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if b := dumpDB(t, db); reflect.DeepEqual(a, b) {
			return b
		}
	}
	t.Fatal("the database does not settle")
	return nil
}

// diffDumps describes how two dumps differ.
func diffDumps(before, after map[string][]string) string {
	var b strings.Builder
	for table := range after {
		if _, ok := before[table]; !ok {
			fmt.Fprintf(&b, "new table %s\n", table)
		}
	}
	for table, rows := range before {
		if !reflect.DeepEqual(rows, after[table]) {
			fmt.Fprintf(&b, "table %s:\n  before: %q\n  after:  %q\n", table, rows, after[table])
		}
	}
	return b.String()
}

// checkEnvelope checks the contract's dual error envelope: both messages equal and non-empty,
// the code when given, and that the message mentions what it should (the offending field).
func checkEnvelope(t testing.TB, res response, status int, code string, mentions ...string) {
	t.Helper()
	if res.Status != status {
		t.Errorf("status %d, want %d: %s", res.Status, status, res.Raw)
		return
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON: %s", ct, res.Raw)
	}
	msg, _ := res.get("message").(string)
	inner, _ := res.get("error.message").(string)
	gotCode, _ := res.get("error.code").(string)
	if res.get("status") != "error" || msg == "" || msg != inner || gotCode == "" {
		t.Errorf("not the dual error envelope: %s", res.Raw)
		return
	}
	if code != "" && gotCode != code {
		t.Errorf("error.code %q, want %q: %s", gotCode, code, res.Raw)
	}
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not mention %q", msg, m)
		}
	}
}

// apiSnapshot is what the admin API shows of the fleet, including live in-memory state that the
// database does not hold (pending counts, latest CPU, last seen).
func apiSnapshot(t testing.TB, a *admin, pcIDs ...int64) map[string]string {
	t.Helper()
	out := map[string]string{
		"pcs":    a.do("GET", "/api/admin/pcs", nil).must(t, 200).Raw,
		"tokens": a.do("GET", "/api/admin/registration-tokens", nil).must(t, 200).Raw,
		"rooms":  a.do("GET", "/api/admin/rooms", nil).must(t, 200).Raw,
	}
	st := a.do("GET", "/api/admin/status", nil).must(t, 200)
	out["status"] = fmt.Sprint(st.get("pcs"), st.get("pcs_online"), st.get("commands_pending"))
	for _, id := range pcIDs {
		out["pc "+itoa(id)] = a.do("GET", "/api/admin/pc/"+itoa(id), nil).must(t, 200).Raw
		out["commands "+itoa(id)] = a.do("GET", "/api/admin/pc/"+itoa(id)+"/commands", nil).must(t, 200).Raw
	}
	return out
}

// unusedPIN returns a 6-digit value no PIN of the server has.
func unusedPIN(t testing.TB, ts *testServer, taken ...string) string {
	t.Helper()
	for n := 100000; n < 1000000; n += 7919 {
		pin := fmt.Sprint(n)
		free := true
		for _, tk := range taken {
			free = free && tk != pin
		}
		if free {
			return pin
		}
	}
	t.Fatal("no free PIN")
	return ""
}

// hugeProcessHeartbeat is a full heartbeat whose process list is about size bytes.
func hugeProcessHeartbeat(machineID string, size int) string {
	var b strings.Builder
	b.Grow(size + 200)
	fmt.Fprintf(&b, `{"machine_id":%q,"full_update":true,"system_info":{"cpu_usage":99,"processes":[`, machineID)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"evil-%08d.exe"`, i)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// badCase is one bad request and how the server must refuse it.
type badCase struct {
	name     string
	as       string // "anon" (no token, legacy client), "agent" (M1's token), "agent2", "admin"
	method   string
	path     string
	body     any
	status   int
	code     string   // expected error.code; "" checks only that there is one
	mentions []string // what the message must name
	after    func(t *testing.T)
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.PINFailures = 1000 })
	db, _ := openDB(t, ts)
	ctx := context.Background()
	a := ts.admin()

	multi := ts.pin(a, "multi")
	ag := ts.register(multi, "M1")
	ag2 := ts.register(multi, "M2")
	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": "M1", "full_update": true,
		"system_info": map[string]any{"cpu_usage": 10.0, "ram_used": 4.0, "ram_usage_percent": 25.0, "current_user": "student",
			"uptime": 3600, "ip_address": "192.168.1.100", "processes": []string{"explorer.exe", "chrome.exe"},
			"disk_usage": map[string]any{`C:\`: map[string]any{"used_gb": 100.0, "free_gb": 137.0, "percent": 42.2}}}}).must(t, 200)

	// A used single-use PIN, a revoked one and an expired one.
	used := ts.pin(a, "single")
	ts.register(used, "M3")
	revoked := ts.pin(a, "single")
	a.do("DELETE", "/api/admin/registration-token/"+revoked, nil).must(t, 200)
	now := time.Now()
	_, expired, err := ts.store.CreatePIN(ctx, tokens.NewPINHasher(testPINKey).Hash, models.PINSingle, now.Add(-time.Minute), "admin", now.Add(-11*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	unknown := unusedPIN(t, ts, multi, used, revoked, expired)

	// A command with a result, and one still pending.
	done := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	if res := ag.poll(nil).must(t, 200); res.num("data.command.id") != done {
		t.Fatalf("setup delivery: %s", res.Raw)
	}
	ag.do("POST", "/api/client/commands/"+itoa(done)+"/result", map[string]any{"status": "success", "output": "LAB-M1"}).must(t, 200)
	pending := a.do("POST", "/api/admin/pc/"+itoa(ag2.PCID)+"/execute", map[string]any{"command": "whoami"}).must(t, 200).num("command_id")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab1", "rows": 2, "cols": 2}).must(t, 200)

	pc1, pc2 := "/api/admin/pc/"+itoa(ag.PCID), "/api/admin/pc/"+itoa(ag2.PCID)
	register := func(change map[string]any, drop ...string) map[string]any {
		body := map[string]any{"machine_id": "NEW-1", "pin": multi, "hostname": "LAB-NEW", "mac_address": "00:11:22:33:44:55",
			"cpu_cores": 4, "ram_total": 8.0}
		for k, v := range change {
			body[k] = v
		}
		for _, k := range drop {
			delete(body, k)
		}
		return body
	}
	cmd := func(typ string, params any, extra ...any) map[string]any {
		body := map[string]any{"type": typ, "parameters": params}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		return body
	}
	hb := func(info any) map[string]any {
		return map[string]any{"machine_id": "M1", "full_update": false, "system_info": info}
	}
	processesBefore := a.do("GET", pc1, nil).must(t, 200).get("pc.processes")

	cases := []badCase{
		// Bodies that are not one JSON object.
		{name: "register malformed JSON", as: "anon", method: "POST", path: "/api/client/register",
			body: `{"machine_id": "NEW-1", "pin": `, status: 400, code: "INVALID_JSON"},
		{name: "register JSON array", as: "anon", method: "POST", path: "/api/client/register",
			body: `[{"machine_id":"NEW-1","pin":"` + multi + `","hostname":"h","mac_address":"m"}]`, status: 400, code: "INVALID_JSON"},
		{name: "register empty body", as: "anon", method: "POST", path: "/api/client/register", body: "", status: 400, code: "INVALID_JSON"},
		{name: "register trailing garbage", as: "anon", method: "POST", path: "/api/client/register",
			body: `{"machine_id":"NEW-1","pin":"` + multi + `","hostname":"h","mac_address":"m"} {"x":1}`, status: 400, code: "INVALID_JSON"},
		{name: "poll malformed JSON", as: "agent", method: "POST", path: "/api/client/commands", body: `{"machine_id":"M1",}`,
			status: 400, code: "INVALID_JSON"},
		{name: "admin command JSON array", as: "admin", method: "POST", path: pc1 + "/command",
			body: `[{"type":"execute","parameters":{"command":"hostname"}}]`, status: 400, code: "INVALID_JSON"},
		{name: "admin command trailing garbage", as: "admin", method: "POST", path: pc1 + "/command",
			body: `{"type":"execute","parameters":{"command":"hostname"}}garbage`, status: 400, code: "INVALID_JSON"},
		{name: "NUL in hostname", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"hostname": "LAB\x00X"}), status: 400, code: "INVALID_FIELD", mentions: []string{"NUL"}},
		{name: "NUL in an execute command", as: "admin", method: "POST", path: pc1 + "/execute",
			body: map[string]any{"command": "dir\x00 C:"}, status: 400, code: "INVALID_FIELD", mentions: []string{"NUL"}},

		// Wrong types name the field.
		{name: "cpu_cores as a word", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"cpu_cores": "six"}), status: 400, code: "INVALID_FIELD", mentions: []string{"cpu_cores"}},
		{name: "heartbeat cpu_usage as a word", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: hb(map[string]any{"cpu_usage": "high"}), status: 400, code: "INVALID_FIELD", mentions: []string{"cpu_usage"}},
		{name: "poll heartbeat cpu_usage as a word", as: "agent", method: "POST", path: "/api/client/commands",
			body:   map[string]any{"machine_id": "M1", "heartbeat": map[string]any{"cpu_usage": "high"}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"cpu_usage"}},
		{name: "processes as a string", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body:   map[string]any{"machine_id": "M1", "full_update": true, "system_info": map[string]any{"processes": "chrome.exe"}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"processes"}},
		{name: "full_update as a string", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body:   map[string]any{"machine_id": "M1", "full_update": "yes", "system_info": map[string]any{"cpu_usage": 1}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"full_update"}},
		{name: "parameters as a string", as: "admin", method: "POST", path: pc1 + "/command",
			body: map[string]any{"type": "execute", "parameters": "hostname"}, status: 400, code: "INVALID_FIELD", mentions: []string{"parameters"}},
		{name: "pc_ids as a string", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body:   map[string]any{"pc_ids": itoa(ag.PCID), "type": "execute", "parameters": map[string]any{"command": "hostname"}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"pc_ids"}},
		{name: "priority as a word", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("execute", map[string]any{"command": "hostname"}, "priority", "high"), status: 400, code: "INVALID_FIELD", mentions: []string{"priority"}},
		{name: "result exit_code as a word", as: "agent", method: "POST", path: "/api/client/commands/" + itoa(done) + "/result",
			body: map[string]any{"status": "success", "output": "x", "exit_code": "one"}, status: 400, code: "INVALID_FIELD", mentions: []string{"exit_code"}},
		{name: "message duration as a word", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("message", map[string]any{"message": "hi", "duration": "ten"}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.duration"}},
		{name: "GET poll timeout not a number", as: "agent", method: "GET", path: "/api/client/commands?machine_id=M1&timeout=soon",
			status: 400, code: "INVALID_FIELD", mentions: []string{"timeout"}},
		{name: "online filter not a bool", as: "admin", method: "GET", path: "/api/admin/pcs?online=maybe",
			status: 400, code: "INVALID_FIELD", mentions: []string{"online"}},
		{name: "PC id not a number", as: "admin", method: "GET", path: "/api/admin/pc/abc", status: 400, code: "INVALID_FIELD", mentions: []string{"id"}},

		// Missing required fields.
		{name: "register without pin", as: "anon", method: "POST", path: "/api/client/register",
			body: register(nil, "pin"), status: 400, code: "MISSING_FIELD", mentions: []string{"pin"}},
		{name: "register without machine_id", as: "anon", method: "POST", path: "/api/client/register",
			body: register(nil, "machine_id"), status: 400, code: "MISSING_FIELD", mentions: []string{"machine_id"}},
		{name: "register without hostname", as: "anon", method: "POST", path: "/api/client/register",
			body: register(nil, "hostname"), status: 400, code: "MISSING_FIELD", mentions: []string{"hostname"}},
		{name: "register without mac_address", as: "anon", method: "POST", path: "/api/client/register",
			body: register(nil, "mac_address"), status: 400, code: "MISSING_FIELD", mentions: []string{"mac_address"}},
		{name: "heartbeat without system_info", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: map[string]any{"machine_id": "M1", "full_update": true}, status: 400, code: "MISSING_FIELD", mentions: []string{"system_info"}},
		{name: "heartbeat without machine_id", as: "anon", method: "POST", path: "/api/client/heartbeat",
			body: map[string]any{"full_update": false, "system_info": map[string]any{"cpu_usage": 1}}, status: 400, code: "MISSING_FIELD", mentions: []string{"machine_id"}},
		{name: "poll without machine_id", as: "anon", method: "POST", path: "/api/client/commands",
			body: map[string]any{"heartbeat": map[string]any{"cpu_usage": 1}}, status: 400, code: "MISSING_FIELD", mentions: []string{"machine_id"}},
		{name: "shutdown without machine_id", as: "anon", method: "POST", path: "/api/client/shutdown", body: `{}`,
			status: 400, code: "MISSING_FIELD", mentions: []string{"machine_id"}},
		{name: "result without status", as: "agent", method: "POST", path: "/api/client/commands/" + itoa(done) + "/result",
			body: map[string]any{"output": "x"}, status: 400, code: "MISSING_FIELD", mentions: []string{"status"}},
		{name: "command without type", as: "admin", method: "POST", path: pc1 + "/command",
			body: map[string]any{"parameters": map[string]any{"command": "hostname"}}, status: 400, code: "MISSING_FIELD", mentions: []string{"type"}},
		{name: "execute without parameters.command", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("execute", map[string]any{}), status: 400, code: "MISSING_FIELD", mentions: []string{"parameters.command"}},
		{name: "documented execute route without command", as: "admin", method: "POST", path: pc1 + "/execute",
			body: map[string]any{}, status: 400, code: "MISSING_FIELD", mentions: []string{"command"}},
		{name: "create_user without password", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("create_user", map[string]any{"username": "guest"}), status: 400, code: "MISSING_FIELD", mentions: []string{"parameters.password"}},
		{name: "room without name", as: "admin", method: "POST", path: "/api/admin/rooms",
			body: map[string]any{"rows": 2, "cols": 2}, status: 400, code: "MISSING_FIELD", mentions: []string{"name"}},
		{name: "verified flag missing", as: "admin", method: "PUT", path: pc1 + "/verified",
			body: map[string]any{}, status: 400, code: "MISSING_FIELD", mentions: []string{"verified"}},

		// Unknown ids.
		{name: "heartbeat of an unknown PC", as: "anon", method: "POST", path: "/api/client/heartbeat",
			body: map[string]any{"machine_id": "GHOST", "full_update": false, "system_info": map[string]any{"cpu_usage": 1}}, status: 404, code: "PC_NOT_FOUND"},
		{name: "offline of an unknown PC", as: "anon", method: "POST", path: "/api/client/offline",
			body: map[string]any{"machine_id": "GHOST"}, status: 404, code: "PC_NOT_FOUND"},
		{name: "result for an unknown command", as: "agent", method: "POST", path: "/api/client/commands/999999/result",
			body: map[string]any{"status": "success", "output": "x"}, status: 404},
		{name: "command for an unknown PC", as: "admin", method: "POST", path: "/api/admin/pc/999999/command",
			body: cmd("execute", map[string]any{"command": "hostname"}), status: 404, code: "NOT_FOUND"},
		{name: "bulk with one unknown PC", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body:   map[string]any{"pc_ids": []int64{ag.PCID, 999999, ag2.PCID}, "type": "execute", "parameters": map[string]any{"command": "hostname"}},
			status: 404, code: "NOT_FOUND", mentions: []string{"999999"}},
		{name: "bulk to an unknown room", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body: map[string]any{"room": "Nowhere", "type": "execute", "parameters": map[string]any{"command": "hostname"}}, status: 404, code: "NOT_FOUND"},
		{name: "bulk with neither pc_ids nor room", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body:   map[string]any{"type": "execute", "parameters": map[string]any{"command": "hostname"}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"pc_ids", "room"}},
		{name: "bulk with both pc_ids and room", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body:   map[string]any{"pc_ids": []int64{ag.PCID}, "room": "Lab1", "type": "execute", "parameters": map[string]any{"command": "hostname"}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"pc_ids", "room"}},
		{name: "unknown command", as: "admin", method: "GET", path: "/api/admin/command/999999", status: 404, code: "NOT_FOUND"},
		{name: "unknown admin route", as: "admin", method: "GET", path: "/api/admin/nope", status: 404, code: "NOT_FOUND"},
		// An agent has no session: an unknown agent path is a 404, not "log in first".
		{name: "unknown agent route", as: "anon", method: "POST", path: "/api/client/nope",
			body: map[string]any{"machine_id": "M1"}, status: 404, code: "NOT_FOUND"},
		{name: "unknown PC detail", as: "admin", method: "GET", path: "/api/admin/pc/999999", status: 404, code: "NOT_FOUND"},
		{name: "commands of an unknown PC", as: "admin", method: "GET", path: "/api/admin/pc/999999/commands", status: 404, code: "NOT_FOUND"},
		{name: "delete an unknown PC", as: "admin", method: "DELETE", path: "/api/admin/pc/999999", status: 404, code: "NOT_FOUND"},
		{name: "cancel pending of an unknown PC", as: "admin", method: "DELETE", path: "/api/admin/pc/999999/commands/pending", status: 404, code: "NOT_FOUND"},
		{name: "revoke an unknown PIN", as: "admin", method: "DELETE", path: "/api/admin/registration-token/" + unknown, status: 404, code: "NOT_FOUND"},
		{name: "rename an unknown room", as: "admin", method: "PUT", path: "/api/admin/room/Nowhere",
			body: map[string]any{"name": "Somewhere"}, status: 404, code: "NOT_FOUND"},
		{name: "delete an unknown room", as: "admin", method: "DELETE", path: "/api/admin/room/Nowhere", status: 404, code: "NOT_FOUND"},
		{name: "seat in an unknown room", as: "admin", method: "PUT", path: pc1 + "/seat",
			body: map[string]any{"room": "Nowhere", "row": 1, "col": 1}, status: 404, code: "NOT_FOUND"},
		{name: "seat outside the grid", as: "admin", method: "PUT", path: pc1 + "/seat",
			body: map[string]any{"room": "Lab1", "row": 3, "col": 1}, status: 400, code: "INVALID_FIELD"},
		{name: "reset the password of an unknown account", as: "admin", method: "PUT", path: "/api/admin/account/nobody/password",
			body: map[string]any{"new_password": "long enough password"}, status: 404, code: "NOT_FOUND"},

		// PINs.
		{name: "unknown PIN", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": unknown}), status: 403, code: "INVALID_PIN", mentions: []string{"Invalid or expired PIN"}},
		{name: "PIN that is not 6 digits", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": "12ab"}), status: 403, code: "INVALID_PIN", mentions: []string{"Invalid or expired PIN"}},
		{name: "revoked PIN", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": revoked}), status: 403, code: "INVALID_PIN", mentions: []string{"Invalid or expired PIN"}},
		{name: "expired PIN", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": expired}), status: 403, code: "INVALID_PIN", mentions: []string{"Invalid or expired PIN"}},
		{name: "used single-use PIN", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": used}), status: 403, code: "PIN_USED", mentions: []string{"PIN already used"}},
		{name: "used single-use PIN on a known machine", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"pin": used, "machine_id": "M1", "hostname": "HIJACKED"}), status: 403, code: "PIN_USED"},
		{name: "PIN lifetime too short", as: "admin", method: "POST", path: "/api/admin/registration-token",
			body: map[string]any{"usage_type": "single", "expires_in": 59}, status: 400, code: "INVALID_FIELD", mentions: []string{"expires_in"}},
		{name: "PIN lifetime too long", as: "admin", method: "POST", path: "/api/admin/registration-token",
			body: map[string]any{"usage_type": "multi", "expires_in": 86401}, status: 400, code: "INVALID_FIELD", mentions: []string{"expires_in"}},
		{name: "PIN usage type unknown", as: "admin", method: "POST", path: "/api/admin/registration-token",
			body: map[string]any{"usage_type": "forever"}, status: 400, code: "INVALID_FIELD", mentions: []string{"usage_type"}},

		// Results out of order.
		{name: "replayed result", as: "agent", method: "POST", path: "/api/client/commands/" + itoa(done) + "/result",
			body: map[string]any{"status": "error", "output": "overwritten", "exit_code": 9}, status: 409, code: "ALREADY_REPORTED"},
		{name: "replayed result without the token of a PC that uses it", as: "anon", method: "POST", path: "/api/client/commands/" + itoa(done) + "/result",
			body: map[string]any{"status": "success", "output": "overwritten"}, status: 401, code: "INVALID_AGENT_TOKEN"},
		{name: "result for an undelivered command", as: "agent2", method: "POST", path: "/api/client/commands/" + itoa(pending) + "/result",
			body: map[string]any{"status": "success", "output": "too early"}, status: 409, code: "NOT_DELIVERED"},
		{name: "result with an unknown status", as: "agent", method: "POST", path: "/api/client/commands/" + itoa(done) + "/result",
			body: map[string]any{"status": "done", "output": "x"}, status: 400, code: "INVALID_FIELD", mentions: []string{"status"}},

		// Too large.
		{name: "20 MB process list", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: hugeProcessHeartbeat("M1", 20<<20), status: 413, code: "BODY_TOO_LARGE",
			after: func(t *testing.T) {
				if got := a.do("GET", pc1, nil).must(t, 200).get("pc.processes"); !reflect.DeepEqual(got, processesBefore) {
					t.Fatalf("processes after a refused 20 MB heartbeat: %v, want %v", got, processesBefore)
				}
			}},

		// Command types and parameters.
		{name: "unknown command type", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("format_disk", map[string]any{}), status: 400, code: "INVALID_FIELD", mentions: []string{"type", "format_disk"}},
		{name: "unknown parameter key", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("shutdown", map[string]any{"delay": 5, "force": true}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.force"}},
		{name: "unknown parameter key on the documented shutdown route", as: "admin", method: "POST", path: pc1 + "/shutdown",
			body: map[string]any{"delay": 5, "force": true}, status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.force"}},
		{name: "negative delay", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("restart", map[string]any{"delay": -1}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.delay"}},
		{name: "fractional delay", as: "admin", method: "POST", path: pc2 + "/reboot",
			body: map[string]any{"delay": 1.5}, status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.delay"}},
		{name: "app_id that is an option", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("install", map[string]any{"app_id": "--source=evil"}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.app_id"}},
		{name: "app_id with a shell metacharacter", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("uninstall", map[string]any{"app_id": "git & calc"}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.app_id"}},
		{name: "username with a slash", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("create_user", map[string]any{"username": "a/b", "password": "Passw0rd!"}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.username"}},
		{name: "delete_user username with a backslash", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("delete_user", map[string]any{"username": `LAB\admin`}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.username"}},
		{name: "url with the ftp scheme", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("download", map[string]any{"url": "ftp://x", "destination": `C:\x`}), status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.url"}},
		{name: "download without destination", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("download", map[string]any{"url": "https://example.com/x.msi"}), status: 400, code: "MISSING_FIELD", mentions: []string{"parameters.destination"}},
		{name: "priority 0", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("execute", map[string]any{"command": "hostname"}, "priority", 0), status: 400, code: "INVALID_FIELD", mentions: []string{"priority"}},
		{name: "priority 11", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("execute", map[string]any{"command": "hostname"}, "priority", 11), status: 400, code: "INVALID_FIELD", mentions: []string{"priority"}},
		{name: "timeout 0", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("execute", map[string]any{"command": "hostname"}, "timeout", 0), status: 400, code: "INVALID_FIELD", mentions: []string{"timeout"}},
		{name: "bulk with a bad priority queues nothing", as: "admin", method: "POST", path: "/api/admin/commands/bulk",
			body:   map[string]any{"pc_ids": []int64{ag.PCID, ag2.PCID}, "type": "execute", "parameters": map[string]any{"command": "x"}, "priority": 0},
			status: 400, code: "INVALID_FIELD", mentions: []string{"priority"}},
		{name: "empty message", as: "admin", method: "POST", path: pc1 + "/command",
			body: cmd("message", map[string]any{"message": "   "}), status: 400, code: "MISSING_FIELD", mentions: []string{"parameters.message"}},
		{name: "password parameter too long", as: "admin", method: "POST", path: pc1 + "/command",
			body:   cmd("change_password", map[string]any{"username": "student", "new_password": strings.Repeat("x", 128)}),
			status: 400, code: "INVALID_FIELD", mentions: []string{"parameters.new_password"}},

		// Out-of-range values.
		{name: "cpu_usage above 100", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: hb(map[string]any{"cpu_usage": 150.0}), status: 400, code: "INVALID_FIELD", mentions: []string{"cpu_usage"}},
		{name: "negative ram_usage_percent", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: hb(map[string]any{"cpu_usage": 5.0, "ram_usage_percent": -1.0}), status: 400, code: "INVALID_FIELD", mentions: []string{"ram_usage_percent"}},
		{name: "disk percent above 100", as: "agent", method: "POST", path: "/api/client/heartbeat",
			body: map[string]any{"machine_id": "M1", "full_update": true, "system_info": map[string]any{"cpu_usage": 5.0,
				"disk_usage": map[string]any{`C:\`: map[string]any{"used_gb": 1, "free_gb": 1, "percent": 101}}}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"percent"}},
		{name: "poll heartbeat cpu_usage above 100", as: "agent", method: "POST", path: "/api/client/commands",
			body:   map[string]any{"machine_id": "M1", "heartbeat": map[string]any{"cpu_usage": 100.5}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"cpu_usage"}},
		{name: "nested poll heartbeat ram above 100", as: "agent", method: "POST", path: "/api/client/commands",
			body: map[string]any{"machine_id": "M1", "heartbeat": map[string]any{"full_update": true,
				"system_info": map[string]any{"ram_usage_percent": 1000}}},
			status: 400, code: "INVALID_FIELD", mentions: []string{"ram_usage_percent"}},
		{name: "negative ram_total", as: "anon", method: "POST", path: "/api/client/register",
			body: register(map[string]any{"ram_total": -16.0}), status: 400, code: "INVALID_FIELD", mentions: []string{"ram_total"}},
		{name: "negative wait", as: "agent", method: "POST", path: "/api/client/commands",
			body: map[string]any{"machine_id": "M1", "wait": -1}, status: 400, code: "INVALID_FIELD", mentions: []string{"wait"}},
		{name: "room with no rows", as: "admin", method: "POST", path: "/api/admin/rooms",
			body: map[string]any{"name": "Lab2", "rows": 0, "cols": 3}, status: 400, code: "INVALID_FIELD", mentions: []string{"rows"}},
		{name: "room too large", as: "admin", method: "PUT", path: "/api/admin/room/Lab1",
			body: map[string]any{"cols": 51}, status: 400, code: "INVALID_FIELD", mentions: []string{"cols"}},
		{name: "duplicate room", as: "admin", method: "POST", path: "/api/admin/rooms",
			body: map[string]any{"name": "Lab1", "rows": 3, "cols": 3}, status: 409, code: "CONFLICT"},
		{name: "account with an unknown role", as: "admin", method: "POST", path: "/api/admin/accounts",
			body: map[string]any{"username": "eve", "password": "long enough password", "role": "god"}, status: 400, code: "INVALID_FIELD", mentions: []string{"role"}},
		{name: "account with a short password", as: "admin", method: "POST", path: "/api/admin/accounts",
			body: map[string]any{"username": "eve", "password": "short", "role": "viewer"}, status: 400, code: "INVALID_FIELD", mentions: []string{"password"}},
	}

	if len(cases) < 35 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			beforeDB := settle(t, ts, db)
			beforeAPI := apiSnapshot(t, a, ag.PCID, ag2.PCID)
			var res response
			switch c.as {
			case "anon":
				res = ts.do(nil, c.method, c.path, c.body)
			case "agent":
				res = ag.do(c.method, c.path, c.body)
			case "agent2":
				res = ag2.do(c.method, c.path, c.body)
			case "admin":
				res = a.do(c.method, c.path, c.body)
			default:
				t.Fatalf("unknown caller %q", c.as)
			}
			checkEnvelope(t, res, c.status, c.code, c.mentions...)
			afterDB := settle(t, ts, db)
			if c.path == "/api/client/register" && c.status == http.StatusForbidden {
				// A wrong PIN is counted against its address (handlers/limits.go): one row, the
				// only change it makes.
				if added := len(afterDB["auth_failures"]) - len(beforeDB["auth_failures"]); added != 1 {
					t.Errorf("a wrong PIN added %d failures, want 1", added)
				}
				afterDB["auth_failures"] = beforeDB["auth_failures"]
			}
			if d := diffDumps(beforeDB, afterDB); d != "" {
				t.Errorf("a refused request changed the database:\n%s", d)
			}
			afterAPI := apiSnapshot(t, a, ag.PCID, ag2.PCID)
			for k, v := range beforeAPI {
				if afterAPI[k] != v {
					t.Errorf("a refused request changed %s:\n  before: %s\n  after:  %s", k, v, afterAPI[k])
				}
			}
			if c.after != nil {
				c.after(t)
			}
		})
	}
}

// A body without Content-Length (chunked) is cut off at the limit too.
func TestChunkedOversizedBody(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	before := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200).Raw
	body := hugeProcessHeartbeat("M1", 5<<20)
	req, err := http.NewRequest("POST", ts.URL+"/api/client/heartbeat", io.MultiReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if req.ContentLength != 0 {
		t.Fatalf("the request should be chunked, has Content-Length %d", req.ContentLength)
	}
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	checkEnvelope(t, r, 413, "BODY_TOO_LARGE")
	if after := a.do("GET", "/api/admin/pc/"+itoa(ag.PCID), nil).must(t, 200).Raw; after != before {
		t.Fatalf("a refused chunked heartbeat changed the PC:\n%s\n%s", before, after)
	}
}
