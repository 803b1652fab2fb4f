// Package app assembles the server from its parts: the database and its migrations, the start-up
// tasks, the event hub, the fleet and the HTTP handlers. main and the handlers' tests build the
// server through the same New.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/cluster"
	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// Config is what the server is built from.
type Config struct {
	DB string // the SQLite file, or a postgres:// URL
	// DataDir keeps the PIN key, a first password file and the agent builds: by default beside
	// the SQLite file, or "data" with PostgreSQL.
	DataDir       string
	AgentDir      string // agent builds found here are registered at start; "" or missing: none
	AdminPassword string // the first admin's password when there is no account; "": generated
	Fleet         fleet.Config
	// HTTP configures the handlers. A PINKey set here is used instead of the key file (tests);
	// InitialPasswordFile is filled in.
	HTTP handlers.Config
}

// App is an assembled server. Its background work runs from New until Close: the fleet's (the
// batch writer, the liveness and timeout sweeps) and the handlers' (the agent API's summary).
type App struct {
	Store   *models.Store
	Hub     *events.Hub
	Fleet   *fleet.Fleet
	Builds  *agentbuilds.Builds
	Bus     *cluster.Bus // nil on SQLite: one instance
	Handler http.Handler

	stopRun context.CancelFunc
	running sync.WaitGroup
}

// New opens and migrates the database, runs the start-up tasks and builds the server.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *App, err error) {
	store, err := models.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	}
	dataDir := cfg.DataDir
	switch {
	case dataDir != "":
	case models.IsPostgres(cfg.DB):
		dataDir = "data"
	default:
		dataDir = filepath.Dir(cfg.DB)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if len(cfg.HTTP.PINKey) == 0 {
		// PINs are stored under a key kept beside the database, not in it (tokens.PINHasher).
		if cfg.HTTP.PINKey, err = tokens.LoadKey(filepath.Join(dataDir, "pin.key")); err != nil {
			return nil, err
		}
	}
	if err := samePINKey(ctx, store, cfg.HTTP.PINKey); err != nil {
		return nil, err
	}
	if cfg.HTTP.BcryptCost == 0 {
		cfg.HTTP.BcryptCost = handlers.DefaultBcryptCost
	}
	if err := EnsureFirstAdmin(ctx, store, dataDir, cfg.AdminPassword, cfg.HTTP.BcryptCost, log); err != nil {
		return nil, err
	}
	cfg.HTTP.InitialPasswordFile = InitialPasswordFile(dataDir)
	builds := agentbuilds.New(store, filepath.Join(dataDir, "agent-builds"))
	if err := builds.RegisterDir(ctx, cfg.AgentDir, log); err != nil {
		return nil, err
	}
	if n, err := builds.Share(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		log.Info("agent builds stored in the database for the other instances", "builds", n)
	}

	hub := events.NewHub(0)
	var bus *cluster.Bus
	if store.Postgres() {
		// Other instances may share the database: tell them, and hear them (docs/SCALING.md).
		bus = cluster.New(cfg.DB, log)
		cfg.Fleet.Peers = bus
		cfg.HTTP.InstanceID = bus.ID()
	}
	fl, err := fleet.New(ctx, store, hub, cfg.Fleet, log)
	if err != nil {
		return nil, err
	}
	// Not ctx: the last flush must run after a signal has cancelled it (Close).
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	h := handlers.New(cfg.HTTP, store, fl, hub, builds, log)
	a := &App{Store: store, Hub: hub, Fleet: fl, Builds: builds, Bus: bus, Handler: h, stopRun: stopRun}
	if bus != nil {
		a.running.Go(func() { bus.Run(runCtx, fl.Apply, fl.Resync) })
	}
	a.running.Go(func() { fl.Run(runCtx) })
	a.running.Go(func() { h.Run(runCtx) })
	return a, nil
}

// samePINKey refuses to start an instance whose PIN key differs from that of an instance
// running on the same database: a PIN made at one would be refused at the other.
func samePINKey(ctx context.Context, store *models.Store, key []byte) error {
	ins, err := store.Instances(ctx)
	if err != nil {
		return err
	}
	check := tokens.NewPINHasher(key).KeyCheck()
	for _, in := range ins {
		if in.PINKeyCheck != "" && in.PINKeyCheck != check && time.Since(in.SeenAt) < time.Minute {
			return fmt.Errorf("이 서버의 PIN 키가 같은 데이터베이스에서 실행 중인 인스턴스 %q와 다릅니다. 그 서버의 pin.key를 이 서버의 데이터 폴더(-data-dir)에 복사한 뒤 다시 시작하세요. / "+
				"this server's PIN key differs from that of instance %q running on the same database: copy that server's pin.key into this server's data folder (-data-dir) and start again",
				in.Name, in.Name)
		}
	}
	return nil
}

// Drain answers every held long-poll at once; call it before http.Server.Shutdown, which
// would otherwise wait for them.
func (a *App) Drain() { a.Fleet.Close() }

// Close stops the background work after its last flush of live state, then closes the
// database. The HTTP server must have stopped.
func (a *App) Close() {
	a.Drain()
	a.stopRun()
	a.running.Wait()
	a.Store.Close()
}
