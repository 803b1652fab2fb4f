package handlers_test

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// The exact example bodies of the published API document (WCMS API 0.8.6, restated in
// docs/API.md) must all succeed.
func TestSeedDocumentExamples(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")

	res := ts.do(nil, "GET", "/api/client/version", nil).must(t, 200)
	if res.get("status") != "success" || res.get("version") == nil || !strings.HasPrefix(res.get("download_url").(string), ts.URL) {
		t.Fatalf("version: %s", res.Raw)
	}

	reg := `{
  "machine_id": "A1B2C3D4E5F6",
  "pin": "` + pin + `",
  "hostname": "LAB-PC-01",
  "mac_address": "A1:B2:C3:D4:E5:F6",
  "ip_address": "192.168.1.100",
  "cpu_model": "Intel Core i5-9400",
  "cpu_cores": 6,
  "cpu_threads": 6,
  "ram_total": 16.0,
  "disk_info": {
    "C:\\": {"total_gb": 237.0, "fstype": "NTFS"}
  },
  "os_edition": "Windows 10 Pro",
  "os_version": "10.0.19045"
}`
	res = ts.do(nil, "POST", "/api/client/register", reg).must(t, 200)
	if res.get("status") != "success" || res.get("message") != "Registration successful" || res.num("pc_id") == 0 {
		t.Fatalf("register: %s", res.Raw)
	}
	pcID := res.num("pc_id")

	full := `{
  "machine_id": "A1B2C3D4E5F6",
  "full_update": true,
  "system_info": {
    "cpu_usage": 45.2,
    "ram_used": 8.5,
    "ram_usage_percent": 53.1,
    "disk_usage": {
      "C:\\": {"used_gb": 107.2, "free_gb": 129.8, "percent": 45.2}
    },
    "current_user": "student",
    "uptime": 86400,
    "ip_address": "192.168.1.100",
    "processes": ["chrome.exe", "Code.exe", "python.exe"]
  }
}`
	res = ts.do(nil, "POST", "/api/client/heartbeat", full).must(t, 200)
	if res.get("message") != "Heartbeat received" || res.get("ip_changed") != false {
		t.Fatalf("full heartbeat: %s", res.Raw)
	}
	light := `{
  "machine_id": "A1B2C3D4E5F6",
  "full_update": false,
  "system_info": {
    "cpu_usage": 52.1,
    "ram_usage_percent": 58.3,
    "ip_address": "192.168.1.101"
  }
}`
	res = ts.do(nil, "POST", "/api/client/heartbeat", light).must(t, 200)
	if res.get("ip_changed") != true {
		t.Fatalf("light heartbeat with a new IP: %s", res.Raw)
	}

	// The flat heartbeat inside a poll (docs/API.md, Agent API).
	poll := `{
  "machine_id": "A1B2C3D4E5F6",
  "heartbeat": {
    "cpu_usage": 52.1,
    "ram_usage_percent": 58.3,
    "ip_address": "192.168.1.101"
  }
}`
	res = ts.do(nil, "POST", "/api/client/commands", poll).must(t, 200)
	if res.get("status") != "success" || res.get("data.has_command") != false || res.get("data.command") != nil ||
		res.get("data.heartbeat_processed") != true || res.get("data.ip_changed") != false {
		t.Fatalf("poll: %s", res.Raw)
	}
	// Without a heartbeat.
	res = ts.do(nil, "POST", "/api/client/commands", `{"machine_id": "A1B2C3D4E5F6"}`).must(t, 200)
	if res.get("data.heartbeat_processed") != false {
		t.Fatalf("poll without heartbeat: %s", res.Raw)
	}

	// The admin sends the documented shutdown; the singular poll path with the nested heartbeat
	// (docs/API.md, Agent API) delivers it.
	cmd := a.do("POST", "/api/admin/pc/"+itoa(pcID)+"/shutdown", `{"delay": 60, "message": "System maintenance"}`).must(t, 200)
	cmdID := cmd.num("command_id")
	res = ts.do(nil, "POST", "/api/client/command",
		`{"machine_id":"A1B2C3D4E5F6","heartbeat":{"full_update":false,"system_info":{"cpu_usage":1,"ram_usage_percent":2,"ip_address":"192.168.1.101"}}}`).must(t, 200)
	if res.get("data.has_command") != true || res.num("data.command.id") != cmdID || res.get("data.command.type") != "shutdown" ||
		res.num("data.command.parameters.delay") != 60 || res.get("data.command.parameters.message") != "System maintenance" ||
		res.num("data.command.timeout") != 300 || res.num("data.command.priority") != 5 {
		t.Fatalf("delivered command: %s", res.Raw)
	}

	res = ts.do(nil, "POST", "/api/client/commands/"+itoa(cmdID)+"/result", `{"status": "success", "output": "종료 명령 실행됨"}`).must(t, 200)
	if res.get("data.message") != "Result recorded" || res.num("data.command_id") != cmdID || res.get("data.final_status") != "success" {
		t.Fatalf("result: %s", res.Raw)
	}
	// The error example of the document, on a second command.
	exec := a.do("POST", "/api/admin/pc/"+itoa(pcID)+"/execute", `{"command": "ipconfig /all"}`).must(t, 200)
	ts.do(nil, "POST", "/api/client/commands", `{"machine_id": "A1B2C3D4E5F6"}`).must(t, 200)
	res = ts.do(nil, "POST", "/api/client/commands/"+itoa(exec.num("command_id"))+"/result",
		`{"status": "error", "output": "Permission denied", "error_message": "관리자 권한 필요", "exit_code": 1}`).must(t, 200)
	if res.get("data.final_status") != "error" {
		t.Fatalf("error result: %s", res.Raw)
	}
	got := a.do("GET", "/api/admin/command/"+itoa(exec.num("command_id")), nil).must(t, 200)
	if got.get("command.status") != "error" || got.num("command.exit_code") != 1 || got.get("command.error_message") != "관리자 권한 필요" {
		t.Fatalf("stored error result: %s", got.Raw)
	}

	res = ts.do(nil, "POST", "/api/client/shutdown", `{"machine_id": "A1B2C3D4E5F6"}`).must(t, 200)
	if res.get("status") != "success" {
		t.Fatalf("shutdown: %s", res.Raw)
	}
	hist := a.do("GET", "/api/admin/pc/"+itoa(pcID)+"/history", nil).must(t, 200)
	if h := hist.get("history").([]any); len(h) != 1 || h[0].(map[string]any)["reason"] != "admin_shutdown" {
		t.Fatalf("after a delivered shutdown command the outage reason is admin_shutdown: %s", hist.Raw)
	}
}

func TestUnknownMachineIsPCNotFound(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/client/heartbeat", `{"machine_id":"NOPE","full_update":false,"system_info":{"cpu_usage":1}}`},
		{"POST", "/api/client/commands", `{"machine_id":"NOPE"}`},
		{"POST", "/api/client/command", `{"machine_id":"NOPE"}`},
		{"GET", "/api/client/commands?machine_id=NOPE&timeout=1", ""},
		{"POST", "/api/client/shutdown", `{"machine_id":"NOPE"}`},
		{"POST", "/api/client/offline", `{"machine_id":"NOPE"}`},
	} {
		t.Run(c.method+c.path, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			res := ts.do(nil, c.method, c.path, body).must(t, 404)
			if res.get("status") != "error" || res.get("error.code") != "PC_NOT_FOUND" ||
				res.get("error.message") != "PC not registered: NOPE" || res.get("message") != "PC not registered: NOPE" {
				t.Fatalf("envelope: %s", res.Raw)
			}
		})
	}
}

func TestRebootIsStoredAndSentAsRestart(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	ag.poll(nil).must(t, 200) // on: a restart is not queued for a PC that is off
	for _, path := range []string{"/reboot", "/command"} {
		body := any(nil)
		if path == "/command" {
			body = map[string]any{"type": "reboot", "parameters": map[string]any{"delay": 5}}
		}
		id := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+path, body).must(t, 200).num("command_id")
		if got := a.do("GET", "/api/admin/command/"+itoa(id), nil).get("command.type"); got != "restart" {
			t.Fatalf("%s stored as %v", path, got)
		}
		if res := ag.poll(nil).must(t, 200); res.get("data.command.type") != "restart" {
			t.Fatalf("%s sent as %s", path, res.Raw)
		}
	}
}

func TestLongPollDeliversWithinMilliseconds(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	for _, mode := range []string{"post-wait", "get-timeout"} {
		t.Run(mode, func(t *testing.T) {
			var wg sync.WaitGroup
			var res response
			wg.Add(1)
			go func() {
				defer wg.Done()
				if mode == "post-wait" {
					res = ag.poll(map[string]any{"wait": 10})
				} else {
					res = ag.do("GET", "/api/client/commands?machine_id=M1&timeout=10", nil)
				}
			}()
			time.Sleep(200 * time.Millisecond) // let the poll park
			id := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
			wg.Wait()
			if res.Status != 200 || res.num("data.command.id") != id {
				t.Fatalf("long-poll answer: %d %s", res.Status, res.Raw)
			}
		})
	}
	// With nothing queued, the wait runs out and the answer says so.
	res := ag.poll(map[string]any{"wait": 0.3}).must(t, 200)
	if res.get("data.has_command") != false {
		t.Fatalf("empty long-poll: %s", res.Raw)
	}
}

// The published Python client 0.8.x sends disk_info, disk_usage and processes as JSON strings,
// sizes in bytes and MB, heartbeats without full_update, and system_info with the registration.
func TestPublishedClientShapes(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "single")
	reg := map[string]any{
		"machine_id": "PY-CLIENT", "pin": pin, "hostname": "LAB-PY", "mac_address": "00:11:22:33:44:55",
		"cpu_model": "Intel64 Family 6", "cpu_cores": 4, "cpu_threads": 8, "ram_total": 16384,
		"disk_info":  `{"C:\\": {"total": 255086997504, "fstype": "NTFS", "mountpoint": "C:\\"}}`,
		"os_edition": "Windows 10", "os_version": "10.0.19045",
		"system_info": map[string]any{"cpu_usage": 3.5, "ram_used": 8192, "ram_usage_percent": 50.0,
			"disk_usage": `{"C:\\": {"used": 107374182400, "free": 147712815104, "percent": 42.1}}`,
			"ip_address": "10.1.2.3", "current_user": "student", "uptime": 3600, "processes": `["chrome.exe", "hwp.exe"]`},
	}
	pcID := ts.do(nil, "POST", "/api/client/register", reg).must(t, 200).num("pc_id")
	pc := a.do("GET", "/api/admin/pc/"+itoa(pcID), nil).must(t, 200)
	if pc.get("pc.specs.ram_total") != 16.0 || pc.get("pc.current_user") != "student" || len(pc.get("pc.processes").([]any)) != 2 {
		t.Fatalf("registration with the client's shapes (%v %v %v): %s", pc.get("pc.specs.ram_total"), pc.get("pc.current_user"), pc.get("pc.processes"), pc.Raw)
	}
	disk := pc.get("pc.disks").([]any)[0].(map[string]any)
	if disk["mount"] != `C:\` || disk["total_gb"].(float64) < 237 || disk["total_gb"].(float64) > 238 || disk["used_gb"] != 100.0 || disk["fstype"] != "NTFS" {
		t.Fatalf("disk from bytes: %v", disk)
	}
	// A heartbeat without full_update that carries full members is a full heartbeat.
	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": "PY-CLIENT", "system_info": map[string]any{
		"cpu_usage": 9.0, "ram_used": 4096, "ram_usage_percent": 25.0, "disk_usage": `{}`, "ip_address": "10.1.2.3",
		"current_user": "teacher", "uptime": 7200, "processes": `["notepad.exe"]`}}).must(t, 200)
	pc = a.do("GET", "/api/admin/pc/"+itoa(pcID), nil).must(t, 200)
	if pc.get("pc.current_user") != "teacher" || pc.get("pc.ram_used") != 4.0 || pc.get("pc.processes").([]any)[0] != "notepad.exe" {
		t.Fatalf("full heartbeat without full_update: %s", pc.Raw)
	}
	// Its result carries error_message null.
	id := a.do("POST", "/api/admin/pc/"+itoa(pcID)+"/execute", map[string]any{"command": "ver"}).must(t, 200).num("command_id")
	ts.do(nil, "POST", "/api/client/commands", map[string]any{"machine_id": "PY-CLIENT"}).must(t, 200)
	ts.do(nil, "POST", "/api/client/commands/"+itoa(id)+"/result", `{"status":"success","output":"Microsoft Windows","error_message":null}`).must(t, 200)
}
