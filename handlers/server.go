// Package handlers is the server's HTTP layer, for three audiences, each with its own routes and
// middleware chain in routes.go: agents and machines (client.go, agent_input.go, downloads.go,
// install.go), the admin JSON API (admin_*.go, answers.go, status.go) and the signed-in pages with
// the wall (pages*.go, stream.go, identity.go has both). The live streams are handlers/live's;
// what the handlers act on lives below them (fleet, models, agentbuilds, command).
package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"text/template"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers/live"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/ratelimit"
	"github.com/wcms-lab/wcms/tokens"
)

// Config is what the handlers need to know of the server's configuration.
type Config struct {
	Version       string
	LegacyClients bool   // accept agent calls without an agent token
	TrustProxy    bool   // take client addresses from X-Forwarded-For
	PublicURL     string // base URL for links handed to agents; empty: from the request
	MaxBody       int64  // request body limit in bytes
	MaxUpload     int64  // body limit of an agent build upload, in bytes
	SessionTTL    time.Duration
	BcryptCost    int
	// PINKey keys the hash PINs are stored under (tokens.PINHasher); app.New reads it from a file
	// beside the database. Empty: a random key for this process only (tests).
	PINKey []byte
	// InitialPasswordFile is where a generated first password was left (app.EnsureFirstAdmin);
	// it is removed once that account's password changes.
	InitialPasswordFile string
	// PINFailures and LoginFailures limit failed attempts per source address within
	// FailureWindow; an account with twice LoginFailures is throttled (allowLogin). The
	// failures are counted in the database, shared by every instance on it (limits.go).
	PINFailures, LoginFailures int
	FailureWindow              time.Duration
	// MaxStreams and MaxWallStreams cap the live streams open at once: signed-in pages, and
	// wall displays (stream_slots.go also caps each session and each link).
	MaxStreams, MaxWallStreams int
	// MaxExportRows caps the rows of one CSV export of the event log.
	MaxExportRows int
	// SlowRequest is the time past which a request is logged at warn, whoever made it; time a
	// request is held waiting (a long-poll, a stream) does not count (agentlog.go hold).
	SlowRequest time.Duration
	// InstanceID and InstanceName are this server instance on the status page (instances.go):
	// its id, new at every start (random when empty), and its host and listen address.
	InstanceID, InstanceName string
}

// DefaultBcryptCost is the cost of password hashes unless Config says otherwise.
const DefaultBcryptCost = 12

func (c *Config) defaults() {
	if c.InstanceID == "" {
		c.InstanceID = tokens.New()[:16]
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 2 << 20
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = 200 << 20
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.PINFailures <= 0 {
		c.PINFailures = 10
	}
	if c.LoginFailures <= 0 {
		c.LoginFailures = 10
	}
	if len(c.PINKey) == 0 {
		c.PINKey = []byte(tokens.New())
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = 10 * time.Minute
	}
	if c.MaxExportRows <= 0 {
		c.MaxExportRows = 100_000
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 500
	}
	if c.MaxWallStreams <= 0 {
		c.MaxWallStreams = 200
	}
	if c.SlowRequest <= 0 {
		c.SlowRequest = DefaultSlowRequest
	}
}

// DefaultSlowRequest is Config.SlowRequest unless set: over a thousand times the server's own
// time for a poll (0.1–0.3 ms).
const DefaultSlowRequest = 500 * time.Millisecond

// Server is the HTTP handler of every route, with the handlers' dependencies. Run does its
// background work.
type Server struct {
	echo    *echo.Echo
	cfg     Config
	store   *models.Store
	fleet   *fleet.Fleet
	hub     *events.Hub
	log     *slog.Logger
	metrics *metrics
	started time.Time
	scripts *template.Template // the install scripts
	live    *live.Streams      // live updates to browsers
	builds  *agentbuilds.Builds
	kinds   routeKinds // how each route answers (routes.go)
	// dashboardSlots and wallSlots cap the live streams open at once (stream_slots.go).
	dashboardSlots, wallSlots *streamSlots
	// pollRate is the agents' poll rate the status page shows, measured between its views.
	pollRate *pollRate
	// roomDays keeps each room's day chart for a minute (history.go).
	roomDays roomDays
	// agentLog sums up the agent API's requests each minute (agentlog.go).
	agentLog *agentSummary

	pins        tokens.PINHasher
	pinFailures failureLimit // by source address
	loginByAddr failureLimit
	loginByName failureLimit // by accountKey: which accounts are being guessed at
	// turns lets one check per key (a failureLimit's) run at a time in this process (takeTurn).
	turns *ratelimit.Turns
	// dummyHash is checked for unknown usernames, at the configured cost, so that the time of
	// an answer does not tell which accounts exist.
	dummyHash []byte
}

// New builds the server with every route.
func New(cfg Config, store *models.Store, fl *fleet.Fleet, hub *events.Hub, builds *agentbuilds.Builds, log *slog.Logger) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, store: store, fleet: fl, hub: hub, builds: builds, log: log, started: time.Now(), scripts: parseInstallScripts(), live: live.New(hub, fl, log),
		dashboardSlots: newStreamSlots(streamsPerSession, cfg.MaxStreams), wallSlots: newStreamSlots(streamsPerWallLink, cfg.MaxWallStreams),
		pins:        tokens.NewPINHasher(cfg.PINKey),
		turns:       ratelimit.NewTurns(),
		pinFailures: failureLimit{store, "pin", cfg.PINFailures, cfg.FailureWindow},
		loginByAddr: failureLimit{store, "login-addr", cfg.LoginFailures, cfg.FailureWindow},
		loginByName: failureLimit{store, "login-name", cfg.LoginFailures * 2, cfg.FailureWindow},
		agentLog:    newAgentSummary(time.Now()),
	}
	var err error
	if s.dummyHash, err = bcrypt.GenerateFromPassword([]byte(tokens.New()), cfg.BcryptCost); err != nil {
		// Only a cost out of bcrypt's range fails: a programming error.
		panic(fmt.Sprintf("handlers: BcryptCost %d: %v", cfg.BcryptCost, err))
	}
	s.metrics = newMetrics(fl, hub, s.live)
	s.pollRate = newPollRate(fl.Stats().Polls, s.started)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	s.routes(e)
	s.echo = e
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }
