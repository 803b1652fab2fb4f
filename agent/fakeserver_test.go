package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/agent/execute"
	"github.com/wcms-lab/wcms/wire"
)

// fakeServer is a minimal server that follows docs/API.md with no long-poll, but with the agent
// token and the re-enrolment rules of issue 10: a token re-keys its own PC with no PIN; a PIN
// enrols a new machine id, while for a known one it only asks an operator, whose decision the
// test sets in decision.
type fakeServer struct {
	*httptest.Server
	pin string

	mu          sync.Mutex
	pcs         map[string]*fakePC // by machine_id
	tokens      int                // tokens issued so far
	pinUses     int                // registrations a PIN was spent on
	decision    string             // "", approve or refuse: what an operator does with a pending install
	registers   []wire.RegisterRequest
	regAuth     []string            // the bearer token of each registration, in order
	instances   map[string][]string // instance ids seen, by endpoint
	queue       []wire.Command
	handed      map[int64]int
	resend      bool // hand every command out twice, as after a lost answer
	results     map[int64]wire.ResultRequest
	resultOrder []int64
	heartbeats  []heartbeatSeen
	auth        map[string]bool // Authorization headers seen on polls
	pollHeader  http.Header     // the last poll's headers
	shutdowns   int
	version     wire.VersionResponse
	build       []byte

	down        atomic.Bool // every request answers 503
	resultsDown atomic.Bool // results answer 503
}

// fakePC is an enrolled PC: its token, and the token of a new install waiting for approval.
type fakePC struct {
	id             int64
	token, pending string
}

type heartbeatSeen struct {
	full bool
	info *wire.SystemInfo
	poll bool
	flat bool // a poll's heartbeat in the flat shape
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{pin: "123456", pcs: map[string]*fakePC{}, handed: map[int64]int{},
		results: map[int64]wire.ResultRequest{}, auth: map[string]bool{}, instances: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/client/register", f.register)
	mux.HandleFunc("POST /api/client/commands", f.poll)
	mux.HandleFunc("POST /api/client/heartbeat", f.heartbeat)
	mux.HandleFunc("POST /api/client/commands/{id}/result", f.result)
	mux.HandleFunc("POST /api/client/shutdown", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.shutdowns++
		f.mu.Unlock()
		writeJSON(w, 200, map[string]string{"status": "success"})
	})
	mux.HandleFunc("GET /api/client/version", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, 200, f.version)
	})
	mux.HandleFunc("GET /download/build", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Write(f.build)
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			fail(w, 503, "DOWN", "server is restarting")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, wire.ErrorResponse{Status: "error", Message: msg, Error: wire.ErrorBody{Code: code, Message: msg}})
}

// decode reads r's JSON body into v, answering 400 when it is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		fail(w, 400, "INVALID_REQUEST", "bad body")
		return false
	}
	return true
}

func (f *fakeServer) register(w http.ResponseWriter, r *http.Request) {
	var req wire.RegisterRequest
	if !decode(w, r, &req) {
		return
	}
	if req.MachineID == "" {
		fail(w, 400, "INVALID_REQUEST", "bad body")
		return
	}
	bearer := bearer(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registers = append(f.registers, req)
	f.regAuth = append(f.regAuth, bearer)
	f.instances["register"] = append(f.instances["register"], req.InstanceID)
	pc := f.pcs[req.MachineID]
	switch {
	case pc != nil && bearer != "" && bearer == pc.token: // proven: re-keyed, no PIN needed
		pc.token = f.newToken()
	case pc != nil && bearer != "" && bearer == pc.pending:
		switch f.decision {
		case "approve":
			pc.token, pc.pending = f.newToken(), ""
		case "refuse":
			fail(w, 403, wire.CodeReenrolRefused, "An operator refused this install: check the PC, then reinstall with a new PIN")
			return
		default:
			f.askOperator(w, "") // as the real server: the caller already holds its pending token
			return
		}
	case req.PIN != f.pin:
		fail(w, 403, "INVALID_PIN", "Invalid or expired PIN")
		return
	case pc == nil:
		f.pinUses++
		pc = &fakePC{id: int64(len(f.pcs) + 1), token: f.newToken()}
		f.pcs[req.MachineID] = pc
	default: // a valid PIN for a known machine id, without its token: an operator decides
		f.pinUses++
		pc.pending = f.newToken()
		f.askOperator(w, pc.pending)
		return
	}
	writeJSON(w, 200, wire.RegisterResponse{Status: "success", Message: "Registration successful", PCID: pc.id, AgentToken: pc.token})
}

// askOperator answers that an operator must decide; pending is the token the install will hold
// if approved, given when the request is filed ("" when the install asks again with it).
func (f *fakeServer) askOperator(w http.ResponseWriter, pending string) {
	msg := "This PC is already enrolled; an operator must approve this new install on the dashboard"
	writeJSON(w, 403, wire.ErrorResponse{Status: "error", Message: msg,
		Error: wire.ErrorBody{Code: wire.CodeReenrolPending, Message: msg}, AgentToken: pending})
}

// newToken issues a token; f.mu is held.
func (f *fakeServer) newToken() string {
	f.tokens++
	return fmt.Sprintf("token-%d", f.tokens)
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// known answers PC_NOT_FOUND for an unknown machine and 401 for a token that is not the PC's,
// and records the caller's instance id under endpoint; f.mu is held.
func (f *fakeServer) known(w http.ResponseWriter, r *http.Request, machineID, endpoint, instanceID string) bool {
	pc, ok := f.pcs[machineID]
	if !ok {
		fail(w, 404, wire.CodePCNotFound, "PC not registered: "+machineID)
		return false
	}
	if bearer(r) != pc.token {
		fail(w, 401, "INVALID_AGENT_TOKEN", "invalid agent token")
		return false
	}
	f.instances[endpoint] = append(f.instances[endpoint], instanceID)
	return true
}

func (f *fakeServer) poll(w http.ResponseWriter, r *http.Request) {
	var req wire.PollRequest
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.known(w, r, req.MachineID, "poll", req.InstanceID) {
		return
	}
	f.auth[r.Header.Get("Authorization")] = true
	f.pollHeader = r.Header.Clone()
	data := wire.PollData{HeartbeatProcessed: req.Heartbeat != nil}
	if req.Heartbeat != nil {
		info, full := req.Heartbeat.Info()
		f.heartbeats = append(f.heartbeats, heartbeatSeen{full: full, info: info, poll: true, flat: req.Heartbeat.SystemInfo == nil})
	}
	if len(f.queue) > 0 {
		cmd := f.queue[0]
		f.handed[cmd.ID]++
		if !f.resend || f.handed[cmd.ID] >= 2 {
			f.queue = f.queue[1:]
		}
		data.HasCommand, data.Command = true, &cmd
	}
	writeJSON(w, 200, wire.PollResponse{Status: "success", Data: data})
}

func (f *fakeServer) heartbeat(w http.ResponseWriter, r *http.Request) {
	var req wire.HeartbeatRequest
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.known(w, r, req.MachineID, "heartbeat", req.InstanceID) {
		return
	}
	f.heartbeats = append(f.heartbeats, heartbeatSeen{full: req.IsFull(), info: req.SystemInfo})
	writeJSON(w, 200, wire.HeartbeatResponse{Status: "success", Message: "Heartbeat received"})
}

func (f *fakeServer) result(w http.ResponseWriter, r *http.Request) {
	if f.resultsDown.Load() {
		fail(w, 503, "DOWN", "try later")
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var req wire.ResultRequest
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handed[id] == 0 {
		fail(w, 404, "NOT_FOUND", "no such command")
		return
	}
	if _, dup := f.results[id]; dup {
		fail(w, 409, "CONFLICT", "result already recorded")
		return
	}
	f.results[id] = req
	f.resultOrder = append(f.resultOrder, id)
	writeJSON(w, 200, wire.ResultResponse{Status: "success", Data: wire.ResultData{Message: "Result recorded", CommandID: id, FinalStatus: req.Status}})
}

func (f *fakeServer) enqueue(cmds ...wire.Command) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, cmds...)
}

// forget deletes every PC, as an admin deleting it on the dashboard does.
func (f *fakeServer) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pcs = map[string]*fakePC{}
}

// snapshot runs fn with the server's state locked.
func (f *fakeServer) snapshot(fn func(f *fakeServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakeCollector reports fixed values, and the hardware facts it is given.
type fakeCollector struct{ id collect.Identity }

// labPC is the hardware the fake collector reports unless a test gives other facts.
var labPC = collect.Identity{OSID: "5b3d6a5a-8f1c-4e2b-9d7e-0f1a2b3c4d5e",
	SystemUUID: "4C4C4544-0038-3510-8052-B2C04F4E4D32", MACs: []string{"00:1A:2B:3C:4D:5E"}}

func (c fakeCollector) Identity(context.Context) collect.Identity { return c.id }

func (fakeCollector) Registration(context.Context) (wire.RegisterRequest, error) {
	return wire.RegisterRequest{Hostname: "lab-01", MACAddress: "AA:BB:CC:DD:EE:FF", CPUCores: 4}, nil
}

func (fakeCollector) Light(context.Context) *wire.SystemInfo {
	cpu, ram, ip := 12.5, 40.0, "10.0.0.7"
	return &wire.SystemInfo{CPUUsage: &cpu, RAMUsagePercent: &ram, IPAddress: &ip}
}

func (c fakeCollector) Full(ctx context.Context) *wire.SystemInfo {
	info := c.Light(ctx)
	user := `LAB\student`
	info.CurrentUser, info.Processes = &user, wire.Processes{"explorer.exe"}
	return info
}

// fakeExecutor records what it runs; a command whose type is "power" style gets an After.
type fakeExecutor struct {
	mu      sync.Mutex
	ran     []int64
	after   []int64
	release chan struct{} // when set, execute commands wait for it
	onAfter func(id int64)
}

func (e *fakeExecutor) Execute(ctx context.Context, cmd wire.Command) execute.Result {
	e.mu.Lock()
	e.ran = append(e.ran, cmd.ID)
	release := e.release
	e.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
		}
	}
	code := 0
	res := execute.Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("ran %s %v", cmd.Type, cmd.Parameters["command"]), ExitCode: &code}
	if cmd.Type == wire.TypeShutdown || cmd.Type == wire.TypeRestart {
		res.After = func(context.Context) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.after = append(e.after, cmd.ID)
			if e.onAfter != nil {
				e.onAfter(cmd.ID)
			}
			return nil
		}
	}
	return res
}

func (e *fakeExecutor) runs() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.ran...)
}

// eventually fails the test when cond does not hold within 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
