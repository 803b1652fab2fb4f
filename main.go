// Command wcms-server is the WCMS server: the agent API, the admin API and dashboard, on
// embedded SQLite or PostgreSQL. Thin on purpose: flags -> app.New (database, start-up tasks, fleet,
// routes) -> serve. `wcms-server migrate` copies a SQLite installation to PostgreSQL (migrate.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
	// The zone database in the binary: -timezone Asia/Seoul works on a server without one
	// (Windows, minimal containers).
	_ "time/tzdata"

	"github.com/wcms-lab/wcms/app"
	"github.com/wcms-lab/wcms/handlers"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.9.0-dev"

// maxRoomGrace bounds -room-grace: a room shutdown held longer than this is no longer what the
// operator asked for at that moment.
const maxRoomGrace = 10 * time.Minute

// config is the server's whole configuration, from flags with WCMS_* environment twins.
type config struct {
	Addr      string
	LogLevel  string
	DebugAddr string // loopback address for pprof; empty: off
	// AdminPassword comes from WCMS_ADMIN_PASSWORD only: a flag would show in ps.
	app.Config
}

// parseConfig reads flags; each flag's default comes from its WCMS_* variable when set.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("wcms-server", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envBool := func(name string, def bool) (bool, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s=%q: want true or false", name, v)
		}
		return b, nil
	}
	envDays := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: want a number of days", name, v)
		}
		return n, nil
	}
	offline, err := time.ParseDuration(env("WCMS_OFFLINE_AFTER", "30s"))
	if err != nil {
		return c, fmt.Errorf("WCMS_OFFLINE_AFTER: %w", err)
	}
	grace, err := time.ParseDuration(env("WCMS_ROOM_GRACE", "10s"))
	if err != nil {
		return c, fmt.Errorf("WCMS_ROOM_GRACE: %w", err)
	}
	state, err := time.ParseDuration(env("WCMS_STATE_EVERY", "30s"))
	if err != nil {
		return c, fmt.Errorf("WCMS_STATE_EVERY: %w", err)
	}
	keepMinutes, err := envDays("WCMS_KEEP_MINUTES_DAYS", 14)
	if err != nil {
		return c, err
	}
	keepHours, err := envDays("WCMS_KEEP_HOURS_DAYS", 400)
	if err != nil {
		return c, err
	}
	slow, err := time.ParseDuration(env("WCMS_SLOW_REQUEST", handlers.DefaultSlowRequest.String()))
	if err != nil {
		return c, fmt.Errorf("WCMS_SLOW_REQUEST: %w", err)
	}
	legacy, err := envBool("WCMS_LEGACY_CLIENTS", false)
	if err != nil {
		return c, err
	}
	proxy, err := envBool("WCMS_TRUST_PROXY", false)
	if err != nil {
		return c, err
	}
	wakeLimit, err := time.ParseDuration(env("WCMS_WAKE_LIMIT", "5m"))
	if err != nil {
		return c, fmt.Errorf("WCMS_WAKE_LIMIT: %w", err)
	}
	var zone string
	fs.StringVar(&c.Addr, "addr", env("WCMS_ADDR", ":5050"), "listen address (WCMS_ADDR)")
	fs.StringVar(&c.DB, "db", env("WCMS_DB", filepath.Join("data", "wcms.db")), "SQLite database file, or a postgres:// URL (WCMS_DB)")
	fs.StringVar(&c.DataDir, "data-dir", env("WCMS_DATA_DIR", ""), "folder of the PIN key, the first password file and agent builds; default: the SQLite file's folder, or data with PostgreSQL (WCMS_DATA_DIR)")
	fs.DurationVar(&c.Fleet.OfflineAfter, "offline-after", offline, "a PC with no poll for this long is offline (WCMS_OFFLINE_AFTER)")
	fs.DurationVar(&c.Fleet.RoomGrace, "room-grace", grace, "a shutdown or restart of a whole room from the dashboard waits this long, cancellable by any operator, before it is sent; 0 sends it at once (WCMS_ROOM_GRACE)")
	fs.DurationVar(&c.Fleet.StateEvery, "state-every", state, "how often the PCs' latest CPU and RAM figures are written to the database, for a restart; screens read them from memory (WCMS_STATE_EVERY)")
	fs.IntVar(&keepMinutes, "keep-minutes-days", keepMinutes, "days the per-minute history of each PC is kept (WCMS_KEEP_MINUTES_DAYS)")
	fs.IntVar(&keepHours, "keep-hours-days", keepHours, "days the hourly history of each PC is kept (WCMS_KEEP_HOURS_DAYS)")
	fs.BoolVar(&c.HTTP.LegacyClients, "legacy-clients", legacy, "also serve the published clients, which send no agent token (WCMS_LEGACY_CLIENTS); see docs/SECURITY.md")
	fs.BoolVar(&c.HTTP.TrustProxy, "trust-proxy", proxy, "take client addresses from X-Forwarded-For; only behind a reverse proxy (WCMS_TRUST_PROXY)")
	fs.StringVar(&c.HTTP.PublicURL, "public-url", env("WCMS_PUBLIC_URL", ""), "base URL agents reach this server at, for links and install scripts (WCMS_PUBLIC_URL)")
	fs.StringVar(&c.AgentDir, "agent-dir", env("WCMS_AGENT_DIR", "bin"), "folder whose wcms-agent* builds are registered at start, if it exists (WCMS_AGENT_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", env("WCMS_LOG_LEVEL", "info"), "debug, info, warn or error (WCMS_LOG_LEVEL); the agent API's successes are logged at debug, summed up at info each minute")
	fs.DurationVar(&c.HTTP.SlowRequest, "slow-request", slow, "a request that takes longer, less any time it was held waiting (long-polls, streams), is logged at warn (WCMS_SLOW_REQUEST)")
	fs.DurationVar(&c.Fleet.WakeLimit, "wake-limit", wakeLimit, "a PC woken by Wake-on-LAN that sends no heartbeat within this long counts as not woken (WCMS_WAKE_LIMIT)")
	fs.StringVar(&zone, "timezone", env("WCMS_TIMEZONE", ""), "time zone of the rooms' timetables, e.g. Asia/Seoul; default the server's (WCMS_TIMEZONE)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("WCMS_DEBUG_ADDR", ""), "serve Go profiles (pprof) on this loopback address, e.g. 127.0.0.1:6060 (WCMS_DEBUG_ADDR)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := checkDebugAddr(c.DebugAddr); err != nil {
		return c, err
	}
	if c.Fleet.OfflineAfter < 5*time.Second {
		return c, fmt.Errorf("-offline-after %s is too short: agents poll every 2 s, use at least 5s", c.Fleet.OfflineAfter)
	}
	if c.Fleet.StateEvery < time.Second || c.Fleet.StateEvery > 10*time.Minute {
		return c, fmt.Errorf("-state-every %s: use 1s to 10m", c.Fleet.StateEvery)
	}
	if keepMinutes < 1 || keepHours < keepMinutes {
		return c, fmt.Errorf("-keep-minutes-days %d, -keep-hours-days %d: keep minutes at least a day, hours at least as long", keepMinutes, keepHours)
	}
	c.Fleet.KeepMinutes, c.Fleet.KeepHours = time.Duration(keepMinutes)*24*time.Hour, time.Duration(keepHours)*24*time.Hour
	if c.HTTP.SlowRequest <= 0 {
		return c, fmt.Errorf("-slow-request %s: must be positive", c.HTTP.SlowRequest)
	}
	if c.Fleet.RoomGrace < 0 || c.Fleet.RoomGrace > maxRoomGrace {
		return c, fmt.Errorf("-room-grace %s: use 0 (send at once) up to %s", c.Fleet.RoomGrace, maxRoomGrace)
	}
	if c.Fleet.WakeLimit < 30*time.Second || c.Fleet.WakeLimit > time.Hour {
		return c, fmt.Errorf("-wake-limit %s: use 30s to 1h (a PC takes a minute or more to start)", c.Fleet.WakeLimit)
	}
	c.Fleet.Location = time.Local
	if zone != "" {
		if c.Fleet.Location, err = time.LoadLocation(zone); err != nil {
			return c, fmt.Errorf("-timezone %q: %w (use a name such as Asia/Seoul)", zone, err)
		}
	}
	if err := handlers.CheckPublicURL(c.HTTP.PublicURL); err != nil {
		return c, fmt.Errorf("-public-url: %w", err)
	}
	c.AdminPassword = getenv("WCMS_ADMIN_PASSWORD")
	return c, nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		os.Exit(migrateMain(os.Args[2:]))
	}
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wcms-server:", err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "wcms-server: -log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	cfg.HTTP.Version = version
	host, _ := os.Hostname() // a name for the status page only
	cfg.HTTP.InstanceName = host + " " + cfg.Addr
	a, err := app.New(ctx, cfg.Config, log)
	if err != nil {
		return err
	}
	defer func() {
		a.Close() // after the HTTP server has stopped: the last light-state flush
		log.Info("stopped")
	}()

	if cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return fmt.Errorf("-debug-addr: %w", err)
		}
		dbg := debugServer()
		defer dbg.Close()
		go dbg.Serve(dln)
		log.Info("profiles served", "addr", cfg.DebugAddr)
	}

	srv := &http.Server{Addr: cfg.Addr, Handler: a.Handler,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	// No WriteTimeout: long-polls hold answers for up to 60 s and event streams for hours.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", cfg.Addr, "db", redacted(cfg.DB), "version", version, "legacy_clients", cfg.HTTP.LegacyClients,
		"offline_after", cfg.Fleet.OfflineAfter.String(), "room_grace", cfg.Fleet.RoomGrace.String(),
		"wake_limit", cfg.Fleet.WakeLimit.String(), "timezone", cfg.Fleet.Location.String(), "slow_request", cfg.HTTP.SlowRequest.String(),
		"state_every", cfg.Fleet.StateEvery.String(), "keep_minutes", cfg.Fleet.KeepMinutes.String(), "keep_hours", cfg.Fleet.KeepHours.String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests and flushing heartbeats")
	a.Drain() // answer held long-polls now
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
