package handlers_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateShapes = flag.Bool("update-shapes", false, "rewrite testdata/api_shapes.txt from this server's answers")

// The JSON shape (members and their JSON types, nested) of every admin API answer and of the
// agent API's small ones. The published Python clients read these; a change of shape must be a
// decision, made by rewriting the file with -update-shapes and reviewing its diff.
//
//	go test -run TestAnswerShapes ./handlers/ -update-shapes
func TestAnswerShapes(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin, pinID := ts.pinWithID(a, "multi")
	ag := ts.register(pin, "SHAPE-1")
	ts.register(pin, "SHAPE-2")
	ag3 := ts.register(pin, "SHAPE-3")
	id := itoa(ag.PCID)
	ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 10.0, "ram_usage_percent": 20.0, "ram_used": 3.0, "uptime": 100,
			"current_user": "kim", "ip_address": "192.168.1.101", "processes": []string{"explorer.exe"},
			"disk_usage": map[string]any{`C:\`: map[string]any{"total_gb": 100.0, "used_gb": 50.0, "free_gb": 50.0, "percent": 50.0}}}}).must(t, 200)

	var lines []string
	record := func(name string, r response) {
		t.Helper()
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
		}
		lines = append(lines, name+" "+shape(r.Body))
	}
	sent := a.do("POST", "/api/admin/pc/"+id+"/command", map[string]any{"type": "execute", "parameters": map[string]any{"command": "hostname"}})
	record("POST /api/admin/pc/:id/command", sent)
	cmd := itoa(sent.num("command_id"))
	poll := ag.poll(nil)
	record("POST /api/client/commands (a command)", poll)
	record("POST /api/client/commands/:id/result", ag.do("POST", "/api/client/commands/"+cmd+"/result",
		map[string]any{"status": "success", "output": "LAB", "exit_code": 0}))
	record("POST /api/client/commands (none)", ag.poll(nil))

	for _, path := range []string{"/status", "/pcs", "/pcs/unverified", "/pc/" + id, "/pc/" + id + "/commands",
		"/pc/" + id + "/history", "/command/" + cmd, "/rooms", "/registration-tokens", "/agent-builds",
		"/reenrolments", "/clones", "/accounts"} {
		record("GET /api/admin"+strings.NewReplacer("/"+id, "/:id", "/"+cmd, "/:id").Replace(path), a.do("GET", "/api/admin"+path, nil))
	}
	record("POST /api/admin/pc/:id/shutdown", a.do("POST", "/api/admin/pc/"+id+"/shutdown", map[string]any{"delay": 60}))
	record("POST /api/admin/pc/:id/execute", a.do("POST", "/api/admin/pc/"+id+"/execute", map[string]any{"command": "dir"}))
	record("DELETE /api/admin/pc/:id/commands/pending", a.do("DELETE", "/api/admin/pc/"+id+"/commands/pending", nil))
	record("POST /api/admin/commands/bulk", a.do("POST", "/api/admin/commands/bulk",
		map[string]any{"pc_ids": []int64{ag.PCID}, "type": "message", "parameters": map[string]any{"message": "hi"}}))
	record("POST /api/admin/registration-token", a.do("POST", "/api/admin/registration-token", map[string]any{"usage_type": "single"}))
	record("DELETE /api/admin/registration-tokens/:id", a.do("DELETE", "/api/admin/registration-tokens/"+itoa(pinID), nil))
	record("POST /api/admin/rooms", a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab1", "rows": 2, "cols": 2}))
	record("GET /api/admin/rooms (one)", a.do("GET", "/api/admin/rooms", nil))
	// A second install asking for SHAPE-1's identity (its token in use) waits for approval.
	ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": ag.MachineID, "pin": ts.pin(a, "single"),
		"hostname": "LAB-X", "mac_address": "A1:B2:C3:D4:E5:F7"}).must(t, 403)
	record("GET /api/admin/reenrolments (one)", a.do("GET", "/api/admin/reenrolments", nil))
	record("PUT /api/admin/room/:name", a.do("PUT", "/api/admin/room/Lab1", map[string]any{"rows": 3, "cols": 3}))
	record("PUT /api/admin/pc/:id/seat", a.do("PUT", "/api/admin/pc/"+id+"/seat", map[string]any{"room": "Lab1", "row": 1, "col": 1}))
	record("PUT /api/admin/pc/:id/verified", a.do("PUT", "/api/admin/pc/"+id+"/verified", map[string]any{"verified": true}))
	record("POST /api/admin/accounts", a.do("POST", "/api/admin/accounts",
		map[string]any{"username": "lee", "password": "lee first password", "role": "viewer"}))
	record("PUT /api/admin/account/:username/password", a.do("PUT", "/api/admin/account/lee/password",
		map[string]any{"new_password": "lee second password"}))
	record("POST /api/admin/password", a.do("POST", "/api/admin/password",
		map[string]any{"current_password": testPassword, "new_password": testPassword + " 2"}))
	record("DELETE /api/admin/pc/:id", a.do("DELETE", "/api/admin/pc/"+id, nil))
	record("DELETE /api/admin/room/:name", a.do("DELETE", "/api/admin/room/Lab1", nil))
	record("GET /healthz", ts.do(nil, "GET", "/healthz", nil))
	record("POST /api/client/offline", ag3.do("POST", "/api/client/offline", map[string]any{"machine_id": ag3.MachineID}))

	got := strings.Join(lines, "\n") + "\n"
	file := filepath.Join("testdata", "api_shapes.txt")
	if *updateShapes {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Errorf("answer shapes changed; first difference:\n got: %s\nwant: %s", at(gl, i), at(wl, i))
				break
			}
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(nothing)"
}

// shape writes a JSON value's structure: objects as {member:shape ...} in member order, arrays as
// [shape of the first element], and scalars by JSON type.
func shape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shape(v[k])
		}
		return "{" + strings.Join(parts, " ") + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + shape(v[0]) + "]"
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
