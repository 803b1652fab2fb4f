package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// loadgen is one run's shared state. Everything written while the load runs is atomic or
// behind its own mutex.
type loadgen struct {
	base        string
	host        string   // host:port of base
	agentDial   dialFunc // the steady agents' own connections, counted in wireBytes
	agentClient *http.Client
	wireBytes   atomic.Int64 // bytes to and from the steady agents' connections
	pattern     pattern      // what the steady agents send

	steady      []*agent
	longPollers []*agent
	byPC        map[int64]*agent // read-only once the load starts
	watch       []int            // the room each subscriber watches (-1: the PCs not placed)
	watched     []*agent         // the steady agents some subscriber watches: the markers' choice

	start               time.Time // the load starts (warm-up begins)
	measure, measureEnd time.Time // the measuring window

	pollLatency   histogram
	intervalPolls atomic.Int64 // steady polls since the last progress line
	sseLatency    histogram
	markers       markerStats // written only by runMarkers
	cmdLatency    histogram
	cmdsSent      atomic.Int64
	errs          errorCounts

	cmdMu   sync.Mutex
	cmdSent map[int64]time.Time // command sequence → when the admin sent it
}

func (g *loadgen) inWindow(t time.Time) bool {
	return !t.Before(g.measure) && t.Before(g.measureEnd)
}

// run sets the fleet up, drives the load and returns the report. Progress goes to progress.
func run(ctx context.Context, cfg config, progress io.Writer) (*Report, error) {
	base, pid := cfg.URL, cfg.ServerPID
	if cfg.Spawn != "" {
		srv, err := spawnServer(ctx, cfg.Spawn, cfg.AdminPassword, cfg.Pattern == patternPublished)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		base, pid = srv.URL, srv.PID
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	g := &loadgen{base: base, host: u.Host, pattern: cfg.Pattern, cmdSent: map[int64]time.Time{}}
	g.agentDial = countingDialer(&g.wireBytes)
	total := cfg.Agents + cfg.LongPollAgents
	// Registration, the long-pollers and their results are left out of the wire count: it is
	// the steady agents' cycle, as their pattern sends it.
	g.agentClient = &http.Client{Transport: newTransport(total, nil), Timeout: 30 * time.Second}
	adminTr := newTransport(cfg.Subscribers+1, nil)
	defer adminTr.CloseIdleConnections()
	defer g.agentClient.CloseIdleConnections()

	fmt.Fprintf(progress, "signing in %d admin sessions\n", cfg.Subscribers+1)
	sessions, err := loginAll(ctx, base, adminTr, cfg.AdminPassword, cfg.Subscribers+1)
	if err != nil {
		return nil, err
	}
	admin := sessions[0]
	pin, err := admin.multiPIN(ctx)
	if err != nil {
		return nil, err
	}

	runID := make([]byte, 4)
	rand.Read(runID)
	all := make([]*agent, total)
	g.byPC = make(map[int64]*agent, total)
	for i := range all {
		id := fmt.Sprintf("LOADGEN-%s-%05d", hex.EncodeToString(runID), i)
		all[i] = &agent{machineID: cfg.Pattern.machineID(id), instanceID: instanceID(id),
			ip: fmt.Sprintf("10.%d.%d.%d", 100+i>>16, byte(i>>8), byte(i)), cpu: float64(5 + i%40), ram: float64(30 + i%30)}
	}
	fmt.Fprintf(progress, "registering %d agents\n", total)
	began := time.Now()
	if err := g.registerAll(ctx, all, pin); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "registered in %s\n", time.Since(began).Round(time.Millisecond))
	for _, a := range all {
		g.byPC[a.pcID] = a
	}
	g.steady, g.longPollers = all[:cfg.Agents], all[cfg.Agents:]
	if err := g.placeInRooms(ctx, admin, cfg.RoomSize, cfg.Subscribers, progress); err != nil {
		return nil, err
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	// Subscribers connect after registration: each new PC makes every stream reload its list.
	ready := make(chan error, cfg.Subscribers)
	for i, s := range sessions[1:] {
		wg.Go(func() { g.subscribe(loadCtx, s, i, ready) })
	}
	for range cfg.Subscribers {
		if err := <-ready; err != nil {
			stopLoad()
			wg.Wait()
			return nil, err
		}
	}

	g.start = time.Now()
	g.measure = g.start.Add(cfg.Warmup)
	g.measureEnd = g.measure.Add(cfg.Duration)
	conns := g.steadyConns(len(g.steady), cfg.Conns)
	for i, a := range g.steady {
		phase := time.Duration(i) * pollInterval / time.Duration(len(g.steady))
		wg.Go(func() { g.runSteady(loadCtx, a, phase, conns[i]) })
	}
	for _, a := range g.longPollers {
		wg.Go(func() { g.runLongPoll(loadCtx, a) })
	}
	// Neither starts anything in the last seconds, so what they start can finish in the window.
	wg.Go(func() { g.sendCommands(loadCtx, admin, cfg.CommandRate, g.measureEnd.Add(-time.Second)) })
	wg.Go(func() { g.runMarkers(loadCtx, cfg.Subscribers, g.measureEnd.Add(-3*time.Second)) })

	rep, err := g.measureServer(ctx, cfg, pid, progress)
	stopLoad()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	g.fill(rep, cfg)
	return rep, nil
}

// loginAll signs in n sessions, a few at a time (each login is a bcrypt check).
func loginAll(ctx context.Context, base string, tr http.RoundTripper, password string, n int) ([]*session, error) {
	out := make([]*session, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = login(ctx, base, tr, password)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// measureServer waits through the warm-up and the window, printing progress every 5 s, and
// takes the server's CPU time and the agents' bytes at the window's edges.
func (g *loadgen) measureServer(ctx context.Context, cfg config, pid int, progress io.Writer) (*Report, error) {
	rep := &Report{}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last := time.Now()
	var cpu0, self0 time.Duration
	var bytes0 int64
	warm := time.NewTimer(time.Until(g.measure))
	defer warm.Stop()
	end := time.NewTimer(time.Until(g.measureEnd))
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case now := <-tick.C:
			polls := g.intervalPolls.Swap(0)
			_, errs := g.errs.snapshot()
			fmt.Fprintf(progress, "%5.0fs  %7.0f polls/s  poll p99 %6.1f ms  errors %d\n", now.Sub(g.start).Seconds(),
				float64(polls)/now.Sub(last).Seconds(), ms(g.pollLatency.quantile(0.99)), errs)
			last = now
		case <-warm.C:
			bytes0 = g.wireBytes.Load()
			var err error
			if self0, cpu0, err = cpuTimes(pid); err != nil {
				return nil, err
			}
		case <-end.C:
			window := cfg.Duration.Seconds()
			perAgent := float64(g.wireBytes.Load()-bytes0) / float64(cfg.Agents)
			rep.KBPerAgentHour = perAgent / window * 3600 / 1024
			self, cpu, err := cpuTimes(pid)
			if err != nil {
				return nil, err
			}
			rep.LoadgenCPUCores = (self - self0).Seconds() / window
			if pid != 0 {
				rss, err := peakRSS(pid)
				if err != nil {
					return nil, err
				}
				rep.ServerCPUCores = (cpu - cpu0).Seconds() / window
				rep.ServerPeakRSSMB = float64(rss) / (1 << 20)
			}
			return rep, nil
		}
	}
}
