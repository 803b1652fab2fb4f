package handlers_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

var updateShapes = flag.Bool("update-shapes", false, "rewrite testdata/api_shapes.txt from this server's answers")

// The JSON shape (members and their JSON types, nested) of every admin API answer and of the
// agent API's; the envelope's status by its value. The published Python clients read these; a
// change of shape must be a decision, made by rewriting the file with -update-shapes and
// reviewing its diff.
//
//	go test -run TestAnswerShapes ./handlers/ -update-shapes
func TestAnswerShapes(t *testing.T) {
	// Polls come seconds apart in a lab; here the clone's come at once, so the poll rate may not
	// refuse them, and they tell their copies' addresses.
	// No batch flush while the answers are recorded: the outage's end (the PC polls again) would
	// reach the history or not depending on how long the run takes.
	ts := newTestServer(t, func(c *handlers.Config, f *fleet.Config) {
		c.TrustProxy, f.PollBurst, f.FlushEvery = true, 100, time.Hour
	})
	a := ts.admin()
	var lines []string
	answer := func(name string, status int, r response) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d, want %d: %s", name, r.Status, status, r.Raw)
		}
		if status != 200 {
			name += fmt.Sprint(" -> ", status)
		}
		lines = append(lines, name+" "+shape(r.Body, true))
	}
	record := func(name string, r response) {
		t.Helper()
		answer(name, 200, r)
	}

	record("GET /healthz", ts.do(nil, "GET", "/healthz", nil))
	record("GET /api/client/version (no build)", ts.do(nil, "GET", "/api/client/version", nil))
	build := ts.upload(a, readFile(t, standin(t, "linux", "1.2.3")), "Notes.", false)
	record("POST /api/admin/agent-builds", build)
	record("GET /api/client/version (a build)", ts.do(nil, "GET", "/api/client/version?os=linux&arch="+runtime.GOARCH, nil))

	pin, pinID := ts.pinWithID(a, "multi")
	ag := ts.register(pin, "SHAPE-1")
	ag2 := ts.register(pin, "SHAPE-2") // polls, with no heartbeat in full
	ag2.do("POST", "/api/client/commands", map[string]any{"machine_id": ag2.MachineID}).must(t, 200)
	ag3 := ts.register(pin, "SHAPE-3")
	id, id2 := itoa(ag.PCID), itoa(ag2.PCID)
	again := ag3.do("POST", "/api/client/register", map[string]any{"machine_id": ag3.MachineID, "hostname": "LAB-SHAPE-3",
		"mac_address": "A1:B2:C3:D4:E5:F6"})
	record("POST /api/client/register (with its token)", again)
	ag3.Token = again.get("agent_token").(string)
	record("POST /api/client/heartbeat", ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
		"system_info": map[string]any{"cpu_usage": 10.0, "ram_usage_percent": 20.0, "ram_used": 3.0, "uptime": 100,
			"current_user": "kim", "ip_address": "192.168.1.101", "processes": []string{"explorer.exe"},
			"disk_usage": map[string]any{`C:\`: map[string]any{"total_gb": 100.0, "used_gb": 50.0, "free_gb": 50.0, "percent": 50.0}}}}))
	// An outage, for the history.
	record("POST /api/client/offline", ag.do("POST", "/api/client/offline", map[string]any{"machine_id": ag.MachineID}))
	// Two machines from one image take turns as one PC: a clone suspect with its copies.
	cloned := ts.register(pin, "SHAPE-CLONED")
	for i := range 6 {
		ts.do(nil, "POST", "/api/client/commands", map[string]any{"machine_id": cloned.MachineID, "instance_id": fmt.Sprint("copy-", i%2)},
			append(from(fmt.Sprint("10.0.0.", 11+i%2)), "Authorization", "Bearer "+cloned.Token)...).must(t, 200)
	}

	sent := a.do("POST", "/api/admin/pc/"+id+"/command", map[string]any{"type": "execute", "parameters": map[string]any{"command": "hostname"}})
	record("POST /api/admin/pc/:id/command", sent)
	cmd := itoa(sent.num("command_id"))
	record("POST /api/client/commands (a command)", ag.poll(nil))
	record("POST /api/client/commands/:id/result", ag.do("POST", "/api/client/commands/"+cmd+"/result",
		map[string]any{"status": "success", "output": "LAB", "exit_code": 0}))
	record("POST /api/client/commands (none)", ag.poll(nil))

	record("POST /api/admin/rooms", a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab1", "rows": 2, "cols": 2}))
	record("PUT /api/admin/room/:name", a.do("PUT", "/api/admin/room/Lab1", map[string]any{"rows": 3, "cols": 3}))
	record("PUT /api/admin/pc/:id/seat", a.do("PUT", "/api/admin/pc/"+id+"/seat", map[string]any{"room": "Lab1", "row": 1, "col": 1}))
	a.do("PUT", "/api/admin/pc/"+id2+"/seat", map[string]any{"room": "Lab1", "row": 2, "col": 2}).must(t, 200)
	record("PUT /api/admin/pc/:id/seat (unplaced)", a.do("PUT", "/api/admin/pc/"+id2+"/seat", map[string]any{"room": nil}))
	record("PUT /api/admin/pc/:id/verified", a.do("PUT", "/api/admin/pc/"+id2+"/verified", map[string]any{"verified": false}))
	// Second installs asking for enrolled PCs' identities (their tokens in use) wait for approval.
	for _, pc := range []*agent{ag, ag2} {
		answer("POST /api/client/register (a second install)", 403, ts.do(nil, "POST", "/api/client/register", map[string]any{
			"machine_id": pc.MachineID, "pin": ts.pin(a, "single"), "hostname": "LAB-X", "mac_address": "A1:B2:C3:D4:E5:F7"}))
	}

	for _, path := range []string{"/status", "/pcs", "/pcs/unverified", "/pc/" + id, "/pc/" + id + "/commands",
		"/pc/" + id + "/history", "/command/" + cmd, "/rooms", "/registration-tokens", "/agent-builds",
		"/reenrolments", "/clones", "/accounts"} {
		record("GET /api/admin"+strings.NewReplacer("/"+id, "/:id", "/"+cmd, "/:id").Replace(path), a.do("GET", "/api/admin"+path, nil))
	}
	record("GET /api/admin/pc/:id (unplaced, unverified, no full heartbeat)", a.do("GET", "/api/admin/pc/"+id2, nil))
	requests := items(t, a.do("GET", "/api/admin/reenrolments", nil).must(t, 200), "reenrolments")
	for i, decision := range []string{"refuse", "approve"} {
		record("POST /api/admin/reenrolment/:id/"+decision,
			a.do("POST", fmt.Sprintf("/api/admin/reenrolment/%.0f/%s", requests[i]["id"], decision), nil))
	}

	record("POST /api/admin/pc/:id/shutdown", a.do("POST", "/api/admin/pc/"+id+"/shutdown", map[string]any{"delay": 60}))
	record("POST /api/admin/pc/:id/reboot", a.do("POST", "/api/admin/pc/"+id+"/reboot", nil))
	record("POST /api/admin/pc/:id/execute", a.do("POST", "/api/admin/pc/"+id+"/execute", map[string]any{"command": "dir"}))
	record("DELETE /api/admin/pc/:id/commands/pending", a.do("DELETE", "/api/admin/pc/"+id+"/commands/pending", nil))
	record("POST /api/admin/commands/bulk", a.do("POST", "/api/admin/commands/bulk",
		map[string]any{"pc_ids": []int64{ag.PCID}, "type": "message", "parameters": map[string]any{"message": "hi"}}))
	created := a.do("POST", "/api/admin/registration-token", map[string]any{"usage_type": "single"})
	record("POST /api/admin/registration-token", created)
	record("DELETE /api/admin/registration-token/:token", a.do("DELETE", "/api/admin/registration-token/"+created.get("token").(string), nil))
	record("DELETE /api/admin/registration-tokens/:id", a.do("DELETE", "/api/admin/registration-tokens/"+itoa(pinID), nil))
	record("POST /api/admin/accounts", a.do("POST", "/api/admin/accounts",
		map[string]any{"username": "lee", "password": "lee first password", "role": "viewer"}))
	record("PUT /api/admin/account/:username/password", a.do("PUT", "/api/admin/account/lee/password",
		map[string]any{"new_password": "lee second password"}))
	record("POST /api/admin/password", a.do("POST", "/api/admin/password",
		map[string]any{"current_password": testPassword, "new_password": testPassword + " 2"}))
	record("DELETE /api/admin/agent-build/:id", a.do("DELETE", "/api/admin/agent-build/"+itoa(build.num("build.id")), nil))
	record("DELETE /api/admin/pc/:id", a.do("DELETE", "/api/admin/pc/"+id, nil))
	record("DELETE /api/admin/room/:name", a.do("DELETE", "/api/admin/room/Lab1", nil))
	record("POST /api/client/shutdown", ag3.do("POST", "/api/client/shutdown", map[string]any{"machine_id": ag3.MachineID}))

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

// shape writes a JSON value's structure: objects as {member:shape ...} in member order, arrays
// as [the distinct shapes of their elements, | between], and scalars by JSON type; a top-level
// status ("success", "ok", "error") by its value, which clients compare.
func shape(v any, top bool) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			if s, ok := v[k].(string); ok && top && k == "status" {
				parts[i] = fmt.Sprintf("%s:%q", k, s)
				continue
			}
			parts[i] = k + ":" + shape(v[k], false)
		}
		return "{" + strings.Join(parts, " ") + "}"
	case []any:
		var elems []string
		for _, e := range v {
			if s := shape(e, false); !slices.Contains(elems, s) {
				elems = append(elems, s)
			}
		}
		sort.Strings(elems)
		return "[" + strings.Join(elems, " | ") + "]"
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
