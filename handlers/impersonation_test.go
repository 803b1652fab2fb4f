package handlers_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// security_test.go's TestAgentImpersonation covers every agent route refusing a missing, foreign
// or made-up token against a PC that never came online. These add what it leaves open: refused
// calls against a PC that is online with a pending command, and which calls legacy mode lets
// through.

// forgedTokens are the credentials a rogue PC could try for PC A.
func forgedTokens(other *agent) []struct{ name, header string } {
	return []struct{ name, header string }{
		{"no token", ""},
		{"another PC's token", "Bearer " + other.Token},
		{"a made-up token", "Bearer " + strings.Repeat("cd", 32)},
	}
}

func TestImpersonationChangesNothingOnALivePC(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = false })
	a := ts.admin()
	pin := ts.pin(a, "multi")
	pcA, pcB := ts.register(pin, "LIVE-A"), ts.register(pin, "LIVE-B")
	pcA.poll(nil).must(t, 200) // A is online with CPU 12.5 from its own poll
	pending := a.do("POST", "/api/admin/pc/"+itoa(pcA.PCID)+"/execute", map[string]any{"command": "whoami"}).must(t, 200).num("command_id")
	detailOf := func() map[string]any {
		d := a.do("GET", "/api/admin/pc/"+itoa(pcA.PCID), nil).must(t, 200).get("pc").(map[string]any)
		delete(d, "last_seen") // the fields below are what a forged call could change
		delete(d, "updated_at")
		return d
	}
	before := detailOf()
	if before["is_online"] != true {
		t.Fatalf("A is not online: %v", before)
	}

	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/client/heartbeat", `{"machine_id":"LIVE-A","full_update":true,"system_info":{"cpu_usage":99,"current_user":"intruder","ip_address":"10.6.6.6"}}`},
		{"POST", "/api/client/commands", `{"machine_id":"LIVE-A","heartbeat":{"cpu_usage":99}}`},
		{"GET", "/api/client/commands?machine_id=LIVE-A&timeout=0", ""},
		{"POST", "/api/client/shutdown", `{"machine_id":"LIVE-A"}`},
		{"POST", "/api/client/offline", `{"machine_id":"LIVE-A"}`},
		{"POST", "/api/client/commands/" + itoa(pending) + "/result", `{"status":"success","output":"forged"}`},
	} {
		for _, tok := range forgedTokens(pcB) {
			t.Run(c.method+" "+c.path+" "+tok.name, func(t *testing.T) {
				var body any
				if c.body != "" {
					body = c.body
				}
				res := ts.do(nil, c.method, c.path, body, "Authorization", tok.header)
				switch {
				case strings.HasSuffix(c.path, "/result") && tok.name == "another PC's token":
					checkEnvelope(t, res, 403, "FORBIDDEN")
				default:
					checkEnvelope(t, res, 401, "INVALID_AGENT_TOKEN")
				}
			})
		}
	}

	after := detailOf()
	for _, k := range []string{"is_online", "cpu_usage", "current_user", "ip_address", "ip_history"} {
		if !reflect.DeepEqual(before[k], after[k]) {
			t.Errorf("%s changed from %v to %v", k, before[k], after[k])
		}
	}
	if h := items(t, a.do("GET", "/api/admin/pc/"+itoa(pcA.PCID)+"/history", nil).must(t, 200), "history"); len(h) != 0 {
		t.Errorf("refused shutdowns recorded outages: %v", h)
	}
	if st := a.do("GET", "/api/admin/command/"+itoa(pending), nil).must(t, 200).get("command.status"); st != "pending" {
		t.Fatalf("a refused poll touched A's command: %v", st)
	}
	// The command still goes to A, and only to A.
	if got := pcB.poll(nil).must(t, 200); got.get("data.has_command") != false {
		t.Fatalf("B got A's command: %s", got.Raw)
	}
	if got := pcA.poll(nil).must(t, 200).num("data.command.id"); got != pending {
		t.Fatalf("A polled %d, want %d", got, pending)
	}
}

func TestLegacyTokenlessCalls(t *testing.T) {
	ts := newTestServer(t) // LegacyClients on, as by default
	a := ts.admin()
	pin := ts.pin(a, "multi")
	pcA, pcB := ts.register(pin, "OLD-A"), ts.register(pin, "OLD-B")
	id := a.do("POST", "/api/admin/pc/"+itoa(pcA.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")

	// The published client sends no token: every documented call works.
	ts.do(nil, "POST", "/api/client/heartbeat", `{"machine_id":"OLD-A","full_update":false,"system_info":{"cpu_usage":5}}`).must(t, 200)
	if got := ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"OLD-A"}`).must(t, 200).num("data.command.id"); got != id {
		t.Fatalf("tokenless poll got %d, want %d", got, id)
	}
	// A token, when sent, must be right, even in legacy mode.
	for _, tok := range forgedTokens(pcB)[1:] {
		for _, c := range []struct{ path, body string }{
			{"/api/client/heartbeat", `{"machine_id":"OLD-A","system_info":{"cpu_usage":99}}`},
			{"/api/client/commands", `{"machine_id":"OLD-A"}`},
			{"/api/client/shutdown", `{"machine_id":"OLD-A"}`},
		} {
			checkEnvelope(t, ts.do(nil, "POST", c.path, c.body, "Authorization", tok.header), 401, "INVALID_AGENT_TOKEN")
		}
	}
	// B, with its own token or without one, cannot report A's command.
	checkEnvelope(t, pcB.do("POST", "/api/client/commands/"+itoa(id)+"/result", `{"status":"success","output":"forged"}`), 403, "FORBIDDEN")
	ts.do(nil, "POST", "/api/client/commands/"+itoa(id)+"/result", `{"status":"success","output":"legacy"}`).must(t, 200)
	if c := a.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200); c.get("command.output") != "legacy" {
		t.Fatalf("result: %s", c.Raw)
	}
	for _, path := range []string{"/api/client/shutdown", "/api/client/offline"} {
		ts.do(nil, "POST", path, `{"machine_id":"OLD-A"}`).must(t, 200)
	}
	if d := a.do("GET", "/api/admin/pc/"+itoa(pcA.PCID), nil).must(t, 200); d.get("pc.is_online") != false {
		t.Fatalf("tokenless shutdown left A online: %s", d.Raw)
	}
}

// Guessing credentials. TestPINBruteForce and TestLogin cover the lockout with small limits;
// these check the shipped defaults for PINs and the per-account limit on logins, which no single
// address reaches.

func TestPINBruteForceDefaults(t *testing.T) {
	ts := newTestServer(t) // 10 wrong PINs per address per 10 minutes
	a := ts.admin()
	pin := ts.pin(a, "single")
	wrong := unusedPIN(t, ts, pin)
	reg := func(p string) response {
		return ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "GUESS", "pin": p, "hostname": "h", "mac_address": "00:00:5E:00:53:01"})
	}
	for range 10 {
		checkEnvelope(t, reg(wrong), 403, "INVALID_PIN")
	}
	res := reg(pin)
	checkEnvelope(t, res, 429, "RATE_LIMITED")
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 || n > 600 {
		t.Fatalf("Retry-After %q, want 1 to 600 seconds", res.Header.Get("Retry-After"))
	}
}
