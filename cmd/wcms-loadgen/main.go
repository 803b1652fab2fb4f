// Command wcms-loadgen puts a WCMS server on loopback under a fleet's load and measures it:
// N agents polling every 2 s, dashboard subscribers on the live stream, an admin sending
// commands to long-polling agents. See docs/PERFORMANCE.md for figures.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

// config is the load generator's whole configuration.
type config struct {
	URL            string
	Spawn          string
	ServerPID      int
	AdminPassword  string // -admin-password or WCMS_ADMIN_PASSWORD; never printed
	Agents         int
	LongPollAgents int
	Subscribers    int
	RoomSize       int // PCs per room; 0: all unplaced, every stream watching them all
	Conns          int // connections the steady agents share; 0: one each
	CommandRate    float64
	Duration       time.Duration
	Warmup         time.Duration
	JSON           bool
	CPUProfile     string
	Pattern        pattern
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("wcms-loadgen", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:5050", "server URL (loopback only); ignored with -spawn")
	fs.StringVar(&c.Spawn, "spawn", "", "start this server binary on a free loopback port with a fresh database, and measure it")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process id, for its CPU and memory figures (not needed with -spawn)")
	fs.StringVar(&c.AdminPassword, "admin-password", getenv("WCMS_ADMIN_PASSWORD"), "the admin's password (WCMS_ADMIN_PASSWORD); with -spawn a random one is used when empty")
	fs.IntVar(&c.Agents, "agents", 1000, "agents polling every 2 s without waiting")
	fs.IntVar(&c.LongPollAgents, "longpoll-agents", 20, "further agents polling with wait: 2, which receive the commands")
	fs.IntVar(&c.Subscribers, "subscribers", 20, "dashboard SSE subscribers, each with its own admin session")
	fs.IntVar(&c.Conns, "conns", 0, "the steady agents share this many keep-alive connections, taking turns (as behind a proxy); 0: one each")
	fs.IntVar(&c.RoomSize, "room-size", 0, "place the steady agents in rooms of this many PCs, each subscriber watching one room (the realistic case); 0: every subscriber watches every PC")
	fs.Float64Var(&c.CommandRate, "command-rate", 5, "message commands sent per second")
	fs.DurationVar(&c.Duration, "duration", 60*time.Second, "measuring window, after the warm-up")
	fs.DurationVar(&c.Warmup, "warmup", 10*time.Second, "load before measuring, left out of the figures")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file (it shares the machine with the server)")
	pat := fs.String("pattern", string(patternSteady), "what the steady agents send: steady (the nested light heartbeat, the fewest headers), "+
		"agent (our agent's exact poll, held 2 s by the server, so poll latency reads about 2 s), "+
		"published (the published client 0.8.6, tokenless: a server given with -url needs -legacy-clients)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.Pattern, err = parsePattern(*pat); err != nil {
		return c, err
	}
	switch {
	case c.Agents < 1 || c.LongPollAgents < 1 || c.Subscribers < 1:
		return c, errors.New("-agents, -longpoll-agents and -subscribers must be at least 1")
	case c.Conns < 0:
		return c, errors.New("-conns must not be negative")
	case c.RoomSize < 0 || c.RoomSize > 500:
		return c, errors.New("-room-size must be from 0 (no rooms) to 500")
	case c.CommandRate <= 0:
		return c, errors.New("-command-rate must be positive")
	case c.Duration <= 0 || c.Warmup < 0:
		return c, errors.New("-duration must be positive and -warmup not negative")
	case c.Spawn == "" && c.AdminPassword == "":
		return c, errors.New("the admin password is needed: -admin-password or WCMS_ADMIN_PASSWORD")
	}
	if c.Spawn == "" {
		if err := checkLoopback(c.URL); err != nil {
			return c, err
		}
	} else if c.AdminPassword == "" {
		b := make([]byte, 16)
		rand.Read(b)
		c.AdminPassword = hex.EncodeToString(b)
	}
	return c, nil
}

// checkLoopback refuses a server that is not on this machine: the load would hit a real one.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("-url %q: want http://", raw)
	}
	if host := u.Hostname(); host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("-url %q: only a loopback server may be loaded", raw)
		}
	}
	return nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wcms-loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wcms-loadgen: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wcms-loadgen:", err)
		os.Exit(1)
	}
	if err := printReport(os.Stdout, rep, cfg.JSON); err != nil {
		fmt.Fprintln(os.Stderr, "wcms-loadgen:", err)
		os.Exit(1)
	}
}

func printReport(w io.Writer, rep *Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.writeTable(w)
}
