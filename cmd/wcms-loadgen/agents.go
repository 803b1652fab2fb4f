package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

const (
	pollInterval = 2 * time.Second
	fullInterval = 5 * time.Minute
	longPollWait = 2 // seconds, as our agent asks
)

// agent is one simulated PC.
type agent struct {
	machineID  string
	instanceID string // sent by the agent pattern only
	token      string
	pcID       int64
	ip         string
	cpu        float64 // its usual CPU figure, always below markerBase
	ram        float64
	room       int // index of its room (rooms.go); -1 not placed
	// marker, when set, is the CPU figure its next poll sends for the heartbeat→SSE measure.
	marker atomic.Pointer[marker]
}

// register signs the agent up with the PIN.
func (g *loadgen) register(ctx context.Context, a *agent, pin string, i int) error {
	req := wire.RegisterRequest{MachineID: a.machineID, PIN: pin, Hostname: fmt.Sprintf("LOAD-%05d", i),
		MACAddress: fmt.Sprintf("02:4c:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i)),
		IPAddress:  a.ip, CPUModel: "Load Generator CPU", CPUCores: 4, CPUThreads: 8, RAMTotal: 16,
		DiskInfo: wire.DiskSpecs{`C:\`: {TotalGB: 256, FSType: "NTFS"}}, OSEdition: "Windows 11 Education", OSVersion: "10.0.22631"}
	var res wire.RegisterResponse
	if err := g.agentCall(ctx, a, "/api/client/register", req, &res); err != nil {
		return fmt.Errorf("register %s: %w", a.machineID, err)
	}
	if res.AgentToken == "" || res.PCID == 0 {
		return fmt.Errorf("register %s: no pc_id or agent_token in the answer", a.machineID)
	}
	a.pcID, a.token = res.PCID, res.AgentToken
	return nil
}

// registerAll registers the agents with a few workers: registration writes the database, so
// more concurrency would only queue on the server's one writer.
func (g *loadgen) registerAll(ctx context.Context, agents []*agent, pin string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := g.register(ctx, agents[i], pin, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := range agents {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// agentCall posts a JSON body as the agent and decodes a 2xx answer into out.
func (g *loadgen) agentCall(ctx context.Context, a *agent, path string, in, out any) error {
	auth := ""
	if a.token != "" {
		auth = "Bearer " + a.token
	}
	return sendJSON(ctx, g.agentClient, http.MethodPost, g.base+path, "Authorization", auth, in, out)
}

// countError records err under its kind, unless the run is ending (a cancelled request is not a
// server fault).
func (g *loadgen) countError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	var he *httpError
	if errors.As(err, &he) {
		g.errs.addStatus(he.status)
		return
	}
	g.errs.add("network")
}

// heartbeat builds the poll's heartbeat: light, or full with the members only a full one has.
func (a *agent) heartbeat(cpu float64, full bool) *wire.PollHeartbeat {
	info := &wire.SystemInfo{CPUUsage: &cpu, RAMUsagePercent: &a.ram, IPAddress: &a.ip}
	if full {
		used, user, uptime := a.ram*16/100, "student", int64(3600)
		info.RAMUsed, info.CurrentUser, info.Uptime = &used, &user, &uptime
		info.DiskUsage = wire.DiskUsages{`C:\`: {UsedGB: 100, FreeGB: 156, Percent: 39}}
		info.Processes = fakeProcesses
	}
	return &wire.PollHeartbeat{FullUpdate: &full, SystemInfo: info}
}

// flatHeartbeat is the light heartbeat in the flat shape of the seed document's section 4,
// which the published client and our agent send.
func (a *agent) flatHeartbeat(cpu float64) *wire.PollHeartbeat {
	return &wire.PollHeartbeat{CPUUsage: &cpu, RAMUsagePercent: &a.ram, IPAddress: &a.ip}
}

// fakeProcesses is a lab PC's process list, about the size of a real one's names.
var fakeProcesses = func() wire.Processes {
	names := []string{"System", "Registry", "smss.exe", "csrss.exe", "wininit.exe", "services.exe", "lsass.exe",
		"svchost.exe", "explorer.exe", "chrome.exe", "Code.exe", "MsMpEng.exe", "SearchHost.exe", "dwm.exe"}
	out := make(wire.Processes, 0, 80)
	for i := range 80 {
		out = append(out, names[i%len(names)])
	}
	return out
}()

// pollOnce sends one poll and handles a command it brings. It returns the command (or nil).
func (g *loadgen) pollOnce(ctx context.Context, a *agent, hb *wire.PollHeartbeat, wait float64) (*wire.Command, error) {
	var res wire.PollResponse
	if err := g.agentCall(ctx, a, "/api/client/commands", wire.PollRequest{MachineID: a.machineID, Heartbeat: hb, Wait: wait}, &res); err != nil {
		return nil, err
	}
	return res.Data.Command, nil
}

// reportResult posts a command's result at once, as a fast agent would.
func (g *loadgen) reportResult(ctx context.Context, a *agent, c *wire.Command) {
	var res wire.ResultResponse
	in := wire.ResultRequest{Status: wire.ResultSuccess, Output: "shown"}
	if err := g.agentCall(ctx, a, "/api/client/commands/"+strconv.FormatInt(c.ID, 10)+"/result", in, &res); err != nil {
		g.countError(ctx, err)
	}
}

// runSteady polls every 2 s ±10 % as its pattern does, starting at phase, so the agents together
// offer exactly N/2 polls a second; a full heartbeat goes every 5 minutes, the first at a random
// moment.
func (g *loadgen) runSteady(ctx context.Context, a *agent, phase time.Duration, pc *sharedConn) {
	defer pc.close()
	next := g.start.Add(phase)
	nextFull := g.start.Add(rand.N(fullInterval))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		full := !now.Before(nextFull)
		if full {
			nextFull = nextFull.Add(fullInterval)
		}
		cpu := a.cpu
		m := a.marker.Load()
		if m != nil && m.sent.Load() == 0 {
			cpu = m.value
			m.sent.Store(now.UnixNano())
		}
		pc.mu.Lock() // a shared connection carries one poll at a time, as HTTP/1.1 does
		cmd, err := pc.poll(ctx, g.pattern.requests(a, cpu, full))
		pc.mu.Unlock()
		g.pollDone(now, time.Since(now)) // the wait for a shared connection included, as a proxy's client sees it
		if err != nil {
			g.countError(ctx, err)
		} else if cmd != nil {
			g.reportResult(ctx, a, cmd)
		}
		gap := time.Duration(float64(pollInterval) * (0.9 + 0.2*rand.Float64()))
		next = next.Add(gap)
		if late := time.Now(); next.Before(late) {
			// Wait a whole interval after a late answer, as an agent does, rather than catch up
			// with a burst that the server would rightly refuse (429); but poll again at once
			// after a held one, as our agent does (agent/agent.go pollLoop).
			next = late.Add(gap)
			if g.pattern.waits() {
				next = late
			}
		}
		timer.Reset(time.Until(next))
	}
}

// pollDone counts a poll that started at start, for the progress line and, inside the
// measuring window, for the report.
func (g *loadgen) pollDone(start time.Time, took time.Duration) {
	g.intervalPolls.Add(1)
	if g.inWindow(start) {
		g.pollLatency.record(took)
	}
}

// runLongPoll polls with wait: 2 like our agent, and times each command from the admin's
// request to its arrival here.
func (g *loadgen) runLongPoll(ctx context.Context, a *agent) {
	for ctx.Err() == nil {
		cmd, err := g.pollOnce(ctx, a, a.heartbeat(a.cpu, false), longPollWait)
		arrived := time.Now()
		if err != nil {
			g.countError(ctx, err)
			// Do not spin on a failing server.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if cmd == nil {
			continue
		}
		g.commandArrived(cmd, arrived)
		g.reportResult(ctx, a, cmd)
	}
}

// sharedConn is a poll connection with the lock that makes agents sharing it take turns.
type sharedConn struct {
	mu sync.Mutex
	pollConn
	users atomic.Int32 // agents still using it; the last one closes it
}

// close ends the connection once no agent uses it any more.
func (c *sharedConn) close() {
	if c.users.Add(-1) == 0 {
		c.pollConn.close()
	}
}

// steadyConns are the connections of n steady agents: each its own with shared 0, else shared
// connections taken in turn, as agents behind a proxy or a NAT gateway's connection pool.
func (g *loadgen) steadyConns(n, shared int) []*sharedConn {
	if shared <= 0 || shared > n {
		shared = n
	}
	pool := make([]*sharedConn, shared)
	for i := range pool {
		pool[i] = &sharedConn{pollConn: pollConn{host: g.host, dial: g.agentDial}}
	}
	out := make([]*sharedConn, n)
	for i := range out {
		out[i] = pool[i%shared]
		out[i].users.Add(1)
	}
	return out
}
