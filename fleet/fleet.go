// Package fleet keeps the live state of every PC in memory: who polls, their latest light
// heartbeat, online/offline, pending command counts and long-poll waiters. It makes the poll hot
// path free of database writes (light state is written in batches every second) and of database
// reads when a PC has nothing pending, and it publishes every visible change to the event hub.
package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
)

// Errors returned to handlers.
var (
	ErrUnknownPC = errors.New("PC not registered")
	ErrBadToken  = errors.New("agent token does not match this PC")
	// ErrTokenRequired: no token, from a PC whose agent uses one, or with legacy clients off.
	ErrTokenRequired = models.ErrTokenRequired
	// ErrReenrolRefused: an operator refused the re-enrolment this install asked for.
	ErrReenrolRefused = errors.New("an operator refused this install's re-enrolment")
	ErrPollTooFast    = errors.New("polling faster than the 2-second minimum")
)

// Store is what the fleet needs from the database.
type Store interface {
	ListPCs(ctx context.Context, ids ...int64) ([]models.PCRow, error)
	PCRowByMachine(ctx context.Context, machineID string) (*models.PCRow, error)
	Commands(ctx context.Context, ids []int64) ([]models.Command, error)
	PendingCounts(ctx context.Context) (map[int64]int, error)
	Register(ctx context.Context, e models.Enrol, now time.Time) (models.Enrolment, error)
	Rekey(ctx context.Context, pc *models.PC, disks []models.Disk, now time.Time) error
	MarkTokenUsed(ctx context.Context, id int64) error
	ReenrolmentByToken(ctx context.Context, tokenHash string) (*models.Reenrolment, error)
	ApproveReenrolment(ctx context.Context, id int64, by string, now time.Time) (*models.Reenrolment, error)
	SaveLive(ctx context.Context, states []models.LightState, online []models.Online) error
	SaveMinutes(ctx context.Context, ms []models.Minute) (int, error)
	RollupHour(ctx context.Context, hour int64) error
	PruneHistory(ctx context.Context, table string, before time.Time, limit int) (int, error)
	SaveFullState(ctx context.Context, pcID int64, f models.FullState) error
	RecordIP(ctx context.Context, pcID int64, ip string, now time.Time) error
	SetOnline(ctx context.Context, pcID int64, now time.Time) error
	SetOffline(ctx context.Context, pcID int64, since time.Time, reason string) error
	EnqueueCommands(ctx context.Context, cmds []models.Command, now time.Time) error
	NextCommand(ctx context.Context, pcID int64, addr string, now time.Time) (*models.Command, error)
	ReportResult(ctx context.Context, id int64, rep models.Reporter, r models.Result, now time.Time) (*models.Command, error)
	CancelPending(ctx context.Context, pcID int64, by string, now time.Time) ([]models.Command, error)
	ExpireCommands(ctx context.Context, now time.Time, lastPoll func(pcID int64) time.Time) ([]models.Command, error)
	DeletePC(ctx context.Context, id int64, by string, now time.Time) error
	PCByID(ctx context.Context, id int64) (*models.PC, error)
	SetVerified(ctx context.Context, id int64, verified bool, now time.Time) error
	SetSeat(ctx context.Context, pcID int64, room string, row, col int, now time.Time) error
	UpdateRoom(ctx context.Context, name string, upd models.Room) (*models.Room, error)
	DeleteRoom(ctx context.Context, name string) (*models.Room, error)
	ScheduleRoomAction(ctx context.Context, a *models.RoomAction, now time.Time) error
	CancelRoomAction(ctx context.Context, id int64, by string, now time.Time) (*models.RoomAction, error)
	SendRoomAction(ctx context.Context, id int64, off func(pcID int64) bool, now time.Time) (*models.RoomAction, []models.Command, error)
	RoomActions(ctx context.Context, roomID int64, now time.Time) ([]models.RoomAction, error)
	ScheduledRoomActions(ctx context.Context) ([]models.RoomAction, error)
	StartWake(ctx context.Context, ids []int64, by string, now time.Time) (models.Wake, error)
	TimetableEntries(ctx context.Context, roomID int64) ([]models.TimetableEntry, error)
	TimetableExceptions(ctx context.Context, roomID int64) ([]models.TimetableException, error)
	RunTimetableStep(ctx context.Context, run *models.TimetableRun, cmds []models.Command, now time.Time) error
	RanSteps(ctx context.Context, since time.Time) (map[string]bool, error)
	PruneTimetableRuns(ctx context.Context, before time.Time, limit int) (int, error)
	EndWake(ctx context.Context, id int64, sentAt time.Time, state, detail string, now time.Time) (bool, error)
	FillRoom(ctx context.Context, roomID int64, pcIDs []int64, order string, move bool, now time.Time) (*models.Filled, error)
	Unplace(ctx context.Context, pcIDs []int64, now time.Time) ([]models.Room, error)
}

// Config tunes the fleet.
type Config struct {
	OfflineAfter time.Duration // no poll for this long: offline (default 30 s)
	FlushEvery   time.Duration // interval of writing PCs that came back online (default 1 s)
	// StateEvery is the interval of writing the PCs' latest light state, which screens read from
	// memory: the database keeps it for a restart (default 30 s; also when a PC goes offline and
	// when the server stops).
	StateEvery time.Duration
	// KeepMinutes and KeepHours are how long the per-minute and hourly history are kept
	// (default 14 and 400 days); PrunePause is the pause between pruning batches (default 50 ms).
	KeepMinutes, KeepHours time.Duration
	PrunePause             time.Duration
	// PollRate and PollBurst bound polls per PC: a token bucket refilled at PollRate per second.
	// The contract's minimum interval is 2 s; twice that rate plus a burst absorbs any jitter.
	PollRate  float64
	PollBurst float64
	// RoomGrace is how long a power command for a whole room waits, cancellable, before it is
	// sent (room_actions.go); 0 sends it at once.
	RoomGrace time.Duration
	// WakeLimit is how long a woken PC has to send its first heartbeat before its wake counts
	// as failed (wake.go; default 5 minutes: an old lab PC takes 2 to 3 to start Windows).
	WakeLimit time.Duration
	// Location is the time zone of the rooms' timetables (timetables.go; default the server's).
	Location *time.Location
	// Peers are the other server instances on the database (peers.go); nil: none.
	Peers Peers
}

func (c *Config) defaults() {
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 30 * time.Second
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = time.Second
	}
	if c.StateEvery <= 0 {
		c.StateEvery = 30 * time.Second
	}
	if c.KeepMinutes <= 0 {
		c.KeepMinutes = 14 * 24 * time.Hour
	}
	if c.KeepHours <= 0 {
		c.KeepHours = 400 * 24 * time.Hour
	}
	if c.PrunePause <= 0 {
		c.PrunePause = 50 * time.Millisecond
	}
	if c.PollRate <= 0 {
		c.PollRate = 1
	}
	if c.PollBurst <= 0 {
		c.PollBurst = 5
	}
	if c.WakeLimit <= 0 {
		c.WakeLimit = 5 * time.Minute
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Peers == nil {
		c.Peers = alone{}
	}
}

// pc is one PC's live state; mu guards the fields below it.
type pc struct {
	id int64

	machineID string // immutable
	tokenHash string // guarded by Fleet.mu, with the byToken index
	tokenUsed bool   // guarded by Fleet.mu: the agent has called with its token

	mu          sync.Mutex
	hostname    string
	mac         string
	ip          string
	verified    bool
	room        *string // nil: not placed
	seatRow     *int
	seatCol     *int
	online      bool
	lastSeen    time.Time // the last poll, here or at another instance
	here        time.Time // the last poll at this instance
	cpu, ram    *float64
	pending     int           // undelivered commands in the store
	notify      chan struct{} // closed and replaced when a command is queued: wakes long-polls
	tokens      float64       // poll rate bucket
	tokensAt    time.Time
	powerReason string  // outage reason to use next, set when a power command is delivered
	user        *string // console user of the last full heartbeat (the stored one at start)
	agent       string  // the agent's version, from its registration or last full heartbeat
	wakeMAC     string  // the MAC and subnet its agent reaches the server by (wake.go)
	subnet      string
	lastWake    models.Wake
	waiting     int // long-polls held open: a PC waiting on one is alive
	deleted     bool
	gen         uint64 // counts this instance's changes of the facts (peers.go reload)
	copies      copies // which copies of the agent call under this identity (clones.go)
	minute      minuteAcc

	// deliver serialises deliveries, so the pending count and the store never disagree.
	deliver sync.Mutex
	// presence serialises the PC's IP changes and online/offline transitions with their writes
	// to the store, so the store sees them in the order memory does; mu is never held across a
	// database write, so reading a PC never waits on the database.
	presence sync.Mutex
}

// facts puts a PC's stored facts in memory, all but its token and live figures; p.mu must be
// held.
func (p *pc) facts(r *models.PCRow) {
	p.hostname, p.mac, p.ip, p.verified = r.Hostname, r.MACAddress, r.IPAddress, r.IsVerified
	p.room, p.seatRow, p.seatCol = r.RoomName, r.SeatRow, r.SeatCol
	p.user, p.agent = r.CurrentUser, r.AgentVersion
	p.wakeMAC, p.subnet, p.lastWake = r.WakeMAC, r.Subnet, r.Wake
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

// view is the PC as the screens show it; p.mu must be held.
func (p *pc) view() models.PCView {
	v := models.PCView{ID: p.id, MachineID: p.machineID, Hostname: p.hostname, MACAddress: p.mac, IPAddress: p.ip,
		Online: p.online, Verified: p.verified, Room: p.room, SeatRow: p.seatRow, SeatCol: p.seatCol,
		CPUUsage: p.cpu, RAMUsagePercent: p.ram, CurrentUser: p.user, LastSeen: p.lastSeen,
		AgentVersion: p.agent, WakeMAC: p.wakeMAC, Subnet: p.subnet, Wake: p.lastWake}
	return v
}

// Fleet is the live state of every registered PC.
type Fleet struct {
	store Store
	hub   *events.Hub
	cfg   Config
	peers Peers
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

	// The closed minutes of history the next write stores (rollup.go).
	historyMu      sync.Mutex
	minutes        []models.Minute
	minutesDropped int

	stopping chan struct{}
	stopOnce sync.Once

	// actionsChanged wakes the room actions' timer when one is scheduled or cancelled.
	actionsChanged chan struct{}
	// timetableFrom is the end of the window the timetables last ran to; only Run touches it.
	timetableFrom time.Time
	// actionsMu orders the publishing of a room's actions, so the newest list is published last.
	actionsMu sync.Mutex

	polls     atomic.Int64
	delivered atomic.Int64

	// changes counts the published changes that can change Counts (all but a heartbeat's
	// figures); counts is the answer as of countsGen of them.
	changes   atomic.Uint64
	countsMu  sync.Mutex
	counts    map[string]models.RoomCount
	countsGen uint64
}

// New loads every PC from the store. PCs the store says are online get a fresh grace period:
// the server was down, not they.
func New(ctx context.Context, store Store, hub *events.Hub, cfg Config, log *slog.Logger) (*Fleet, error) {
	cfg.defaults()
	f := &Fleet{store: store, hub: hub, cfg: cfg, peers: cfg.Peers, log: log, now: time.Now,
		byMachine: map[string]*pc{}, byID: map[int64]*pc{}, byToken: map[string]*pc{}, cameBack: map[int64]time.Time{},
		stopping: make(chan struct{}), actionsChanged: make(chan struct{}, 1)}
	pcs, err := store.ListPCs(ctx)
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

func (f *Fleet) newPC(r *models.PCRow, now time.Time) *pc {
	p := &pc{id: r.ID, machineID: r.MachineID, tokenHash: r.AgentTokenHash, tokenUsed: r.TokenUsed,
		online: r.IsOnline, cpu: r.CPUUsage, ram: r.RAMUsagePercent,
		notify: make(chan struct{}), tokens: f.cfg.PollBurst, tokensAt: now}
	p.facts(r)
	if r.LastSeen != nil {
		p.lastSeen = *r.LastSeen
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

// all is every PC, for work that takes their locks one at a time.
func (f *Fleet) all() []*pc {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*pc, 0, len(f.byID))
	for _, p := range f.byID {
		out = append(out, p)
	}
	return out
}

func (f *Fleet) get(id int64) *pc {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.byID[id]
}

// forget removes a deleted PC from memory; false if it was not there.
func (f *Fleet) forget(id int64) bool {
	f.mu.Lock()
	p := f.byID[id]
	if p != nil {
		delete(f.byID, id)
		delete(f.byMachine, p.machineID)
		delete(f.byToken, p.tokenHash)
	}
	f.mu.Unlock()
	f.light.takeOne(id)
	f.dirtyMu.Lock()
	delete(f.cameBack, id)
	f.dirtyMu.Unlock()
	if p == nil {
		return false
	}
	p.mu.Lock()
	p.deleted = true
	p.wake()
	p.mu.Unlock()
	return true
}

// Close wakes every long-poll so a server shutdown need not wait for them.
func (f *Fleet) Close() { f.stopOnce.Do(func() { close(f.stopping) }) }

// publish shows a change of this instance's making and tells the other instances (peers.go).
func (f *Fleet) publish(kind events.Kind, v models.PCView) {
	f.show(kind, v)
	switch kind {
	case events.PCState:
		f.peers.Tell(beatChange(models.LightState{PCID: v.ID, CPUUsage: v.CPUUsage, RAMUsagePercent: v.RAMUsagePercent, At: v.LastSeen}))
	case events.PCOffline:
		f.peers.Tell(Change{Kind: ChangeOffline, ID: v.ID})
	case events.PCAdded, events.PCUpdated:
		f.peers.Tell(Change{Kind: ChangePC, ID: v.ID})
	case events.PCRemoved:
		f.peers.Tell(Change{Kind: ChangeRemoved, ID: v.ID})
	}
	// PCOnline is told by the PCState that follows it.
}

// show publishes a change to this instance's screens.
func (f *Fleet) show(kind events.Kind, v models.PCView) {
	if kind != events.PCState {
		f.changes.Add(1)
	}
	f.hub.Publish(events.Event{Kind: kind, PCID: v.ID, At: f.now(), PC: &v})
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

// View returns a PC as the screens show it.
func (f *Fleet) View(id int64) (models.PCView, bool) {
	p := f.get(id)
	if p == nil {
		return models.PCView{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.view(), true
}

// Views returns the PCs that keep says to, in the store's order: by room (PCs not placed last),
// seat, hostname.
func (f *Fleet) Views(keep func(*models.PCView) bool) []models.PCView {
	f.mu.RLock()
	out := make([]models.PCView, 0, len(f.byID))
	for _, p := range f.byID {
		p.mu.Lock()
		v := p.view()
		p.mu.Unlock()
		if keep(&v) {
			out = append(out, v)
		}
	}
	f.mu.RUnlock()
	slices.SortFunc(out, func(a, b models.PCView) int {
		return cmp.Or(models.ComparePtr(a.Room, b.Room, strings.Compare), models.ComparePtr(a.SeatRow, b.SeatRow, cmp.Compare[int]),
			models.ComparePtr(a.SeatCol, b.SeatCol, cmp.Compare[int]), strings.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Counts counts each room's PCs, online and in all, by room name ("": the PCs not placed). Every
// live page asks after each change, so the answer is kept until the next one: at 10,000 PCs a
// count takes 0.7 ms (BenchmarkCounts). The map is shared: callers must not change it.
func (f *Fleet) Counts() map[string]models.RoomCount {
	gen := f.changes.Load() // before counting: a change made meanwhile counts again next time
	f.countsMu.Lock()
	defer f.countsMu.Unlock()
	if f.counts == nil || f.countsGen != gen {
		f.counts, f.countsGen = f.count(), gen
	}
	return f.counts
}

func (f *Fleet) count() map[string]models.RoomCount {
	out := map[string]models.RoomCount{}
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, p := range f.byID {
		p.mu.Lock()
		room := ""
		if p.room != nil {
			room = *p.room
		}
		c := out[room]
		c.Total++
		if p.online {
			c.Online++
		}
		out[room] = c
		p.mu.Unlock()
	}
	return out
}

// Stats are the fleet's counts, for /metrics and the status page.
type Stats struct {
	PCs, Online, Pending int
	Here                 int // PCs whose last poll, within OfflineAfter, came to this instance
	Polls, Delivered     int64
}

// Stats counts PCs, online PCs and undelivered commands.
func (f *Fleet) Stats() Stats {
	s := Stats{Polls: f.polls.Load(), Delivered: f.delivered.Load()}
	f.mu.RLock()
	defer f.mu.RUnlock()
	s.PCs = len(f.byID)
	now := f.now()
	for _, p := range f.byID {
		p.mu.Lock()
		if p.online {
			s.Online++
		}
		if p.online && p.here.Equal(p.lastSeen) && now.Sub(p.here) <= f.cfg.OfflineAfter {
			s.Here++
		}
		s.Pending += p.pending
		p.mu.Unlock()
	}
	return s
}
