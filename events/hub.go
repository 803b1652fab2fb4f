// Package events is the in-process hub for live dashboard updates.
//
// Agents' requests publish every state change here, and each open stream
// subscribes. Publishing sits on the hot path of agent requests, so it never
// blocks and never queues without bound: each subscriber keeps only the latest
// event per key (a PC, a command, a room or a room's actions) until it drains them.
package events

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// Kind says what changed.
type Kind uint8

// The kinds of event. All PC-level kinds of one PC share a coalescing key, so
// a subscriber that falls behind sees only the newest of them.
const (
	PCState       Kind = iota + 1 // live tile state from a heartbeat
	PCOnline                      // the PC started reporting again
	PCOffline                     // the PC stopped reporting
	PCAdded                       // a PC registered
	PCUpdated                     // hostname/seat/room/verified changed
	PCRemoved                     // a PC was deleted
	CommandStatus                 // a command changed status
	RoomChanged                   // a room was renamed, resized or deleted
	RoomActions                   // a room's power action was scheduled, cancelled or sent
)

// String returns the kind's wire name, used as the SSE event name.
func (k Kind) String() string {
	switch k {
	case PCState:
		return "pc_state"
	case PCOnline:
		return "pc_online"
	case PCOffline:
		return "pc_offline"
	case PCAdded:
		return "pc_added"
	case PCUpdated:
		return "pc_updated"
	case PCRemoved:
		return "pc_removed"
	case CommandStatus:
		return "command"
	case RoomChanged:
		return "room"
	case RoomActions:
		return "room_actions"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one change, with the publisher's snapshot of what changed. The snapshots are values
// the publisher never changes again; the hub never looks inside them, and every subscriber gets
// the same ones.
type Event struct {
	Kind      Kind
	PCID      int64
	CommandID int64 // set for CommandStatus
	At        time.Time
	PC        *models.PCView  // the PC's view, for the PC kinds (only its ID for PCRemoved)
	Command   *models.Command // for CommandStatus
	// Room is for RoomChanged the room as it was before the change; for RoomActions, the room.
	Room *models.Room
	// Actions are, for RoomActions, the room's actions as models.Store.RoomActions lists them
	// after the change.
	Actions []models.RoomAction
}

// key identifies what an event is about. It is a small comparable struct, not
// a formatted string, so that coalescing costs a map lookup and no allocation.
type key struct {
	of keyKind
	id int64
}

type keyKind uint8

const (
	aPC keyKind = iota
	aCommand
	aRoom
	aRoomActions
)

func keyOf(ev *Event) key {
	switch ev.Kind {
	case CommandStatus:
		return key{of: aCommand, id: ev.CommandID}
	case RoomChanged:
		return key{of: aRoom, id: ev.Room.ID}
	case RoomActions:
		return key{of: aRoomActions, id: ev.Room.ID}
	}
	return key{of: aPC, id: ev.PCID}
}

// defaultMaxPending bounds a subscriber's pending set when NewHub is given no
// bound: comfortably above a large fleet, small enough to cap memory.
const defaultMaxPending = 10000

// Hub fans events out to subscribers. The zero value is not usable; call
// NewHub.
type Hub struct {
	maxPending int

	// subs is a copy-on-write slice: Publish loads it without any lock, and
	// Subscribe and Close (rare) replace it under mu.
	subs atomic.Pointer[[]*Subscription]
	mu   sync.Mutex
}

// NewHub returns a hub whose subscribers each hold at most maxPending distinct
// pending keys (maxPending <= 0 means 10000). Past that, new keys are dropped
// and the subscriber is told to resync (see Subscription.Drain).
func NewHub(maxPending int) *Hub {
	if maxPending <= 0 {
		maxPending = defaultMaxPending
	}
	h := &Hub{maxPending: maxPending}
	h.subs.Store(&[]*Subscription{})
	return h
}

// Publish hands ev to every subscriber. It never blocks on a subscriber: it
// only takes each subscriber's short mutex to record ev as the latest for its
// key. Safe for concurrent use.
func (h *Hub) Publish(ev Event) {
	k := keyOf(&ev)
	for _, s := range *h.subs.Load() {
		s.add(k, &ev)
	}
}

// Subscribe registers a new subscriber. The caller must Close it when done.
func (h *Hub) Subscribe() *Subscription {
	s := &Subscription{
		hub:   h,
		max:   h.maxPending,
		ready: make(chan struct{}, 1),
		index: make(map[key]int),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	next := make([]*Subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	h.subs.Store(&next)
	return s
}

// Subscribers returns the number of open subscriptions.
func (h *Hub) Subscribers() int {
	return len(*h.subs.Load())
}

func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	next := make([]*Subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	h.subs.Store(&next)
}

// Subscription is one consumer's view of the hub: a set of pending events,
// one per key, waiting to be drained.
type Subscription struct {
	hub   *Hub
	max   int
	ready chan struct{}

	closeOnce sync.Once

	mu         sync.Mutex
	index      map[key]int // key -> position in pending
	pending    []Event     // in the order keys first became pending
	overflowed bool
	closed     bool
}

// add records ev as the latest for k. Called by Publish; must not block.
func (s *Subscription) add(k key, ev *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if i, ok := s.index[k]; ok {
		s.pending[i] = *ev
		return
	}
	if len(s.pending) >= s.max {
		s.overflowed = true
		return
	}
	s.index[k] = len(s.pending)
	s.pending = append(s.pending, *ev)
	if len(s.pending) == 1 {
		// Signal only when the set becomes non-empty: the consumer drains
		// everything at once, so one wake-up per batch is enough. The send
		// is non-blocking; a full channel already holds a wake-up.
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

// Ready receives whenever events are waiting. It has capacity one, so many
// publishes cause one wake-up; a wake-up may find nothing to drain if Drain
// was called in between. It is never closed.
func (s *Subscription) Ready() <-chan struct{} {
	return s.ready
}

// Drain returns the pending events, one per key with its latest value, in the
// order the keys first became pending since the last Drain, and empties the
// pending set. overflowed reports that events for new keys were dropped since
// the last Drain because the pending set was full; the consumer should then
// resync from the store, as it cannot know what it missed.
func (s *Subscription) Drain() (evs []Event, overflowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	overflowed = s.overflowed
	s.overflowed = false
	if len(s.pending) == 0 {
		return nil, overflowed
	}
	// Copy out and keep the buffer and map, so a busy subscriber's Publish
	// path reuses their memory instead of growing them afresh each round. Both
	// are bounded by max.
	evs = make([]Event, len(s.pending))
	copy(evs, s.pending)
	// Key by key, not clear(s.index): clearing costs the map's size, which a burst grew to
	// every PC, on each of the many small drains that follow.
	for i := range s.pending {
		delete(s.index, keyOf(&s.pending[i]))
	}
	clear(s.pending) // drop references to the snapshots for the garbage collector
	s.pending = s.pending[:0]
	return evs, overflowed
}

// Close unsubscribes. It is idempotent. Once it returns, Publish no longer
// records anything for this subscription, and its pending events are dropped.
func (s *Subscription) Close() {
	// sync.Once rather than a flag check, so that a concurrent second Close
	// also returns only once the subscription is really gone.
	s.closeOnce.Do(func() {
		s.hub.remove(s)
		s.mu.Lock()
		defer s.mu.Unlock()
		// A Publish that loaded the subscriber list before remove may still
		// call add; closed makes it a no-op.
		s.closed = true
		s.pending = nil
		s.index = nil
		s.overflowed = false
	})
}
