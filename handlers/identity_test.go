package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/wire"
)

// Finding 1 of issue 10: a live PIN and a known machine_id took over a PC. Now a PIN enrols new
// PCs only; the newcomer waits for an operator, and the real agent keeps its identity, its
// commands and their secrets until an operator approves.
func TestPINCannotTakeOverEnrolledPC(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprint("legacy clients ", legacy), func(t *testing.T) {
			ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = legacy })
			a := ts.admin()
			pin := ts.pin(a, "multi")
			real := ts.register(pin, "LAB1-03")
			real.poll(nil).must(t, 200) // the agent uses its token from now on
			pcPath := "/api/admin/pc/" + itoa(real.PCID)
			secret := "Secret-Pass-9"
			cmd := a.do("POST", pcPath+"/command", map[string]any{"type": "change_password",
				"parameters": map[string]any{"username": "student", "new_password": secret}}).must(t, 200).num("command_id")

			attack := map[string]any{"machine_id": "LAB1-03", "pin": pin, "hostname": "EVIL", "mac_address": "02:00:00:00:00:01",
				"ip_address": "10.9.9.9"}
			res := ts.do(nil, "POST", "/api/client/register", attack)
			checkEnvelope(t, res, 403, wire.CodeReenrolPending, "operator must approve")
			pending, _ := res.get("agent_token").(string)
			if len(pending) != 64 || pending == real.Token {
				t.Fatalf("pending token %q", pending)
			}
			// Nothing of the PC changed; the real agent is still served and gets its command.
			if pc := a.do("GET", pcPath, nil).must(t, 200); pc.get("pc.hostname") != "LAB-LAB1-03" || pc.get("pc.mac_address") != "A1:B2:C3:D4:E5:F6" {
				t.Fatalf("the refused registration changed the PC: %s", pc.Raw)
			}
			bearer := []string{"Authorization", "Bearer " + pending}
			checkEnvelope(t, ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LAB1-03"}`, bearer...), 401, "INVALID_AGENT_TOKEN")
			if got := real.poll(nil).must(t, 200); got.num("data.command.id") != cmd || !strings.Contains(got.Raw, secret) {
				t.Fatalf("the real agent did not get its command: %s", got.Raw)
			}
			// Asking again with the pending token: still waiting; a PIN alone asks again.
			checkEnvelope(t, ts.do(nil, "POST", "/api/client/register", without(attack, "pin"), bearer...), 403, wire.CodeReenrolPending)

			// The operator sees old and new side by side; a viewer may look but not decide.
			list := items(t, a.do("GET", "/api/admin/reenrolments", nil).must(t, 200), "reenrolments")
			if len(list) != 1 || list[0]["hostname"] != "LAB-LAB1-03" || list[0]["new_hostname"] != "EVIL" ||
				list[0]["new_mac_address"] != "02:00:00:00:00:01" || list[0]["new_ip_address"] != "10.9.9.9" {
				t.Fatalf("re-enrolment list: %v", list)
			}
			id := itoa(int64(list[0]["id"].(float64)))
			view := ts.account(a, "view", "viewer")
			checkEnvelope(t, view.do("POST", "/api/admin/reenrolment/"+id+"/approve", nil), 403, "FORBIDDEN")

			a.do("POST", "/api/admin/reenrolment/"+id+"/approve", nil).must(t, 200)
			// Approved: the new install registers with its token and gets a fresh one; the old
			// agent is refused.
			res = ts.do(nil, "POST", "/api/client/register", without(attack, "pin"), bearer...).must(t, 200)
			fresh := res.get("agent_token").(string)
			checkEnvelope(t, real.poll(nil), 401, "INVALID_AGENT_TOKEN")
			ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LAB1-03"}`, "Authorization", "Bearer "+fresh).must(t, 200)
			if pc := a.do("GET", pcPath, nil).must(t, 200); pc.get("pc.hostname") != "EVIL" || pc.num("pc.id") != real.PCID {
				t.Fatalf("after approval: %s", pc.Raw)
			}
			if n := len(items(t, a.do("GET", "/api/admin/reenrolments", nil).must(t, 200), "reenrolments")); n != 0 {
				t.Fatalf("%d requests left after approval", n)
			}
		})
	}
}

// reenrolling enrols machine, whose agent then uses its token, and has a second install ask for
// its identity with a PIN: the first install, the second's registration body (with the PIN),
// its pending token and the request's id.
func reenrolling(t *testing.T, ts *testServer, a *admin, machine string) (real *agent, body map[string]any, pending, id string) {
	t.Helper()
	pin := ts.pin(a, "multi")
	real = ts.register(pin, machine)
	real.poll(nil).must(t, 200)
	body = map[string]any{"machine_id": machine, "pin": pin, "hostname": machine, "mac_address": "02:00:00:00:00:02"}
	pending = ts.do(nil, "POST", "/api/client/register", body).get("agent_token").(string)
	id = itoa(int64(items(t, a.do("GET", "/api/admin/reenrolments", nil).must(t, 200), "reenrolments")[0]["id"].(float64)))
	return real, body, pending, id
}

func TestRefusedReenrolment(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = false })
	a := ts.admin()
	real, body, pending, id := reenrolling(t, ts, a, "LAB1-04")
	checkEnvelope(t, ts.do(nil, "POST", "/api/admin/reenrolment/"+id+"/refuse", nil), 401, "UNAUTHORIZED")
	a.do("POST", "/api/admin/reenrolment/"+id+"/refuse", nil).must(t, 200)
	checkEnvelope(t, a.do("POST", "/api/admin/reenrolment/"+id+"/approve", nil), 404, "NOT_FOUND")
	checkEnvelope(t, ts.do(nil, "POST", "/api/client/register", without(body, "pin"), "Authorization", "Bearer "+pending),
		403, wire.CodeReenrolRefused, "refused")
	real.poll(nil).must(t, 200)
	if n := len(items(t, a.do("GET", "/api/admin/reenrolments", nil).must(t, 200), "reenrolments")); n != 0 {
		t.Fatalf("a refused request is still listed (%d)", n)
	}
	// The PC's own agent re-registering with its token drops nothing of its own.
	res := ts.do(nil, "POST", "/api/client/register", without(body, "pin"), "Authorization", "Bearer "+real.Token).must(t, 200)
	ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LAB1-04"}`, "Authorization", "Bearer "+res.get("agent_token").(string)).must(t, 200)
	checkEnvelope(t, real.poll(nil), 401, "INVALID_AGENT_TOKEN")
}

// The room page shows a waiting request with old and new facts; operators approve it there.
func TestReenrolmentOnRoomPage(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	real := ts.register(pin, "LAB1-05")
	real.poll(nil).must(t, 200)
	ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "LAB1-05", "pin": pin,
		"hostname": "<b>NEW</b>", "mac_address": "02:00:00:00:00:03"}).must(t, 403)
	view := ts.account(a, "view", "viewer")
	for name, who := range map[string]*admin{"admin": a, "viewer": view} {
		doc := htmlDoc(t, who.page("/?room=", false).must(t, 200))
		req := byTestID(t, doc, "reenrolment")
		if got := textOf(byTestID(t, req, "reenrolment-new")); !strings.Contains(got, "<b>NEW</b>") || !strings.Contains(got, "02:00:00:00:00:03") {
			t.Errorf("new install shown as %q", got)
		}
		if got := textOf(byTestID(t, req, "reenrolment-old")); !strings.Contains(got, "LAB-LAB1-05") {
			t.Errorf("current PC shown as %q", got)
		}
		if n := len(byTestIDAll(req, "reenrolment-approve")); (n == 1) != (who == a) {
			t.Errorf("%s sees %d approve buttons", name, n)
		}
	}
	id := attr(byTestID(t, htmlDoc(t, a.page("/alerts", true).must(t, 200)), "reenrolment"), "data-id")
	if res := view.form("POST", "/reenrolments/"+id+"/approve", nil, true); res.Status != http.StatusForbidden {
		t.Fatalf("a viewer approved: %d", res.Status)
	}
	if res := a.sendForm("POST", "/reenrolments/"+id+"/approve", nil, "HX-Request", "true"); res.Status != http.StatusForbidden {
		t.Fatalf("approval without the CSRF token: %d", res.Status)
	}
	doc := htmlDoc(t, a.form("POST", "/reenrolments/"+id+"/approve", nil, true).must(t, 200))
	if n := len(byTestIDAll(doc, "reenrolment")); n != 0 {
		t.Fatalf("%d requests shown after approval", n)
	}
	checkEnvelope(t, real.poll(nil), 401, "INVALID_AGENT_TOKEN")
}

// Finding 2: with legacy clients on, a machine_id alone acted as a PC that has a token, and a
// tokenless result was taken for any executing command.
func TestTokenlessCallsOnlyForTokenlessPCs(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients, c.TrustProxy = true, true })
	a := ts.admin()
	pin := ts.pin(a, "multi")
	ours := ts.register(pin, "OURS")
	ours.do("POST", "/api/client/commands", map[string]any{"machine_id": "OURS"}).must(t, 200)
	legacy := ts.register(pin, "LEGACY") // a published client: never sends its token
	lab := from("10.0.0.20")
	ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LEGACY"}`, lab...).must(t, 200)

	secret := "Secret-Pass-7"
	var cmds []int64
	for _, pc := range []*agent{ours, legacy} {
		cmds = append(cmds, a.do("POST", "/api/admin/pc/"+itoa(pc.PCID)+"/command", map[string]any{"type": "change_password",
			"parameters": map[string]any{"username": "student", "new_password": secret}}).must(t, 200).num("command_id"))
	}
	// Without its token, nothing acts as OURS: no heartbeat, no poll, no command, no secret.
	for _, call := range []struct{ path, body string }{
		{"/api/client/heartbeat", `{"machine_id":"OURS","full_update":true,"system_info":{"current_user":"mallory","ip_address":"10.6.6.6","processes":["x.exe"]}}`},
		{"/api/client/commands", `{"machine_id":"OURS","heartbeat":{"ip_address":"10.6.6.6"}}`},
		{"/api/client/command", `{"machine_id":"OURS"}`},
		{"/api/client/shutdown", `{"machine_id":"OURS"}`},
	} {
		res := ts.do(nil, "POST", call.path, call.body, from("10.6.6.6")...)
		checkEnvelope(t, res, 401, "INVALID_AGENT_TOKEN")
		if strings.Contains(res.Raw, secret) {
			t.Fatalf("%s gave away the secret: %s", call.path, res.Raw)
		}
	}
	checkEnvelope(t, ts.do(nil, "GET", "/api/client/commands?machine_id=OURS&timeout=0", nil), 401, "INVALID_AGENT_TOKEN")
	if pc := a.do("GET", "/api/admin/pc/"+itoa(ours.PCID), nil).must(t, 200); strings.Contains(pc.Raw, "mallory") ||
		strings.Contains(pc.Raw, "10.6.6.6") || pc.get("pc.is_online") != true {
		t.Fatalf("tokenless calls changed OURS: %s", pc.Raw)
	}
	// Both commands reach their own PCs.
	if got := ours.poll(nil).must(t, 200); got.num("data.command.id") != cmds[0] {
		t.Fatalf("OURS got %s", got.Raw)
	}
	if got := ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LEGACY"}`, lab...).must(t, 200); got.num("data.command.id") != cmds[1] {
		t.Fatalf("LEGACY got %s", got.Raw)
	}
	// A sweep of forged tokenless results from elsewhere takes nothing.
	for id := int64(1); id <= 20; id++ {
		res := ts.do(nil, "POST", "/api/client/commands/"+itoa(id)+"/result", `{"status":"success","output":"forged"}`, from("10.6.6.6")...)
		if res.Status == 200 {
			t.Fatalf("forged result for command %d taken: %s", id, res.Raw)
		}
	}
	// The real results are taken: by token, and tokenless from the address the command went to.
	ours.do("POST", "/api/client/commands/"+itoa(cmds[0])+"/result", `{"status":"success","output":"ours"}`).must(t, 200)
	ts.do(nil, "POST", "/api/client/commands/"+itoa(cmds[1])+"/result", `{"status":"success","output":"legacy"}`, lab...).must(t, 200)
	for i, want := range []string{"ours", "legacy"} {
		if c := a.do("GET", "/api/admin/command/"+itoa(cmds[i]), nil).must(t, 200); c.get("command.output") != want {
			t.Errorf("command %d: %s", cmds[i], c.Raw)
		}
	}
}

// Finding 8: PCs cloned from one enrolled image share machine_id and token and take turns; the
// server notices and says so, and one move to another address is not taken for a clone.
func TestClonedImageDetected(t *testing.T) {
	// Polls come seconds apart in a lab; here they come at once, so the poll rate may not refuse them.
	ts := newTestServer(t, func(c *handlers.Config, f *fleet.Config) {
		c.LegacyClients, c.TrustProxy, f.PollBurst = true, true, 100
	})
	a := ts.admin()
	pin := ts.pin(a, "multi")
	cloned, moved := ts.register(pin, "CLONED"), ts.register(pin, "MOVED")
	legacy := ts.register(pin, "LEGACY")
	poll := func(ag *agent, instance, addr string, token bool) {
		t.Helper()
		h := from(addr)
		if token {
			h = append(h, "Authorization", "Bearer "+ag.Token)
		}
		ts.do(nil, "POST", "/api/client/commands", map[string]any{"machine_id": ag.MachineID, "instance_id": instance}, h...).must(t, 200)
	}
	for i := range 5 {
		poll(cloned, "copy-a", "10.0.0.11", true)
		poll(cloned, "copy-b", "10.0.0.12", true)
		poll(legacy, "", fmt.Sprint("10.0.1.", 1+i%2), false) // published clients: told apart by address
		poll(moved, "only", fmt.Sprint("10.0.2.", min(i, 1)), true)
	}
	clones := items(t, a.do("GET", "/api/admin/clones", nil).must(t, 200), "clones")
	var got []string
	for _, c := range clones {
		var addrs []string
		for _, cp := range c["copies"].([]any) {
			addrs = append(addrs, cp.(map[string]any)["addr"].(string))
		}
		slices.Sort(addrs)
		got = append(got, fmt.Sprint(c["hostname"], " ", addrs))
	}
	// The registration came from the test's own address: a copy too, as far as the server knows.
	if want := "LAB-CLONED [10.0.0.11 10.0.0.12 127.0.0.1],LAB-LEGACY [10.0.1.1 10.0.1.2 127.0.0.1]"; strings.Join(got, ",") != want {
		t.Fatalf("clone suspects %v, want %s", got, want)
	}
	doc := htmlDoc(t, a.page("/?room=", false).must(t, 200))
	warnings := byTestIDAll(doc, "clone-suspect")
	if len(warnings) != 2 || attr(warnings[0], "data-pc") != itoa(cloned.PCID) {
		t.Fatalf("%d clone warnings on the room page, want CLONED and LEGACY", len(warnings))
	}
	if text := textOf(warnings[0]); !strings.Contains(text, "10.0.0.12") || !strings.Contains(text, "copy-a") || !strings.Contains(text, "uninstall -purge") {
		t.Errorf("the warning does not show the copies and the fix: %q", text)
	}
	if !strings.Contains(ts.logs.String(), "cloned image suspected") {
		t.Error("no warning in the log")
	}
}

// without returns body less the named fields.
func without(body map[string]any, drop ...string) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	return out
}

// While the published clients' tokenless mode is on, the status page says what it costs.
func TestLegacyBannerOnStatusPage(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LegacyClients = legacy })
		doc := htmlDoc(t, ts.admin().page("/status", false).must(t, 200))
		banners := byTestIDAll(doc, "legacy-banner")
		if (len(banners) == 1) != legacy {
			t.Fatalf("legacy clients %v: %d banners", legacy, len(banners))
		}
		if legacy && !strings.Contains(textOf(banners[0]), "-legacy-clients=false") {
			t.Errorf("the banner does not say how to turn it off: %q", textOf(banners[0]))
		}
	}
}

// Wrong PINs in flight at once reach the check no more often than the limit allows, and a right
// PIN does not wipe out the wrong ones tried before it.
func TestPINLimitCannotBeRaced(t *testing.T) {
	// Each server: 10 wrong PINs per address per window.
	setup := func() (*testServer, string, string) {
		ts := newTestServer(t)
		pin := ts.pin(ts.admin(), "multi")
		return ts, pin, unusedPIN(t, ts, pin)
	}
	reg := func(ts *testServer, machine, p string) response {
		return ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": machine, "pin": p,
			"hostname": "h", "mac_address": "00:00:5E:00:53:01"})
	}

	ts, _, wrong := setup()
	var wg sync.WaitGroup
	answers := make([]int, 100)
	for i := range answers {
		wg.Go(func() { answers[i] = reg(ts, "GUESS", wrong).Status })
	}
	wg.Wait()
	if n := strings.Count(fmt.Sprint(answers), "403"); n != 10 {
		t.Fatalf("%d of 100 concurrent wrong PINs were checked, want the limit of 10: %v", n, answers)
	}

	// Right PINs arriving together from one address (a room behind one router) are all taken.
	ts, pin, wrong := setup()
	for i := range answers[:30] {
		wg.Go(func() { answers[i] = reg(ts, fmt.Sprint("ROOM-", i), pin).Status })
	}
	wg.Wait()
	if n := strings.Count(fmt.Sprint(answers[:30]), "200"); n != 30 {
		t.Fatalf("%d of 30 concurrent right PINs from one address taken: %v", n, answers[:30])
	}
	for range 9 {
		checkEnvelope(t, reg(ts, "GUESS", wrong), 403, "INVALID_PIN")
	}
	reg(ts, "REAL-1", pin).must(t, 200)
	// A right PIN does not clear the wrong ones before it: the tenth wrong one still counts.
	checkEnvelope(t, reg(ts, "GUESS", wrong), 403, "INVALID_PIN")
	checkEnvelope(t, reg(ts, "REAL-2", pin), 429, "RATE_LIMITED")
}

// A long-poll the old install holds when an operator approves a new one takes nothing after:
// the command queued next goes to the new install.
func TestApprovalEndsTheOldInstallsLongPoll(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	old, body, pending, id := reenrolling(t, ts, a, "LAB1-06")

	held := make(chan response, 1)
	go func() { held <- old.poll(map[string]any{"wait": 3}) }()
	waitFor(t, 5*time.Second, "the old install's long-poll held", func() bool {
		snap, _ := ts.fleet.View(old.PCID)
		return snap.Online && ts.fleet.Stats().Polls >= 2
	})
	time.Sleep(100 * time.Millisecond) // into its wait
	a.do("POST", "/api/admin/reenrolment/"+id+"/approve", nil).must(t, 200)
	cmd := a.do("POST", "/api/admin/pc/"+itoa(old.PCID)+"/execute", map[string]any{"command": "hostname"}).must(t, 200).num("command_id")
	if got := (<-held).must(t, 200); got.get("data.has_command") != false {
		t.Fatalf("the old install's held poll took a command after the approval: %s", got.Raw)
	}
	fresh := ts.do(nil, "POST", "/api/client/register", without(body, "pin"), "Authorization", "Bearer "+pending).must(t, 200)
	got := ts.do(nil, "POST", "/api/client/commands", `{"machine_id":"LAB1-06"}`, "Authorization", "Bearer "+fresh.get("agent_token").(string)).must(t, 200)
	if got.num("data.command.id") != cmd {
		t.Fatalf("the new install did not get the command: %s", got.Raw)
	}
}
