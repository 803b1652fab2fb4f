package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/agent"
	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/agent/execute"
	"github.com/wcms-lab/wcms/wire"
)

// herdCollector reports fixed values for one simulated PC.
type herdCollector struct{ id string }

// Identity gives each simulated PC hardware of its own; the agent enrols it under the
// -machine-id override (Config.MachineID), as several agents on one host do.
func (c herdCollector) Identity(context.Context) collect.Identity {
	return collect.Identity{SystemUUID: c.id}
}

func (c herdCollector) Registration(context.Context) (wire.RegisterRequest, error) {
	return wire.RegisterRequest{MachineID: c.id, Hostname: c.id, MACAddress: "AA:BB:CC:DD:EE:FF"}, nil
}

func (herdCollector) Light(context.Context) *wire.SystemInfo {
	cpu, ram, ip := 10.0, 20.0, "10.0.0.2"
	return &wire.SystemInfo{CPUUsage: &cpu, RAMUsagePercent: &ram, IPAddress: &ip}
}

func (c herdCollector) Full(ctx context.Context) *wire.SystemInfo { return c.Light(ctx) }

// herdExecutor counts the runs of every command; each takes hold to finish, so results made
// while the server is down have to wait in the spool.
type herdExecutor struct {
	hold time.Duration
	mu   sync.Mutex
	runs map[int64]int
}

func (e *herdExecutor) Execute(ctx context.Context, cmd wire.Command) execute.Result {
	e.mu.Lock()
	e.runs[cmd.ID]++
	e.mu.Unlock()
	select {
	case <-time.After(e.hold):
	case <-ctx.Done():
	}
	code := 0
	return execute.Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("done %d", cmd.ID), ExitCode: &code}
}

// reconnects records when each agent found the server again, from its log.
type reconnects struct {
	mu    sync.Mutex
	times []time.Time
}

func (r *reconnects) Enabled(context.Context, slog.Level) bool { return true }
func (r *reconnects) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *reconnects) WithGroup(string) slog.Handler            { return r }
func (r *reconnects) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == "server reachable again" {
		r.mu.Lock()
		r.times = append(r.times, rec.Time)
		r.mu.Unlock()
	}
	return nil
}

// runAgents runs n copies of the real agent loop in this process until the test ends, as PCs
// prefix-0000, prefix-0001, … registered with one multi-use PIN; after every hundred starts it
// pauses, as a lab switching on does, not all in one millisecond.
func runAgents(t *testing.T, srv *server, n int, prefix string, pause time.Duration, log *slog.Logger, ex *herdExecutor) {
	pin := srv.newPIN("multi", 3600)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		cfg := agent.Config{Server: srv.URL, PIN: pin, MachineID: id, DataDir: filepath.Join(dir, id), Version: "0.9.0", UpdateInterval: -1}
		a, err := agent.New(cfg, log, func(string) (agent.Collector, error) { return herdCollector{id}, nil }, ex)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { defer a.Close(); a.Run(ctx) })
		if i%100 == 99 {
			time.Sleep(pause)
		}
	}
}

// TestHerdAfterOutage is a load run (`make bench-herd`): 2,000 agents (the real agent loop, in
// this process) lose the server for 60 s while 200 of them have results pending; it reports how
// the reconnects spread and checks no result is lost and no command runs twice.
func TestHerdAfterOutage(t *testing.T) {
	if os.Getenv("WCMS_HERD") == "" {
		t.Skip("a 2-minute run with 2,000 agents; run it with `make bench-herd`")
	}
	const agents, busy, outage = 2000, 200, 60 * time.Second
	srv := startServer(t)
	ex := &herdExecutor{hold: 3 * time.Second, runs: map[int64]int{}}
	rc := &reconnects{}
	runAgents(t, srv, agents, "HERD", 200*time.Millisecond, slog.New(rc), ex)
	online := func() int {
		n := 0
		for _, p := range srv.pcs() {
			if p["is_online"] == true {
				n++
			}
		}
		return n
	}
	waitFor(t, "all agents online", 120*time.Second, func() bool { return online() == agents })

	ids := make([]any, 0, busy)
	for _, p := range srv.pcs()[:busy] {
		ids = append(ids, p["id"])
	}
	cmds := srv.api("POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": ids, "type": "execute",
		"parameters": map[string]any{"command": "herd"}})["command_ids"].(map[string]any)
	waitFor(t, "every command handed out", 30*time.Second, func() bool {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		return len(ex.runs) == busy
	})
	srv.proc.signal(syscall.SIGKILL) // results are still being made: they must wait in the spools
	<-srv.proc.done
	time.Sleep(outage)
	rc.mu.Lock()
	rc.times = nil
	rc.mu.Unlock()
	back := time.Now()
	srv.start()
	srv.login()
	waitFor(t, "every agent back", 90*time.Second, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.times) >= agents
	})

	for pc, id := range cmds {
		c := srv.waitCommand(int64(id.(float64)), 60*time.Second)
		if c["status"] != "completed" {
			t.Errorf("PC %s: command %v ended %v: a spooled result was lost", pc, id, c["status"])
		}
	}
	ex.mu.Lock()
	for id, n := range ex.runs {
		if n != 1 {
			t.Errorf("command %d ran %d times", id, n)
		}
	}
	ex.mu.Unlock()

	rc.mu.Lock()
	defer rc.mu.Unlock()
	perSecond := map[int]int{}
	last := 0
	for _, at := range rc.times {
		s := int(at.Sub(back) / time.Second)
		perSecond[s]++
		last = max(last, s)
	}
	peak, peakAt := 0, 0
	for s, n := range perSecond {
		if n > peak {
			peak, peakAt = n, s
		}
	}
	curve := make([]int, last+1)
	for s := range curve {
		curve[s] = perSecond[s]
	}
	t.Logf("%d agents after %v down: %d reconnects over %d s, peak %d/s at +%d s; per second: %v",
		agents, outage, len(rc.times), last+1, peak, peakAt, curve)
	if slices.Max(curve) > agents/4 {
		t.Errorf("a quarter of the fleet came back within one second: the back-off does not spread the herd")
	}
}
