// Package fleet keeps the live state of every PC in memory: who polls, their latest light
// heartbeat, online/offline, pending command counts and long-poll waiters. It makes the poll hot
// path free of database writes (light state is written in batches every second) and of database
// reads when a PC has nothing pending, and it publishes every visible change to the event hub.
package fleet

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// Errors returned to handlers.
var (
	ErrUnknownPC     = errors.New("PC not registered")
	ErrBadToken      = errors.New("agent token does not match this PC")
	ErrTokenRequired = errors.New("agent token required")
	ErrPollTooFast   = errors.New("polling faster than the 2-second minimum")
)

// Store is what the fleet needs from the database.
type Store interface {
	AllPCs(ctx context.Context) ([]models.PC, error)
	PendingCounts(ctx context.Context) (map[int64]int, error)
	Register(ctx context.Context, pin string, pc *models.PC, disks []models.Disk, now time.Time) (bool, error)
	SaveLive(ctx context.Context, states []models.LightState, online []models.Online) error
	SaveFullState(ctx context.Context, pcID int64, f models.FullState) error
	RecordIP(ctx context.Context, pcID int64, ip string, now time.Time) error
	SetOnline(ctx context.Context, pcID int64, now time.Time) error
	SetOffline(ctx context.Context, pcID int64, since time.Time, reason string) error
	EnqueueCommands(ctx context.Context, cmds []models.Command, now time.Time) error
	NextCommand(ctx context.Context, pcID int64, now time.Time) (*models.Command, error)
	ReportResult(ctx context.Context, id, pcID int64, r models.Result, now time.Time) (*models.Command, error)
	CancelPending(ctx context.Context, pcID int64, by string, now time.Time) ([]models.Command, error)
	ExpireCommands(ctx context.Context, now time.Time) ([]models.Command, error)
	DeletePC(ctx context.Context, id int64) error
	PCByID(ctx context.Context, id int64) (*models.PC, error)
}

// Config tunes the fleet.
type Config struct {
	OfflineAfter time.Duration // no poll for this long: offline (default 30 s)
	FlushEvery   time.Duration // light-state batch interval (default 1 s)
	// PollRate and PollBurst bound polls per PC: a token bucket refilled at PollRate per second.
	// The contract's minimum interval is 2 s; twice that rate plus a burst absorbs any jitter.
	PollRate  float64
	PollBurst float64
}

func (c *Config) defaults() {
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 30 * time.Second
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = time.Second
	}
	if c.PollRate <= 0 {
		c.PollRate = 1
	}
	if c.PollBurst <= 0 {
		c.PollBurst = 5
	}
}

// Snapshot is the live view of one PC, as published to the event hub. It is a value: safe to
// share once made.
type Snapshot struct {
	ID              int64
	MachineID       string
	Hostname        string
	IPAddress       string
	Online          bool
	CPUUsage        *float64
	RAMUsagePercent *float64
	LastSeen        time.Time
	// CurrentUser is the console user of the last full heartbeat since the server started; nil
	// when none has arrived yet (the database has the older value).
	CurrentUser *string
}

// pc is one PC's live state; mu guards the fields below it.
type pc struct {
	id int64

	machineID string // immutable
	tokenHash string // guarded by Fleet.mu, with the byToken index

	mu          sync.Mutex
	hostname    string
	ip          string
	online      bool
	lastSeen    time.Time
	cpu, ram    *float64
	pending     int           // undelivered commands in the store
	notify      chan struct{} // closed and replaced when a command is queued: wakes long-polls
	tokens      float64       // poll rate bucket
	tokensAt    time.Time
	powerReason string  // outage reason to use next, set when a power command is delivered
	user        *string // console user from the last full heartbeat, nil until one arrives
	waiting     int     // long-polls held open: a PC waiting on one is alive
	deleted     bool

	// deliver serialises deliveries, so the pending count and the store never disagree.
	deliver sync.Mutex
}

// light is the PC's latest light state, as the batch writer stores it; p.mu must be held.
func (p *pc) light() models.LightState {
	return models.LightState{PCID: p.id, CPUUsage: p.cpu, RAMUsagePercent: p.ram, At: p.lastSeen}
}

// wake answers every long-poll waiting on the PC; p.mu must be held.
func (p *pc) wake() {
	close(p.notify)
	p.notify = make(chan struct{})
}

func (p *pc) snapshot() Snapshot {
	return Snapshot{ID: p.id, MachineID: p.machineID, Hostname: p.hostname, IPAddress: p.ip, Online: p.online,
		CPUUsage: p.cpu, RAMUsagePercent: p.ram, LastSeen: p.lastSeen, CurrentUser: p.user}
}

// Fleet is the live state of every registered PC.
type Fleet struct {
	store Store
	hub   *events.Hub
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	mu        sync.RWMutex
	byMachine map[string]*pc
	byID      map[int64]*pc
	byToken   map[string]*pc // by agent token hash

	// The batch the next flush writes: light states, and PCs that came back online.
	light    lightQueue
	dirtyMu  sync.Mutex
	cameBack map[int64]time.Time

	stopping chan struct{}
	stopOnce sync.Once

	polls     atomic.Int64
	delivered atomic.Int64
}

// New loads every PC from the store. PCs the store says are online get a fresh grace period:
// the server was down, not they.
func New(ctx context.Context, store Store, hub *events.Hub, cfg Config, log *slog.Logger) (*Fleet, error) {
	cfg.defaults()
	f := &Fleet{store: store, hub: hub, cfg: cfg, log: log, now: time.Now,
		byMachine: map[string]*pc{}, byID: map[int64]*pc{}, byToken: map[string]*pc{}, cameBack: map[int64]time.Time{},
		stopping: make(chan struct{})}
	pcs, err := store.AllPCs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load fleet: %w", err)
	}
	pending, err := store.PendingCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load fleet: %w", err)
	}
	now := f.now()
	for i := range pcs {
		p := f.newPC(&pcs[i], now)
		p.pending = pending[p.id]
		if p.online {
			p.lastSeen = now
		}
	}
	return f, nil
}

func (f *Fleet) newPC(m *models.PC, now time.Time) *pc {
	p := &pc{id: m.ID, machineID: m.MachineID, tokenHash: m.AgentTokenHash, hostname: m.Hostname, ip: m.IPAddress,
		online: m.IsOnline, notify: make(chan struct{}), tokens: f.cfg.PollBurst, tokensAt: now}
	if m.LastSeen != nil {
		p.lastSeen = *m.LastSeen
	}
	f.mu.Lock()
	f.byMachine[p.machineID] = p
	f.byID[p.id] = p
	if p.tokenHash != "" {
		f.byToken[p.tokenHash] = p
	}
	f.mu.Unlock()
	return p
}

func (f *Fleet) get(id int64) *pc {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.byID[id]
}

// Close wakes every long-poll so a server shutdown need not wait for them.
func (f *Fleet) Close() { f.stopOnce.Do(func() { close(f.stopping) }) }

// Identify finds the PC of machineID and checks its agent token. An empty token is accepted only
// when legacy (tokenless) clients are.
func (f *Fleet) Identify(machineID, token string, legacy bool) (int64, error) {
	f.mu.RLock()
	p := f.byMachine[machineID]
	var want string
	if p != nil {
		want = p.tokenHash
	}
	f.mu.RUnlock()
	if p == nil {
		return 0, ErrUnknownPC
	}
	if token == "" {
		if legacy {
			return p.id, nil
		}
		return 0, ErrTokenRequired
	}
	if subtle.ConstantTimeCompare([]byte(tokens.Hash(token)), []byte(want)) != 1 {
		return 0, ErrBadToken
	}
	return p.id, nil
}

// PCOfToken returns the PC whose agent token this is; results use it to bind a result to its PC.
func (f *Fleet) PCOfToken(token string) (int64, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p := f.byToken[tokens.Hash(token)]; p != nil {
		return p.id, true
	}
	return 0, false
}

// Register registers (or re-registers) a PC with a PIN and returns its new agent token.
func (f *Fleet) Register(ctx context.Context, pin string, m *models.PC, disks []models.Disk) (string, error) {
	token := tokens.New()
	m.AgentTokenHash = tokens.Hash(token)
	now := f.now()
	created, err := f.store.Register(ctx, pin, m, disks, now)
	if err != nil {
		return "", err
	}
	f.mu.RLock()
	p := f.byID[m.ID]
	f.mu.RUnlock()
	kind := events.PCUpdated
	if p == nil {
		p = f.newPC(m, now)
		kind = events.PCAdded
	}
	f.mu.Lock()
	delete(f.byToken, p.tokenHash)
	p.tokenHash = m.AgentTokenHash
	f.byToken[p.tokenHash] = p
	f.mu.Unlock()
	p.mu.Lock()
	p.hostname, p.ip = m.Hostname, m.IPAddress
	snap := p.snapshot()
	p.mu.Unlock()
	f.log.Info("PC registered", "pc_id", m.ID, "machine_id", m.MachineID, "new", created)
	f.publish(kind, snap)
	return token, nil
}

func (f *Fleet) publish(kind events.Kind, s Snapshot) {
	f.hub.Publish(events.Event{Kind: kind, PCID: s.ID, At: f.now(), Data: s})
}

// AllowPoll takes one token from the PC's poll bucket; false means it polls too fast.
func (f *Fleet) AllowPoll(id int64) (bool, time.Duration) {
	p := f.get(id)
	if p == nil {
		return false, 0
	}
	now := f.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = min(f.cfg.PollBurst, p.tokens+now.Sub(p.tokensAt).Seconds()*f.cfg.PollRate)
	p.tokensAt = now
	if p.tokens < 1 {
		return false, time.Duration((1 - p.tokens) / f.cfg.PollRate * float64(time.Second))
	}
	p.tokens--
	return true, 0
}

// Snapshot returns the live view of a PC.
func (f *Fleet) Snapshot(id int64) (Snapshot, bool) {
	p := f.get(id)
	if p == nil {
		return Snapshot{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshot(), true
}

// Stats are the fleet's counts, for /metrics and the status page.
type Stats struct {
	PCs, Online, Pending int
	Polls, Delivered     int64
}

// Stats counts PCs, online PCs and undelivered commands.
func (f *Fleet) Stats() Stats {
	s := Stats{Polls: f.polls.Load(), Delivered: f.delivered.Load()}
	f.mu.RLock()
	defer f.mu.RUnlock()
	s.PCs = len(f.byID)
	for _, p := range f.byID {
		p.mu.Lock()
		if p.online {
			s.Online++
		}
		s.Pending += p.pending
		p.mu.Unlock()
	}
	return s
}
