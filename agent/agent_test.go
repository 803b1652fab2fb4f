package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/internal/logtest"
	"github.com/wcms-lab/wcms/wire"
)

type runningAgent struct {
	*Agent
	logs   *logtest.Buffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns, with its error in err
	err    error
}

// stop ends the agent and closes its files, as the program does before another run may open
// them (Windows refuses to replace a file that is still open), and returns what Run returned.
func (r *runningAgent) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	err := waitRun(t, r)
	r.Close()
	return err
}

// waitRun waits for Run to end and returns its error.
func waitRun(t *testing.T, r *runningAgent) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Run did not end; log:\n%s", r.logs.String())
		return nil
	}
}

func testConfig(f *fakeServer, dir string) Config {
	return Config{Server: f.URL, PIN: f.pin, DataDir: dir, Version: "1.0.0",
		PollInterval: 50 * time.Millisecond, FullInterval: time.Hour, MaxBackoff: 200 * time.Millisecond,
		UpdateInterval: -1, UpdateConfirm: time.Minute}
}

func startAgent(t *testing.T, cfg Config, ex *fakeExecutor) *runningAgent {
	t.Helper()
	return startAgentOn(t, cfg, ex, labPC)
}

// newAgent makes an agent on a PC with the hardware facts id, logging into logs.
func newAgent(t *testing.T, cfg Config, ex *fakeExecutor, id collect.Identity, logs *logtest.Buffer) (*Agent, error) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return New(cfg, log, func(string) (Collector, error) { return fakeCollector{id}, nil }, ex)
}

// startAgentOn runs an agent on a PC with the hardware facts id until the test ends.
func startAgentOn(t *testing.T, cfg Config, ex *fakeExecutor, id collect.Identity) *runningAgent {
	t.Helper()
	logs := &logtest.Buffer{}
	a, err := newAgent(t, cfg, ex, id, logs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{Agent: a, logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = a.Run(ctx); close(r.done) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		a.Close()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	return r
}

func TestRegisterPollRunReport(t *testing.T) {
	f := newFakeServer(t)
	f.enqueue(wire.Command{ID: 1, Type: wire.TypeExecute, Parameters: map[string]any{"command": "echo hi"}, Timeout: 60})
	dir := t.TempDir()
	ex := &fakeExecutor{}
	r := startAgent(t, testConfig(f, dir), ex)

	eventually(t, "the result of command 1", func() bool {
		var ok bool
		f.snapshot(func(f *fakeServer) { _, ok = f.results[1] })
		return ok
	})
	eventually(t, "a few light heartbeats", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.heartbeats) })
		return n >= 4
	})
	if err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	f.snapshot(func(f *fakeServer) {
		if len(f.registers) != 1 || f.registers[0].PIN != "123456" || f.registers[0].Hostname != "lab-01" {
			t.Errorf("registrations: %+v", f.registers)
		}
		res := f.results[1]
		if res.Status != wire.ResultSuccess || res.Output != "ran execute echo hi" || res.ExitCode == nil || *res.ExitCode != 0 {
			t.Errorf("result: %+v", res)
		}
		if !f.heartbeats[0].full || f.heartbeats[0].info.CurrentUser == nil {
			t.Errorf("first heartbeat should be full: %+v", f.heartbeats[0])
		}
		for i, hb := range f.heartbeats[1:] {
			if hb.full || hb.info.CPUUsage == nil || hb.info.Processes != nil {
				t.Errorf("heartbeat %d should be light: %+v", i+1, hb)
			}
		}
		if f.shutdowns != 1 {
			t.Errorf("shutdown notices: %d, want 1 on a clean stop", f.shutdowns)
		}
	})
	if got := ex.runs(); !slices.Equal(got, []int64{1}) {
		t.Errorf("executed %v", got)
	}
	fi, err := os.Stat(statePath(dir))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("state file: %v, mode %v: must be private (it holds the token)", err, fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "spool")); len(entries) != 0 {
		t.Errorf("spool not empty after delivery: %v", entries)
	}
}

// A result made while the server refuses results is spooled, survives an agent restart and is
// delivered in order once the server takes results again; nothing runs twice.
func TestResultsSurviveOutageAndRestart(t *testing.T) {
	f := newFakeServer(t)
	f.resultsDown.Store(true)
	for id := int64(1); id <= 3; id++ {
		f.enqueue(wire.Command{ID: id, Type: wire.TypeExecute, Parameters: map[string]any{"command": "step"}})
	}
	dir := t.TempDir()
	ex := &fakeExecutor{}
	first := startAgent(t, testConfig(f, dir), ex)
	eventually(t, "three commands run", func() bool { return len(ex.runs()) == 3 })
	eventually(t, "three results spooled", func() bool {
		entries, _ := os.ReadDir(filepath.Join(dir, "spool"))
		return len(entries) == 3
	})
	eventually(t, "a logged delivery failure", func() bool { return strings.Contains(first.logs.String(), "it stays spooled") })
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}

	f.resultsDown.Store(false)
	f.resend = true // the server hands out command 3 again, as if its answer was lost
	f.enqueue(wire.Command{ID: 3, Type: wire.TypeExecute, Parameters: map[string]any{"command": "step"}})
	startAgent(t, testConfig(f, dir), ex)
	eventually(t, "the spooled results", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.results) })
		return n == 3
	})
	f.snapshot(func(f *fakeServer) {
		if !slices.Equal(f.resultOrder, []int64{1, 2, 3}) {
			t.Errorf("results arrived in order %v", f.resultOrder)
		}
	})
	time.Sleep(200 * time.Millisecond) // room for a wrong second run to happen
	if got := ex.runs(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("executed %v: a command ran twice", got)
	}
}

func TestStalePowerCommandIsSkipped(t *testing.T) {
	f := newFakeServer(t)
	old, fresh := time.Now().Add(-8*time.Hour), time.Now()
	f.enqueue(
		wire.Command{ID: 1, Type: wire.TypeShutdown, Parameters: map[string]any{}, CreatedAt: &old},
		wire.Command{ID: 2, Type: wire.TypeExecute, Parameters: map[string]any{"command": "x"}, CreatedAt: &old},
		wire.Command{ID: 3, Type: wire.TypeRestart, Parameters: map[string]any{}, CreatedAt: &fresh},
	)
	ex := &fakeExecutor{}
	var delivered []bool
	ex.onAfter = func(id int64) {
		f.snapshot(func(f *fakeServer) { _, ok := f.results[id]; delivered = append(delivered, ok) })
	}
	startAgent(t, testConfig(f, t.TempDir()), ex)
	eventually(t, "three results", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.results) })
		return n == 3
	})
	eventually(t, "the restart's follow-up", func() bool {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		return len(ex.after) == 1
	})
	f.snapshot(func(f *fakeServer) {
		if r := f.results[1]; r.Status != wire.ResultError || !strings.Contains(r.ErrorMessage, "stale") {
			t.Errorf("old shutdown: %+v, want an error saying it is stale", r)
		}
		if r := f.results[3]; r.Status != wire.ResultSuccess {
			t.Errorf("fresh restart: %+v", r)
		}
	})
	if got := ex.runs(); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("executed %v, want the old execute and the fresh restart only", got)
	}
	if !slices.Equal(delivered, []bool{true}) {
		t.Errorf("restart's result delivered before the machine goes down: %v", delivered)
	}
}

// While a command runs the agent keeps sending heartbeats but takes no further command, which
// stays pending (and cancellable) on the server.
func TestBusyAgentOnlyHeartbeats(t *testing.T) {
	f := newFakeServer(t)
	ex := &fakeExecutor{release: make(chan struct{})}
	f.enqueue(wire.Command{ID: 1, Type: wire.TypeExecute, Parameters: map[string]any{"command": "long"}},
		wire.Command{ID: 2, Type: wire.TypeExecute, Parameters: map[string]any{"command": "next"}})
	startAgent(t, testConfig(f, t.TempDir()), ex)
	eventually(t, "command 1 started", func() bool { return len(ex.runs()) == 1 })
	eventually(t, "heartbeats while busy", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) {
			for _, hb := range f.heartbeats {
				if !hb.poll {
					n++
				}
			}
		})
		return n >= 3
	})
	f.snapshot(func(f *fakeServer) {
		if f.handed[2] != 0 {
			t.Errorf("command 2 was taken while command 1 ran")
		}
	})
	close(ex.release)
	eventually(t, "command 2 run after", func() bool { return len(ex.runs()) == 2 })
}

func TestBackoffSpreadsARoom(t *testing.T) {
	const pcs = 500
	seconds := map[int]int{}
	for range pcs {
		var b backoff
		var d time.Duration
		for range 8 {
			d = b.next(30 * time.Second)
			if d < 0 || d > 30*time.Second {
				t.Fatalf("wait %v outside [0, 30s]", d)
			}
		}
		if d < 15*time.Second {
			t.Fatalf("at the cap a wait is at least half of it, got %v", d)
		}
		seconds[int(d/time.Second)]++
	}
	most := 0
	for _, n := range seconds {
		most = max(most, n)
	}
	// 500 PCs over the 15 s of jitter: about 33 a second; far from all at once.
	if len(seconds) < 14 || most > 80 {
		t.Fatalf("retries of %d PCs fall in %d distinct seconds, at most %d in one: %v", pcs, len(seconds), most, seconds)
	}
}

func TestLedgerRemembersAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "executed.txt")
	l, err := openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 2*ledgerKeep+5; id++ {
		if err := l.add(id); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	l, err = openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	newest := int64(2*ledgerKeep + 5)
	if !l.seen(newest) || !l.seen(newest-ledgerKeep+1) {
		t.Error("recent ids forgotten")
	}
	if l.seen(1) {
		t.Error("the ledger should have dropped the oldest ids")
	}
	if err := l.reset(); err != nil || l.seen(newest) {
		t.Errorf("reset: %v, still seen: %v", err, l.seen(newest))
	}
}

func TestSpoolKeepsOrderAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{30, 10, 20} {
		if err := s.put(id, wire.ResultRequest{Status: wire.ResultSuccess, Output: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "00000000000000000002-99.json"), []byte("{broken"), 0o600)
	s, err = openSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.put(40, wire.ResultRequest{Status: wire.ResultError})
	entries, err := s.list()
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range entries {
		ids = append(ids, e.CommandID)
	}
	if !slices.Equal(ids, []int64{30, 10, 20, 40}) {
		t.Fatalf("spool order %v, want the order results were made (a damaged file skipped)", ids)
	}
}

// TestPollCarriesNothingUnread: a poll goes 1,800 times an hour, so it carries no header the
// server does not read (Accept, Accept-Encoding), and its light heartbeat comes in the shorter,
// flat shape (docs/BENCHMARKS.md, bytes on the wire).
func TestPollCarriesNothingUnread(t *testing.T) {
	f := newFakeServer(t)
	startAgent(t, testConfig(f, t.TempDir()), &fakeExecutor{})
	eventually(t, "a light heartbeat", func() bool {
		n := 0
		f.snapshot(func(f *fakeServer) { n = len(f.heartbeats) })
		return n >= 2
	})
	var names []string
	f.snapshot(func(f *fakeServer) {
		for name := range f.pollHeader {
			names = append(names, name)
		}
		for i, hb := range f.heartbeats {
			if hb.poll && hb.flat == hb.full {
				t.Errorf("heartbeat %d (full %v) flat %v: want light ones flat, full ones nested", i, hb.full, hb.flat)
			}
		}
	})
	slices.Sort(names)
	if want := []string{"Authorization", "Content-Length", "Content-Type", "User-Agent"}; !slices.Equal(names, want) {
		t.Errorf("a poll's headers: %v, want %v", names, want)
	}
}
