package agent

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/internal/logtest"
	"github.com/wcms-lab/wcms/wire"
)

func registrations(f *fakeServer) int {
	n := 0
	f.snapshot(func(f *fakeServer) { n = len(f.registers) })
	return n
}

// polledWith tells whether the server has taken a poll carrying token.
func polledWith(f *fakeServer, token string) func() bool {
	return func() bool {
		ok := false
		f.snapshot(func(f *fakeServer) { ok = f.auth["Bearer "+token] })
		return ok
	}
}

// runUntilPolled runs an agent until the server has taken a poll with token, then stops it.
func runUntilPolled(t *testing.T, f *fakeServer, cfg Config, token string) {
	t.Helper()
	r := startAgent(t, cfg, &fakeExecutor{})
	eventually(t, "a poll with "+token, polledWith(f, token))
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

func readState(t *testing.T, dir string) ([]byte, state) {
	t.Helper()
	data, err := os.ReadFile(statePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	st, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return data, st
}

// The PIN serves the first enrolment only: agent.json holds the token, never the PIN.
func TestPINNotKeptAfterEnrolment(t *testing.T) {
	f := newFakeServer(t)
	dir := t.TempDir()
	runUntilPolled(t, f, testConfig(f, dir), "token-1")
	data, st := readState(t, dir)
	if bytes.Contains(data, []byte(f.pin)) || bytes.Contains(data, []byte(`"pin"`)) {
		t.Errorf("agent.json keeps the PIN:\n%s", data)
	}
	if st.AgentToken != "token-1" || st.PCID != 1 || st.MachineID != labPC.MachineID() {
		t.Errorf("agent.json = %+v, want the token, PC id and the hardware facts' machine id", st)
	}
}

// An agent.json written by an older agent: its PIN goes at load (a token is held), and its machine
// id stays what the PC enrolled under, so the upgraded agent polls as the same PC.
func TestOlderAgentJSON(t *testing.T) {
	for _, tt := range []struct {
		name, saved, want string
	}{
		{"with its machine id", `"machine_id": "OLD-SAVED-ID",`, "OLD-SAVED-ID"},
		{"without a machine id: the old computation", "", labPC.LegacyMachineID()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			f.pcs[tt.want] = &fakePC{id: 7, token: "old-token"}
			dir := t.TempDir()
			old := `{"server": "` + f.URL + `", "pin": "123456", ` + tt.saved + ` "pc_id": 7, "agent_token": "old-token"}`
			if err := os.WriteFile(statePath(dir), []byte(old), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(f, dir)
			cfg.Server, cfg.PIN = "", "" // the service runs with -data alone
			a, err := newAgent(t, cfg, &fakeExecutor{}, labPC, &logtest.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
			data, st := readState(t, dir)
			if bytes.Contains(data, []byte("123456")) || st.MachineID != tt.want || st.AgentToken != "old-token" {
				t.Errorf("agent.json after load:\n%s\nwant no PIN, machine id %s and the token", data, tt.want)
			}
			startAgent(t, cfg, &fakeExecutor{})
			eventually(t, "a poll as the enrolled PC", polledWith(f, "old-token"))
			if n := registrations(f); n != 0 {
				t.Errorf("%d registrations: the upgraded agent must not enrol again", n)
			}
		})
	}
}

// When the server forgets the PC the agent registers again with its token and no PIN; when that is
// refused it says to reinstall with a new PIN and keeps asking, slowly.
func TestReRegistersWithTokenWhenForgotten(t *testing.T) {
	f := newFakeServer(t)
	r := startAgent(t, testConfig(f, t.TempDir()), &fakeExecutor{})
	eventually(t, "first poll", polledWith(f, "token-1"))
	f.forget()
	eventually(t, "the log telling the admin to reinstall", func() bool {
		return strings.Contains(r.logs.String(), "this PC was removed from the server or its token is no longer valid: "+
			"reinstall with a new PIN: wcms-agent install -server "+f.URL+" -pin NEW_PIN")
	})
	eventually(t, "more attempts", func() bool { return registrations(f) >= 4 })
	f.snapshot(func(f *fakeServer) {
		for i, req := range f.registers[1:] {
			if req.PIN != "" || f.regAuth[i+1] != "token-1" {
				t.Errorf("re-registration %d: PIN %q, bearer %q; want no PIN and the token", i+1, req.PIN, f.regAuth[i+1])
			}
		}
	})
}

// `install -pin` run again on an enrolled PC proves the PC with its token: re-keyed, PIN not spent.
func TestInstallAgainReKeysWithToken(t *testing.T) {
	f := newFakeServer(t)
	dir := t.TempDir()
	for range 2 {
		a, err := newAgent(t, testConfig(f, dir), &fakeExecutor{}, labPC, &logtest.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		err = a.Register(t.Context())
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.snapshot(func(f *fakeServer) {
		if f.pinUses != 1 || !slices.Equal(f.regAuth, []string{"", "token-1"}) {
			t.Errorf("PIN spent %d times, bearers %q; want the second install proven by the first token", f.pinUses, f.regAuth)
		}
	})
	if _, st := readState(t, dir); st.AgentToken != "token-2" || st.PCID != 1 {
		t.Errorf("state %+v, want the same PC with the new token", st)
	}
}

// pendingInstall enrols labPC from one data directory and runs it, then installs it afresh (a
// reimaged PC) in another: Register answers ErrApprovalPending and saves the server's token.
func pendingInstall(t *testing.T, f *fakeServer) (enrolled *runningAgent, dir string) {
	t.Helper()
	enrolled = startAgent(t, testConfig(f, t.TempDir()), &fakeExecutor{})
	eventually(t, "the enrolled PC polling", polledWith(f, "token-1"))

	dir = t.TempDir()
	cfg := testConfig(f, dir)
	a, err := newAgent(t, cfg, &fakeExecutor{}, labPC, &logtest.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Register(t.Context())
	a.Close()
	if !errors.Is(err, ErrApprovalPending) {
		t.Fatalf("Register = %v, want ErrApprovalPending", err)
	}
	data, st := readState(t, dir)
	if st.AgentToken != "token-2" || st.PCID != 0 || bytes.Contains(data, []byte(f.pin)) {
		t.Fatalf("agent.json while pending:\n%s\nwant the pending token, no PC id, no PIN", data)
	}
	return enrolled, dir
}

// A fresh install on an enrolled PC waits for an operator, asking with its pending token and no
// PIN; once approved it works with the fresh token, and the old install's token no longer does.
func TestReenrolmentApproved(t *testing.T) {
	f := newFakeServer(t)
	old, dir := pendingInstall(t, f)
	cfg := testConfig(f, dir)
	cfg.PIN, cfg.ApprovalInterval = "", 20*time.Millisecond
	r := startAgent(t, cfg, &fakeExecutor{})
	eventually(t, "two more asks", func() bool { return registrations(f) >= 4 })
	if !strings.Contains(r.logs.String(), "waiting for an operator's approval") {
		t.Errorf("the log does not say the agent waits for approval:\n%s", r.logs.String())
	}
	f.snapshot(func(f *fakeServer) {
		for i, req := range f.registers[2:] {
			if req.PIN != "" || f.regAuth[i+2] != "token-2" {
				t.Errorf("ask %d: PIN %q, bearer %q; want the pending token alone", i, req.PIN, f.regAuth[i+2])
			}
		}
		f.auth = map[string]bool{}
		f.decision = "approve"
	})
	eventually(t, "the new install polling with a fresh token", polledWith(f, "token-3"))
	if _, st := readState(t, dir); st.AgentToken != "token-3" || st.PCID != 1 {
		t.Errorf("state after approval %+v, want PC 1 with the fresh token", st)
	}
	eventually(t, "the replaced install told to reinstall", func() bool {
		return strings.Contains(old.logs.String(), "its token is no longer valid: reinstall with a new PIN")
	})
}

// Refused by an operator, the agent says what to do and stops asking.
func TestReenrolmentRefused(t *testing.T) {
	f := newFakeServer(t)
	_, dir := pendingInstall(t, f)
	f.snapshot(func(f *fakeServer) { f.decision = "refuse" })
	cfg := testConfig(f, dir)
	cfg.PIN, cfg.ApprovalInterval = "", 20*time.Millisecond
	r := startAgent(t, cfg, &fakeExecutor{})
	eventually(t, "the refusal logged", func() bool {
		return strings.Contains(r.logs.String(), "an operator refused this install on the dashboard")
	})
	n := registrations(f)
	time.Sleep(300 * time.Millisecond) // 15 approval intervals
	if got := registrations(f); got != n {
		t.Errorf("%d registrations after the refusal: the agent must stop asking", got-n)
	}
	select {
	case <-r.done:
		t.Errorf("Run returned %v: a refused agent waits to be stopped, so a service manager does not restart it", r.err)
	default:
	}
	if _, st := readState(t, dir); st.AgentToken != "" {
		t.Errorf("the refused token %q stays in agent.json", st.AgentToken)
	}
}

// The instance id of this copy's hardware goes with every registration, poll and heartbeat.
func TestInstanceIDInEveryCall(t *testing.T) {
	f := newFakeServer(t)
	ex := &fakeExecutor{release: make(chan struct{})}
	f.enqueue(wire.Command{ID: 1, Type: wire.TypeExecute, Parameters: map[string]any{"command": "long"}})
	startAgent(t, testConfig(f, t.TempDir()), ex)
	eventually(t, "heartbeats while busy", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.instances["heartbeat"]) })
		return n >= 2
	})
	close(ex.release)
	want := labPC.InstanceID()
	f.snapshot(func(f *fakeServer) {
		for _, endpoint := range []string{"register", "poll", "heartbeat"} {
			ids := f.instances[endpoint]
			if len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return id != want }) {
				t.Errorf("%s carried instance ids %q, want %s in each", endpoint, ids, want)
			}
		}
	})
}

// The machine id is made once, at enrolment: a new network card afterwards changes the instance
// id, never the PC.
func TestMachineIDKeptWhenHardwareChanges(t *testing.T) {
	f := newFakeServer(t)
	dir := t.TempDir()
	runUntilPolled(t, f, testConfig(f, dir), "token-1")
	newNIC := labPC
	newNIC.MACs = []string{"00:1A:2B:3C:4D:99"}
	if newNIC.MachineID() == labPC.MachineID() {
		t.Fatal("the test's facts do not change the computed machine id")
	}
	f.snapshot(func(f *fakeServer) { f.instances = map[string][]string{} })
	startAgentOn(t, testConfig(f, dir), &fakeExecutor{}, newNIC)
	eventually(t, "polls after the change", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.instances["poll"]) })
		return n >= 2
	})
	f.snapshot(func(f *fakeServer) {
		if len(f.registers) != 1 || len(f.pcs) != 1 || f.pcs[labPC.MachineID()] == nil {
			t.Errorf("%d registrations, PCs %v: want the one PC enrolled under the first facts", len(f.registers), f.pcs)
		}
		if f.instances["poll"][0] != newNIC.InstanceID() {
			t.Errorf("instance id %s, want the new hardware's %s", f.instances["poll"][0], newNIC.InstanceID())
		}
	})
}

// -machine-id names the PC instead of the hardware facts, and is kept once enrolled.
func TestMachineIDOverride(t *testing.T) {
	f := newFakeServer(t)
	dir := t.TempDir()
	cfg := testConfig(f, dir)
	cfg.MachineID = "demo-pc.02"
	runUntilPolled(t, f, cfg, "token-1")
	if _, st := readState(t, dir); st.MachineID != "demo-pc.02" {
		t.Errorf("saved machine id %q, want the override", st.MachineID)
	}
	cfg.MachineID, cfg.PIN = "", ""
	f.snapshot(func(f *fakeServer) { f.auth = map[string]bool{} })
	startAgent(t, cfg, &fakeExecutor{})
	eventually(t, "a poll after a restart without the flag", polledWith(f, "token-1"))
	f.snapshot(func(f *fakeServer) {
		if len(f.pcs) != 1 || f.pcs["demo-pc.02"] == nil {
			t.Errorf("PCs %v, want the one named by the override", f.pcs)
		}
	})
}

// Without a token or a PIN nothing can be registered: the agent says so once and waits.
func TestNoCredential(t *testing.T) {
	f := newFakeServer(t)
	cfg := testConfig(f, t.TempDir())
	cfg.PIN = ""
	r := startAgentOn(t, cfg, &fakeExecutor{}, collect.Identity{OSID: "x"})
	eventually(t, "the log telling the admin to reinstall", func() bool {
		return strings.Contains(r.logs.String(), "no agent token and no PIN to register with: reinstall with a new PIN")
	})
	if n := registrations(f); n != 0 {
		t.Errorf("%d registrations sent without a credential", n)
	}
}
