// Package agent is the WCMS agent: it registers a PC with the server, polls for commands with a
// heartbeat, runs them and reports their results without ever losing one. Collection of metrics
// and execution of commands live in agent/collect and agent/execute; this package is the loop,
// the durable result spool, self-update and the service wrapper.
package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/agent/execute"
	"github.com/wcms-lab/wcms/wire"
)

// Collector is what the loop needs of agent/collect.
type Collector interface {
	Identity(ctx context.Context) collect.Identity
	Registration(ctx context.Context) (wire.RegisterRequest, error)
	Light(ctx context.Context) *wire.SystemInfo
	Full(ctx context.Context) *wire.SystemInfo
}

// ErrRestart is returned by Run when a new build has been put in place and the process must
// start again (the service manager restarts it; the foreground command re-executes itself).
var ErrRestart = errors.New("agent: restart to finish the update")

// ErrApprovalPending is returned by Register when the server knows this PC's machine id from
// another install: the token it gave is saved and works once an operator approves on the dashboard.
var ErrApprovalPending = errors.New("this install waits for an operator's approval on the dashboard")

// errNoCredential: neither a token nor a PIN to register with; only a reinstall gives one.
var errNoCredential = errors.New("no agent token and no PIN to register with")

// staleGrace is how long before this agent started a power command may have been queued and
// still run: older ones were meant for a session of the PC that has already ended.
const staleGrace = 2 * time.Minute

// Agent is one running agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	col     Collector
	exec    execute.Executor
	cl      *client
	spool   *spool
	ledger  *ledger
	started time.Time

	instanceID string // this copy's hardware, read at start: see wire.PollRequest

	mu  sync.Mutex
	st  state
	pin string // for the first enrolment only; forgotten once the server answers with a token
	// waitSaid: this run has said that it waits for an operator's approval, and need not again
	// at every ask.
	waitSaid bool

	work        chan wire.Command
	busy        atomic.Bool
	wake        chan struct{}
	online      chan struct{} // closed at the first successful poll
	onlineOne   sync.Once
	restart     chan struct{} // closed when a new build is in place
	restartOnce sync.Once

	dmu       sync.Mutex
	delivered map[int64]chan struct{}
}

// New prepares an agent: it reads the saved state from cfg.DataDir, applies cfg.Server and
// cfg.MachineID over it and reads this PC's hardware facts. newCollector gets the server URL in
// use (its route decides the reported IP and MAC). New does not contact the server.
func New(cfg Config, log *slog.Logger, newCollector func(server string) (Collector, error), exec execute.Executor) (*Agent, error) {
	cfg = cfg.withDefaults()
	loaded, err := loadState(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	st := loaded.merge(cfg.Server, cfg.MachineID)
	if err := CheckServer(st.Server); err != nil {
		return nil, fmt.Errorf("no usable server configured (%w); give -server", err)
	}
	sp, err := openSpool(filepath.Join(cfg.DataDir, "spool"))
	if err != nil {
		return nil, err
	}
	lg, err := openLedger(filepath.Join(cfg.DataDir, "executed.txt"))
	if err != nil {
		return nil, err
	}
	col, err := newCollector(st.Server)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	ident := col.Identity(ctx)
	cancel()
	if st.AgentToken != "" {
		st.PIN = "" // the token proves who this PC is; an older agent's saved PIN goes
	}
	pin := cmp.Or(cfg.PIN, st.PIN)
	st = st.withMachineID(ident)
	if st.MachineID == "" {
		return nil, errors.New("cannot identify this PC: none of the OS machine id, the SMBIOS UUID or a network card could be read; give -machine-id")
	}
	if st.enrolled() && st != loaded {
		if err := saveState(cfg.DataDir, st); err != nil {
			return nil, err
		}
	}
	a := &Agent{
		cfg: cfg, log: log, col: col, exec: exec, spool: sp, ledger: lg, st: st, pin: pin,
		instanceID: ident.InstanceID(),
		cl:         newClient(st.Server, cfg.Version),
		started:    time.Now(),
		work:       make(chan wire.Command, 1),
		wake:       make(chan struct{}, 1),
		online:     make(chan struct{}),
		restart:    make(chan struct{}),
		delivered:  map[int64]chan struct{}{},
	}
	a.cl.setToken(st.AgentToken)
	return a, nil
}

// Close releases the agent's files.
func (a *Agent) Close() error { return a.ledger.close() }

func (a *Agent) state() state {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

// Register registers this PC once, with what it holds: its token, which proves who it is (the
// server re-keys it and no PIN is needed), and the PIN of a first enrolment. It saves the token
// the server answers with and forgets the PIN. ErrApprovalPending: the server knows this machine
// id under another token; the token it gave is saved and works once an operator approves.
// `install` calls Register so that a wrong PIN fails the install, not a service retrying for ever.
func (a *Agent) Register(ctx context.Context) error {
	a.mu.Lock()
	st, pin := a.st, a.pin
	a.mu.Unlock()
	if st.AgentToken == "" {
		if pin == "" {
			return fmt.Errorf("register: %w", errNoCredential)
		}
		if err := CheckPIN(pin); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	req, err := a.col.Registration(ctx)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	req.MachineID, req.InstanceID, req.PIN = st.MachineID, a.instanceID, pin
	res, err := a.cl.register(ctx, req) // the client sends the token as the bearer
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && ae.Code == wire.CodeReenrolPending:
		// The token comes with the answer that files the request; asking again with it, the
		// install is only told that it still waits.
		if ae.AgentToken != "" {
			st.PCID, st.AgentToken = 0, ae.AgentToken
			if err := a.keep(st); err != nil {
				return err
			}
		}
		a.mu.Lock()
		said := a.waitSaid
		a.waitSaid = true
		a.mu.Unlock()
		if !said {
			a.log.Warn("waiting for an operator's approval: the server already knows this PC's machine id from another "+
				"install (a reimaged PC, or a copy of another PC's disk); an operator must approve this install on the "+
				"dashboard, where it is shown with this hostname, MAC and IP beside the enrolled PC's. The agent keeps asking",
				"machine_id", st.MachineID, "hostname", req.Hostname, "mac_address", req.MACAddress, "ip_address", req.IPAddress,
				"server_says", ae.Message)
		}
		return fmt.Errorf("register with %s: %w", st.Server, ErrApprovalPending)
	case errors.As(err, &ae) && ae.Code == wire.CodeReenrolRefused:
		// The refused token can never work: dropped, so that a reinstall asks afresh with its PIN.
		st.PCID, st.AgentToken = 0, ""
		if kerr := a.keep(st); kerr != nil {
			return kerr
		}
		return fmt.Errorf("register with %s: %w", st.Server, err)
	default:
		return fmt.Errorf("register with %s: %w", st.Server, err)
	}
	if res.PCID != st.PCID && st.PCID != 0 {
		// A new PC id means a new command id space: forget the ids run for the old one.
		if err := a.ledger.reset(); err != nil {
			return err
		}
	}
	st.PCID, st.AgentToken = res.PCID, res.AgentToken
	if err := a.keep(st); err != nil {
		return err
	}
	a.log.Info("registered", "server", st.Server, "pc_id", st.PCID, "machine_id", st.MachineID,
		"instance_id", a.instanceID, "token", st.AgentToken != "")
	return nil
}

// keep saves st, makes it current and forgets the PIN: from here on the token the server gave
// proves who this PC is, and agent.json holds no PIN for anyone to reuse.
func (a *Agent) keep(st state) error {
	st.PIN = ""
	if err := saveState(a.cfg.DataDir, st); err != nil {
		return err
	}
	a.mu.Lock()
	a.st, a.pin = st, ""
	a.mu.Unlock()
	a.cl.setToken(st.AgentToken)
	return nil
}

// enrol registers until the server takes this PC. It returns false when ctx ends; also when
// nothing but a reinstall can help (an operator refused this install, or there is neither a token
// nor a PIN), after it has said so and waited for ctx.
func (a *Agent) enrol(ctx context.Context) bool {
	var bo backoff
	for {
		err := a.Register(ctx)
		var wait time.Duration
		reinstall := "reinstall with a new PIN: wcms-agent install -server " + a.state().Server + " -pin NEW_PIN"
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case errors.Is(err, ErrApprovalPending):
			wait = around(a.cfg.ApprovalInterval)
			a.log.Debug("asking again for the operator's decision", "retry_in", wait.Round(time.Second))
		case hasCode(err, wire.CodeReenrolRefused):
			a.log.Error("an operator refused this install on the dashboard: check this PC (is its disk a copy of "+
				"another PC's? see docs/AGENT.md, Cloned disk images and sysprep), then "+reinstall+
				". Not asking again until the agent restarts", "err", err)
			<-ctx.Done()
			return false
		case errors.Is(err, errNoCredential):
			a.log.Error("this PC has no agent token and no PIN to register with: "+reinstall, "err", err)
			<-ctx.Done()
			return false
		case isPermanent(err) && a.pinless():
			wait = around(a.cfg.MaxBackoff)
			a.log.Error("this PC was removed from the server or its token is no longer valid: "+reinstall+
				". Retrying slowly", "err", err, "retry_in", wait.Round(time.Second))
		default:
			wait = bo.next(a.cfg.MaxBackoff)
			a.log.Warn("registration failed; retrying", "err", err, "retry_in", wait.Round(time.Second))
		}
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// pinless tells whether this agent registers with its token alone.
func (a *Agent) pinless() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pin == ""
}

// Run registers if needed, then polls, runs commands and reports results until ctx ends. On a
// clean stop it tells the server the PC is going offline.
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("agent starting", "version", a.cfg.Version, "server", a.state().Server, "data", a.cfg.DataDir)
	if err := a.resumeUpdate(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.state().PCID == 0 && !a.enrol(ctx) {
		return nil
	}

	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	run(a.worker)
	run(a.reporter)
	run(a.confirmUpdate)
	if a.cfg.UpdateInterval > 0 {
		run(a.updater)
	}
	go func() {
		select {
		case <-a.restart:
			cancel()
		case <-ctx.Done():
		}
	}()
	a.pollLoop(ctx)
	wg.Wait()
	select {
	case <-a.restart:
		return ErrRestart
	default:
	}
	a.notifyShutdown()
	return nil
}

// notifyShutdown tells the server at once that the PC goes offline, so the dashboard does not
// wait for the offline timeout. Best effort: the PC may already have lost its network.
func (a *Agent) notifyShutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.cl.shutdown(ctx, a.state().MachineID); err != nil {
		a.log.Info("could not tell the server we are stopping", "err", err)
		return
	}
	a.log.Info("told the server we are stopping")
}

// pollLoop polls with a heartbeat every PollInterval and hands commands to the worker.
func (a *Agent) pollLoop(ctx context.Context) {
	var bo backoff
	var nextFull time.Time // zero: the first heartbeat is a full one
	for ctx.Err() == nil {
		start := time.Now()
		full := !start.Before(nextFull)
		cmd, err := a.pollOnce(ctx, full)
		switch {
		case ctx.Err() != nil:
			return
		case identityLost(err):
			a.log.Warn("the server does not know this PC or its token; registering again with the token", "err", err)
			if !a.enrol(ctx) {
				return
			}
			continue
		case err != nil:
			if !sleep(ctx, a.retryDelay(err, &bo)) {
				return
			}
			continue
		}
		if bo.n > 0 {
			a.log.Info("server reachable again", "after_attempts", bo.n)
			bo = backoff{}
		}
		a.onlineOne.Do(func() { close(a.online) })
		if full {
			nextFull = start.Add(a.cfg.FullInterval)
		}
		if cmd != nil {
			a.dispatch(*cmd)
			continue // the contract allows the next poll at once after one that handed out a command
		}
		if !sleep(ctx, time.Until(start.Add(a.cfg.PollInterval))) {
			return
		}
	}
}

// pollOnce sends one heartbeat. While a command runs it uses the heartbeat endpoint, so that
// further commands stay pending (and cancellable) on the server instead of queueing here.
func (a *Agent) pollOnce(ctx context.Context, full bool) (*wire.Command, error) {
	var info *wire.SystemInfo
	if full {
		info = a.col.Full(ctx)
	} else {
		info = a.col.Light(ctx)
	}
	id := a.state().MachineID
	if a.busy.Load() {
		return nil, a.cl.heartbeat(ctx, wire.HeartbeatRequest{MachineID: id, FullUpdate: &full, SystemInfo: info,
			InstanceID: a.instanceID})
	}
	hb := &wire.PollHeartbeat{FullUpdate: &full, SystemInfo: info}
	if !full {
		// The contract's flat light heartbeat says the same in 36 fewer bytes, 1,800 times an hour.
		hb = &wire.PollHeartbeat{CPUUsage: info.CPUUsage, RAMUsagePercent: info.RAMUsagePercent, IPAddress: info.IPAddress}
	}
	data, err := a.cl.poll(ctx, wire.PollRequest{MachineID: id, Heartbeat: hb, Wait: a.cfg.PollInterval.Seconds(),
		InstanceID: a.instanceID})
	if err != nil || !data.HasCommand || data.Command == nil {
		return nil, err
	}
	return data.Command, nil
}

// retryDelay says how long to wait after a failed poll before the next.
func (a *Agent) retryDelay(err error, bo *backoff) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		return max(ae.RetryAfter, a.cfg.PollInterval)
	}
	wait := bo.next(a.cfg.MaxBackoff)
	a.log.Debug("poll failed", "err", err, "attempt", bo.n, "retry_in", wait.Round(time.Millisecond))
	if bo.n == 1 || bo.n%10 == 0 {
		a.log.Warn("server unreachable; backing off", "err", err, "attempt", bo.n, "retry_in", wait.Round(time.Millisecond))
	}
	return wait
}

// dispatch hands a command to the worker, unless this agent has started it before.
func (a *Agent) dispatch(cmd wire.Command) {
	log := a.log.With("command_id", cmd.ID, "type", cmd.Type)
	if a.ledger.seen(cmd.ID) {
		log.Warn("command handed out again; it already ran here and is not run twice")
		if !a.spooled(cmd.ID) {
			a.finish(cmd.ID, wire.ResultRequest{Status: wire.ResultError,
				ErrorMessage: "not run again: this agent already started this command (its result was lost when the agent stopped)"})
		}
		return
	}
	a.busy.Store(true)
	a.work <- cmd
}

func (a *Agent) spooled(id int64) bool {
	entries, _ := a.spool.list()
	for _, e := range entries {
		if e.CommandID == id {
			return true
		}
	}
	return false
}

// worker runs commands one at a time, in the order the server handed them out.
func (a *Agent) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case cmd := <-a.work:
			a.runCommand(ctx, cmd)
			a.busy.Store(false)
		}
	}
}

func (a *Agent) runCommand(ctx context.Context, cmd wire.Command) {
	log := a.log.With("command_id", cmd.ID, "type", cmd.Type)
	if err := a.ledger.add(cmd.ID); err != nil {
		// Without the record the command could run twice after a crash: refuse instead.
		log.Error("cannot record the command before running it", "err", err)
		a.finish(cmd.ID, wire.ResultRequest{Status: wire.ResultError, ErrorMessage: "agent could not record the command: " + err.Error()})
		return
	}
	if why, stale := a.stale(cmd); stale {
		log.Warn("skipping a stale power command", "why", why)
		a.finish(cmd.ID, wire.ResultRequest{Status: wire.ResultError, ErrorMessage: why})
		return
	}
	log.Info("running command")
	began := time.Now()
	res := a.exec.Execute(ctx, cmd)
	rr := wire.ResultRequest{Status: res.Status, Output: res.Output, ErrorMessage: res.ErrorMessage, ExitCode: res.ExitCode}
	if ctx.Err() != nil {
		rr.Status, rr.ErrorMessage = wire.ResultError, "the agent was stopped while the command ran"
		res.After = nil
	}
	log.Info("command finished", "status", rr.Status, "exit_code", derefInt(rr.ExitCode), "error", rr.ErrorMessage,
		"output_bytes", len(rr.Output), "took", time.Since(began).Round(time.Millisecond))
	done := a.finish(cmd.ID, rr)
	if res.After == nil {
		return
	}
	// Power commands: the result goes out before the machine goes down. If the server cannot be
	// reached in time the result is in the spool and is delivered after the next start.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Warn("result not delivered yet; it stays spooled and goes out after the restart")
	case <-ctx.Done():
		return
	}
	if err := res.After(ctx); err != nil {
		log.Error("command's follow-up failed", "err", err)
	}
}

func derefInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// stale tells whether cmd is a power command queued well before this agent started: a lab
// shut down at night must not switch itself off again when it is turned on in the morning.
// The server's clock is translated to ours with the skew seen in its Date headers.
func (a *Agent) stale(cmd wire.Command) (string, bool) {
	switch cmd.Type {
	case wire.TypeShutdown, wire.TypeRestart, wire.TypeReboot:
	default:
		return "", false
	}
	if cmd.CreatedAt == nil {
		return "", false
	}
	queued := cmd.CreatedAt.Add(-a.cl.clockSkew())
	if !queued.Before(a.started.Add(-staleGrace)) {
		return "", false
	}
	return fmt.Sprintf("not run: this %s was queued at %s, %s before the agent started (%s); the PC has been restarted since, so it is stale",
		cmd.Type, cmd.CreatedAt.UTC().Format(time.RFC3339), a.started.Sub(queued).Round(time.Second),
		a.started.UTC().Format(time.RFC3339)), true
}

// finish spools a result and wakes the reporter. The returned channel is closed once the server
// has the result.
func (a *Agent) finish(id int64, rr wire.ResultRequest) <-chan struct{} {
	done := make(chan struct{})
	a.dmu.Lock()
	a.delivered[id] = done
	a.dmu.Unlock()
	if err := a.spool.put(id, rr); err != nil {
		a.log.Error("cannot spool the result; it is lost if the server is unreachable now", "command_id", id, "err", err)
		a.deliverUnspooled(id, rr)
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return done
}

// deliverUnspooled is the last resort when the disk refuses the spool: one direct attempt.
func (a *Agent) deliverUnspooled(id int64, rr wire.ResultRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.cl.result(ctx, id, rr); err != nil {
		a.log.Error("result lost", "command_id", id, "err", err)
	}
	a.markDelivered(id)
}

func (a *Agent) markDelivered(id int64) {
	a.dmu.Lock()
	defer a.dmu.Unlock()
	if ch, ok := a.delivered[id]; ok {
		close(ch)
		delete(a.delivered, id)
	}
}

// reporter delivers spooled results in order, retrying with back-off while the server is away.
func (a *Agent) reporter(ctx context.Context) {
	var bo backoff
	for {
		wait := a.deliverSpool(ctx, &bo)
		if wait == 0 {
			wait = time.Hour // nothing left: sleep until woken
		}
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-time.After(wait):
		}
	}
}

// deliverSpool sends what is in the spool; it returns how long to wait when the server is away.
func (a *Agent) deliverSpool(ctx context.Context, bo *backoff) time.Duration {
	entries, err := a.spool.list()
	if err != nil {
		a.log.Error("cannot read the result spool", "err", err)
		return bo.next(a.cfg.MaxBackoff)
	}
	for _, e := range entries {
		log := a.log.With("command_id", e.CommandID)
		err := a.cl.result(ctx, e.CommandID, e.Result)
		switch {
		case ctx.Err() != nil:
			return 0
		case err == nil:
			log.Info("result delivered", "status", e.Result.Status)
		case isPermanent(err):
			// 409: the server already has it; 404/403: the command or PC is gone. Retrying
			// could never succeed, and holding it would block every later result.
			log.Warn("server will not take this result; dropping it", "err", err)
		default:
			wait := bo.next(a.cfg.MaxBackoff)
			log.Warn("result not delivered; it stays spooled", "err", err, "retry_in", wait.Round(time.Millisecond),
				"waiting", len(entries))
			return wait
		}
		if err := a.spool.remove(e); err != nil {
			log.Error("cannot remove a delivered result from the spool", "err", err)
		}
		a.markDelivered(e.CommandID)
		*bo = backoff{}
	}
	return 0
}

// backoff grows the wait exponentially up to a cap, with half of it random, so a room of PCs
// coming back at once spreads its retries instead of hitting the server in the same second.
type backoff struct{ n int }

func (b *backoff) next(maxWait time.Duration) time.Duration {
	d := time.Second << min(b.n, 16)
	if d > maxWait {
		d = maxWait
	}
	b.n++
	return d/2 + rand.N(d/2+1)
}

// around returns d give or take a quarter, so a room of PCs asking at the same pace spreads out.
func around(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends; it reports whether the wait ran to the end.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
