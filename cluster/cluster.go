// Package cluster joins the server instances that share one PostgreSQL database
// (docs/SCALING.md). Each tells the others what changed in its fleet's memory with NOTIFY, in
// batches under PostgreSQL's 8,000-byte limit, and applies theirs from one listening connection;
// the instance that holds an advisory lock on that connection leads the timed work. PostgreSQL
// is the one engine a lab runs, for the data and for this.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wcms-lab/wcms/fleet"
)

const (
	// channel is the start of the NOTIFY channel of the fleet's changes; the schema the
	// connection works in completes it (scope), as channels are per database, not per schema.
	channel = "wcms_fleet_"
	// maxPayload keeps a notification under PostgreSQL's limit (8,000 bytes by default), with
	// room for the sender's id.
	maxPayload = 7800
	// batchWait gathers the changes of this long into one round of notifications: a tile is
	// that much later on the other instances, and a command wakes its long-poll there within it.
	batchWait = 20 * time.Millisecond
	// maxQueued bounds the changes waiting while the database cannot be reached: more, and the
	// oldest are dropped and the others told to reload everything.
	maxQueued = 100_000
	// leaderKey is the advisory lock of the leader, an arbitrary number of ours; the second key
	// is the schema's hash, for the same reason as the channel's name.
	leaderKey = 0x77636d73 // "wcms"
	// retryAfter is the pause before connecting again after the database was lost.
	retryAfter = time.Second
	// pollLeader is how often an instance that does not lead tries to.
	pollLeader = time.Second
)

// Bus is this instance's link to the others: fleet.Peers for the fleet, and Run.
type Bus struct {
	dsn string
	id  string // this instance; new at every start, so it skips its own notifications
	log *slog.Logger

	leader atomic.Bool

	mu      sync.Mutex
	queued  []fleet.Change
	lost    bool          // changes were dropped or may not have been sent: tell others to resync
	pending chan struct{} // a change is queued

	stats Stats
}

// Stats count what the bus carried, for /metrics, the status page and the load test.
type Stats struct {
	Notifications, Changes, Bytes atomic.Int64 // sent
	Received, Applied             atomic.Int64 // notifications and changes from others
	Dropped, Reconnects           atomic.Int64
}

// New makes the bus of an instance on the database at dsn.
func New(dsn string, log *slog.Logger) *Bus {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &Bus{dsn: dsn, id: hex.EncodeToString(b[:]), log: log, pending: make(chan struct{}, 1)}
}

// ID is this instance's id.
func (b *Bus) ID() string { return b.id }

// Leader tells whether this instance leads the timed work now.
func (b *Bus) Leader() bool { return b.leader.Load() }

// Stats are the bus's counters.
func (b *Bus) Stats() *Stats { return &b.stats }

// Tell queues a change for the other instances; it never blocks.
func (b *Bus) Tell(c fleet.Change) {
	b.mu.Lock()
	if len(b.queued) >= maxQueued {
		b.queued = b.queued[1:]
		b.lost = true
		b.stats.Dropped.Add(1)
	}
	b.queued = append(b.queued, c)
	b.mu.Unlock()
	b.signal()
}

// signal wakes the sender; a wake-up already waiting is enough.
func (b *Bus) signal() {
	select {
	case b.pending <- struct{}{}:
	default:
	}
}

// Run listens for the others' changes and applies them with apply, leads when it can, and
// sends this instance's changes, until ctx ends. After every (re)connection it calls resync
// first: changes told while it was not listening are lost.
func (b *Bus) Run(ctx context.Context, apply func(context.Context, []fleet.Change), resync func(context.Context)) {
	var wg sync.WaitGroup
	wg.Go(func() { b.send(ctx) })
	wg.Go(func() { b.summarise(ctx) })
	b.listen(ctx, apply, resync)
	wg.Wait()
}

// summarise logs each minute what the bus carried, for the operator and docs/SCALING.md.
func (b *Bus) summarise(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var last [5]int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := &b.stats
		now := [5]int64{st.Notifications.Load(), st.Changes.Load(), st.Bytes.Load(), st.Received.Load(), st.Applied.Load()}
		b.log.Info("cluster", "leader", b.Leader(), "notifications_sent", now[0]-last[0], "changes_sent", now[1]-last[1],
			"bytes_sent", now[2]-last[2], "notifications_received", now[3]-last[3], "changes_applied", now[4]-last[4],
			"dropped", st.Dropped.Load(), "reconnects", st.Reconnects.Load())
		last = now
	}
}

// listen keeps one connection listening, reconnecting when it is lost.
func (b *Bus) listen(ctx context.Context, apply func(context.Context, []fleet.Change), resync func(context.Context)) {
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, apply, resync)
		if b.leader.Swap(false) {
			b.log.Warn("no longer the leader: the connection to the database was lost")
		}
		if ctx.Err() != nil {
			return
		}
		b.stats.Reconnects.Add(1)
		b.log.Error("cluster listener lost its connection; reconnecting", "err", err, "retry_in", retryAfter)
		sleep(ctx, retryAfter)
	}
}

func (b *Bus) listenOnce(ctx context.Context, apply func(context.Context, []fleet.Change), resync func(context.Context)) error {
	conn, err := b.connect(ctx, "listen")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ch, err := scope(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
		return err
	}
	resync(ctx)
	var tried time.Time
	for {
		if !b.leader.Load() && time.Since(tried) >= pollLeader {
			tried = time.Now()
			var got bool
			// Held by this session: if the instance or its connection dies, the database frees it
			// and another instance takes over.
			if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", int32(leaderKey)).Scan(&got); err != nil {
				return err
			}
			if got {
				b.leader.Store(true)
				b.log.Info("this instance leads the cluster's timed work", "instance", b.id)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, pollLeader)
		n, err := conn.WaitForNotification(wctx)
		timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case timedOut:
			continue // the wait's own time-out: the connection is still good
		default:
			return err
		}
		b.receive(ctx, n.Payload, apply)
	}
}

// receive decodes a notification and applies it, unless it is this instance's own.
func (b *Bus) receive(ctx context.Context, payload string, apply func(context.Context, []fleet.Change)) {
	from, body, ok := strings.Cut(payload, "\n")
	if !ok || from == b.id {
		return
	}
	var cs []fleet.Change
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		b.log.Error("cluster: unreadable notification", "from", from, "bytes", len(payload), "err", err)
		return
	}
	b.stats.Received.Add(1)
	b.stats.Applied.Add(int64(len(cs)))
	apply(ctx, cs)
}

// send sends the queued changes batchWait after the first of them, on a connection of its own.
func (b *Bus) send(ctx context.Context) {
	var conn *pgx.Conn
	var ch string
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.pending:
		}
		sleep(ctx, batchWait)
		b.mu.Lock()
		cs, lost := b.queued, b.lost
		b.queued, b.lost = nil, false
		b.mu.Unlock()
		if lost {
			cs = append([]fleet.Change{{Kind: fleet.ChangeResync}}, cs...)
		}
		if len(cs) == 0 {
			continue
		}
		var err error
		if conn == nil {
			if conn, err = b.connect(ctx, "notify"); err == nil {
				ch, err = scope(ctx, conn)
			}
		}
		if err == nil {
			err = b.notify(ctx, conn, ch, cs)
		}
		if err != nil {
			if conn != nil {
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
			}
			if ctx.Err() != nil {
				return
			}
			// Some may have gone out: the others reload everything once this works again.
			b.log.Error("cluster: sending changes failed; retrying", "changes", len(cs), "err", err, "retry_in", retryAfter)
			b.requeue(cs)
			sleep(ctx, retryAfter)
		}
	}
}

// requeue puts changes that could not be sent back before those queued since, and asks for a
// resync with them.
func (b *Bus) requeue(cs []fleet.Change) {
	b.mu.Lock()
	b.queued = append(cs, b.queued...)
	if over := len(b.queued) - maxQueued; over > 0 {
		b.queued = b.queued[over:]
		b.stats.Dropped.Add(int64(over))
	}
	b.lost = true
	b.mu.Unlock()
	b.signal()
}

// notify sends changes as notifications of at most maxPayload bytes, in one round trip.
func (b *Bus) notify(ctx context.Context, conn *pgx.Conn, ch string, cs []fleet.Change) error {
	payloads, err := b.encode(cs)
	if err != nil {
		return err
	}
	if len(payloads) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	size := 0
	for _, p := range payloads {
		batch.Queue("SELECT pg_notify($1, $2)", ch, p)
		size += len(p)
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		return err
	}
	b.stats.Notifications.Add(int64(len(payloads)))
	b.stats.Changes.Add(int64(len(cs)))
	b.stats.Bytes.Add(int64(size))
	return nil
}

// encode packs changes into payloads: this instance's id, a newline, a JSON array.
func (b *Bus) encode(cs []fleet.Change) ([]string, error) {
	// A change that does not fit a notification alone is left out, and the others told to
	// reload everything. Changes carry ids, figures and a room name, which the API bounds far
	// below this.
	head := len(b.id) + 3
	var out []string
	var buf strings.Builder
	start := func() {
		buf.Reset()
		buf.WriteString(b.id)
		buf.WriteString("\n[")
	}
	start()
	n := 0
	for i := 0; i < len(cs); i++ { // a resync may be appended on the way
		c := cs[i]
		j, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if head+len(j) > maxPayload {
			b.stats.Dropped.Add(1)
			b.log.Error("cluster: a change too big for a notification was left out", "kind", c.Kind, "bytes", len(j))
			cs = append(cs, fleet.Change{Kind: fleet.ChangeResync})
			continue
		}
		if n > 0 && buf.Len()+1+len(j)+1 > maxPayload {
			buf.WriteByte(']')
			out = append(out, buf.String())
			start()
			n = 0
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(j)
		n++
	}
	if n == 0 {
		return out, nil
	}
	buf.WriteByte(']')
	return append(out, buf.String()), nil
}

// connect opens a connection of the bus, named for pg_stat_activity by its use and instance.
func (b *Bus) connect(ctx context.Context, use string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(b.dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = "wcms " + use + " " + b.id
	return pgx.ConnectConfig(ctx, cfg)
}

// scope is the channel of the instances working in the connection's schema.
func scope(ctx context.Context, conn *pgx.Conn) (string, error) {
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	return channel + schema, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
