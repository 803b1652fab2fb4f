package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/r3labs/sse/v2"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/views"
)

// Live updates: each browser tab gets its own r3labs/sse stream, fed by its own subscription to
// the event hub. The hub keeps only the newest event per PC for a subscriber, and the pump
// below keeps only the newest rendered fragment per element until the browser takes it. It
// sends what is pending as one LiveEvent batch, at most one round per streamFrame and never
// more than streamWindow events ahead of what was written to the browser, so a stalled tab
// holds at most one fragment per element it shows and never slows another tab or an agent.
// (DEPENDENCIES.md: replay off, no EventTTL, SplitData on, TryPublish only, keep-alive comments,
// streams created and removed by us, callbacks set before any stream exists.)

const (
	streamBuffer    = 2 * streamWindow // events queued in r3labs per stream; the window keeps below it
	streamWindow    = 8                // events published but not yet written to the browser
	streamBatch     = 64 << 10         // bytes of fragments per event, so no event is huge
	streamFrame     = 20 * time.Millisecond
	streamKeepAlive = 20 * time.Second // a comment line keeps proxies from closing an idle stream
	streamMaxAge    = 30 * time.Minute // a stream ends then; EventSource reconnects and gets a fresh state
	streamMaxCmds   = 500              // command cells held back for a stalled tab
	// streamMaxCmdBytes bounds those cells' bytes; past it, the tab is asked to reload.
	streamMaxCmdBytes = 256 << 10
	// A live cell shows this much of a command's output and error; the page and the API have
	// all of it. With agent_input.go's bounds, every fragment is then a few KB at most.
	streamCellOutput, streamCellError = 2 << 10, 512
	// streamWriteTimeout ends a stream whose browser has not taken a write for this long: its
	// buffers and slot are freed instead of waiting on a dead or hostile reader forever.
	streamWriteTimeout = 30 * time.Second
)

// streams owns the SSE server and knows when a browser has subscribed to its stream.
type streams struct {
	srv      *sse.Server
	deferred atomic.Int64 // fragments a slow browser could not take at once

	dashboard, walls *streamSlots // by session, by wall link

	mu      sync.Mutex
	waiting map[string]chan struct{} // stream id → closed when its browser subscribed
}

func newStreams(maxStreams, maxWallStreams int) *streams {
	st := &streams{waiting: map[string]chan struct{}{},
		dashboard: newStreamSlots(streamsPerSession, maxStreams), walls: newStreamSlots(streamsPerWallLink, maxWallStreams)}
	st.srv = sse.NewWithCallback(st.subscribed, nil)
	st.srv.AutoReplay = false
	st.srv.AutoStream = false
	st.srv.SplitData = true
	st.srv.BufferSize = streamBuffer
	st.srv.Headers = map[string]string{"X-Accel-Buffering": "no"}
	return st
}

func (st *streams) subscribed(id string, _ *sse.Subscriber) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ch, ok := st.waiting[id]; ok {
		close(ch)
		delete(st.waiting, id)
	}
}

// open creates a stream and returns a channel closed once its browser has subscribed: events
// published before that would reach nobody.
func (st *streams) open() (id string, ready <-chan struct{}) {
	id = tokens.New()
	ch := make(chan struct{})
	st.mu.Lock()
	st.waiting[id] = ch
	st.mu.Unlock()
	st.srv.CreateStream(id)
	return id, ch
}

func (st *streams) close(id string) {
	st.mu.Lock()
	delete(st.waiting, id)
	st.mu.Unlock()
	st.srv.RemoveStream(id)
}

// feed says what one stream shows.
type feed struct {
	// members are the PCs whose tiles it shows, with the console user the database has (the
	// fleet knows a user only after a full heartbeat since the server started).
	members func(ctx context.Context) (map[int64]string, error)
	// member tells, after one PC was added, moved or removed, whether it belongs now: one row
	// read for the PC that changed, not the whole list again for every open stream.
	member func(ctx context.Context, id int64) (user string, in bool, err error)
	// tile renders a PC's live fragment; wall says which kind, for the shared render cache.
	tile func(t views.Tile) templ.Component
	wall bool
	// commands: also send every command's live cell.
	commands bool
}

// serveStream streams f to the browser until it goes away or streamMaxAge passes.
func (s *Server) serveStream(c echo.Context, f feed) error {
	// The server's read timeout would end the request; a stream has neither deadline.
	rc := http.NewResponseController(c.Response().Writer)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(c.Request().Context(), streamMaxAge)
	defer cancel()
	members, err := f.members(ctx)
	if err != nil {
		return err
	}
	sub := s.hub.Subscribe()
	defer sub.Close()
	id, ready := s.streams.open()
	defer s.streams.close(id)
	w := &eventWriter{ResponseWriter: c.Response(), rc: rc, fail: cancel}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ready:
			s.pump(ctx, id, w, sub, f, members)
		case <-ctx.Done():
		}
	}()
	req := c.Request().WithContext(ctx)
	q := req.URL.Query()
	q.Set("stream", id)
	req.URL.RawQuery = q.Encode()
	s.streams.srv.ServeHTTP(w, req)
	w.Flush() // what r3labs wrote without flushing, such as an error
	cancel()
	wg.Wait()
	return nil
}

// eventWriter sits between r3labs and the connection. r3labs writes an event a line at a time
// and flushes once when the stream starts and once after each event: gathered here, an event
// of many lines leaves in one write, and published events minus flushes is what is queued.
// A write the browser does not take within streamWriteTimeout ends the stream (fail).
type eventWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	fail    func()
	buf     []byte
	flushes atomic.Int64
}

func (w *eventWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *eventWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if len(w.buf) > 0 {
		if _, err := w.ResponseWriter.Write(w.buf); err != nil {
			w.fail() // the browser left or stopped reading
		}
		w.buf = w.buf[:0]
	}
	w.ResponseWriter.(http.Flusher).Flush()
	w.flushes.Add(1)
}

// batchPool recycles a stream's event buffers. r3labs holds an event's data until it has
// written it, and eventWriter counts what is written, so a buffer is free again once its event
// is flushed. Unrecycled, the 64 KB batches were 58 % of all the server's allocations at 10,000
// agents and set the pace of garbage collection.
type batchPool struct {
	free     [][]byte
	inflight []heldBatch // oldest first
}

type heldBatch struct {
	seq int64 // the event's number: it is written once the flushes exceed it (the header's comes first)
	buf []byte
}

// get returns an empty buffer, reclaiming those whose events were written.
func (p *batchPool) get(flushes int64) []byte {
	for len(p.inflight) > 0 && p.inflight[0].seq < flushes {
		p.put(p.inflight[0].buf)
		p.inflight = p.inflight[1:]
	}
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return make([]byte, 0, streamBatch+streamBatch/8)
}

func (p *batchPool) put(b []byte) { p.free = append(p.free, b[:0]) }

func (p *batchPool) hold(seq int64, b []byte) { p.inflight = append(p.inflight, heldBatch{seq, b}) }

// pump turns hub events into rendered fragments for one stream. It starts with every member's
// current tile, so a reconnecting tab is up to date at once.
func (s *Server) pump(ctx context.Context, id string, w *eventWriter, sub *events.Subscription, f feed, members map[int64]string) {
	pending := map[views.Target][]byte{} // newest fragment per element, not yet published
	cmdBytes := 0                        // of the command cells in pending
	render := func(t views.Target, comp templ.Component) {
		data, err := renderFragment(ctx, comp)
		if err != nil {
			s.log.Error("stream: render", "element", t.ElementID(), "err", err)
			return
		}
		if t.Kind == views.LiveCommand {
			grown := cmdBytes + len(data) - len(pending[t])
			if grown > streamMaxCmdBytes {
				// A tab this far behind misses this cell, and is asked to reload instead.
				if notice, err := renderFragment(ctx, views.LayoutChanged()); err == nil {
					pending[views.Target{Kind: views.LiveLayout}] = notice
				}
				return
			}
			cmdBytes = grown
		}
		pending[t] = data
	}
	// tileFrom queues a member's tile from a live state; the cache renders it once for all.
	tileFrom := func(pcID int64, snap fleet.Snapshot) {
		user, member := members[pcID]
		if !member {
			return
		}
		data, err := s.tiles.get(ctx, views.LangOf(ctx), f.wall, tileOf(snap, user), f.tile)
		if err != nil {
			s.log.Error("stream: render tile", "pc_id", pcID, "err", err)
			return
		}
		pending[views.Target{Kind: views.LiveTile, ID: pcID}] = data
	}
	renderTile := func(pcID int64) {
		if snap, ok := s.fleet.Snapshot(pcID); ok {
			tileFrom(pcID, snap)
		}
	}
	for pcID := range members {
		renderTile(pcID)
	}
	keepAlive := time.NewTicker(streamKeepAlive)
	defer keepAlive.Stop()
	// send wakes when pending fragments are due: at once after a quiet spell, else one frame
	// after the last round, so a busy stream gathers a frame's changes into each write.
	send := time.NewTimer(0)
	defer send.Stop()
	armed := true
	var published int64 // events r3labs accepted; the header flush makes flushes one ahead
	var lastRound time.Time
	var batches batchPool
	var taken []views.Target // the elements of the batch being built
	for {
		if len(pending) > 0 && !armed {
			send.Reset(streamFrame - time.Since(lastRound))
			armed = true
		}
		select {
		case <-ctx.Done():
			return
		case <-keepAlive.C:
			if s.streams.srv.TryPublish(id, &sse.Event{Comment: []byte("keep-alive")}) {
				published++
			}
		case <-send.C:
			armed = false
			lastRound = time.Now()
			for len(pending) > 0 && published-w.flushes.Load() < streamWindow {
				batch := batches.get(w.flushes.Load())
				taken = taken[:0]
				for t, data := range pending {
					if len(batch) > 0 && len(batch)+len(data) > streamBatch {
						break
					}
					batch = views.AppendLive(batch, t, data)
					taken = append(taken, t)
				}
				if !s.streams.srv.TryPublish(id, &sse.Event{Event: []byte(views.LiveEvent), Data: batch}) {
					batches.put(batch)
					break // the window keeps below the buffer, so only a closing stream gets here
				}
				published++
				batches.hold(published, batch)
				for _, t := range taken {
					if t.Kind == views.LiveCommand {
						cmdBytes -= len(pending[t])
					}
					delete(pending, t)
				}
			}
			if len(pending) > 0 {
				s.streams.deferred.Add(1) // the tab is behind; the rest waits, newest only, for a later round
			}
		case <-sub.Ready():
			evs, overflowed := sub.Drain()
			if overflowed {
				for pcID := range members {
					renderTile(pcID)
				}
			}
			for _, ev := range evs {
				switch ev.Kind {
				case events.CommandStatus:
					cmd, ok := ev.Data.(models.Command)
					t := views.Target{Kind: views.LiveCommand, ID: ev.CommandID}
					// Tiles take at most one entry per member; command cells up to streamMaxCmds more.
					if _, held := pending[t]; ok && f.commands && (held || len(pending) < len(members)+streamMaxCmds) {
						render(t, views.CommandCell(liveCommand(ctx, &cmd)))
					}
				case events.PCAdded, events.PCUpdated, events.PCRemoved:
					user, in, err := f.member(ctx, ev.PCID)
					if _, was := members[ev.PCID]; err == nil && in != was {
						if in {
							members[ev.PCID] = user
						} else {
							delete(members, ev.PCID)
						}
						render(views.Target{Kind: views.LiveLayout}, views.LayoutChanged())
					}
					renderTile(ev.PCID)
				default:
					if snap, ok := ev.Data.(fleet.Snapshot); ok {
						tileFrom(ev.PCID, snap) // the state as published, without asking the fleet again
					} else {
						renderTile(ev.PCID)
					}
				}
			}
		}
	}
}

// liveCommand is a command's cell as a stream sends it: the output and error clipped, so that
// each of hundreds of tabs renders and holds a few KB, not a megabyte of output.
func liveCommand(ctx context.Context, cmd *models.Command) views.CommandView {
	v := commandView(cmd, "")
	v.Output, v.ErrorMessage = clip(ctx, v.Output, streamCellOutput), clip(ctx, v.ErrorMessage, streamCellError)
	return v
}

// clip cuts s to at most n bytes, on a character boundary, and says how much more there is.
func clip(ctx context.Context, s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := prefix(s, n)
	more := strconv.Itoa(len(s) - len(cut))
	return cut + views.T(ctx, "\n… "+more+"바이트 더: 새로 고치면 모두 보입니다", "\n… "+more+" bytes more: reload to see all")
}

// tileOf is a PC's tile from its live state; storedUser stands until the fleet has seen a full
// heartbeat.
func tileOf(snap fleet.Snapshot, storedUser string) views.Tile {
	t := views.Tile{ID: snap.ID, Hostname: snap.Hostname, IP: snap.IPAddress, Online: snap.Online,
		CPU: snap.CPUUsage, RAM: snap.RAMUsagePercent, User: storedUser}
	if snap.CurrentUser != nil {
		t.User = *snap.CurrentUser
	}
	return t
}

// roomMembers lists the PCs of a room ("" : the PCs not placed), with their stored user.
func (s *Server) roomMembers(room string) func(ctx context.Context) (map[int64]string, error) {
	return func(ctx context.Context) (map[int64]string, error) {
		rows, err := s.store.ListPCs(ctx, models.PCFilter{Room: room})
		if err != nil {
			return nil, err
		}
		out := map[int64]string{}
		for _, r := range rows {
			if inRoom(r.RoomName, room) {
				out[r.ID] = deref(r.CurrentUser)
			}
		}
		return out, nil
	}
}

// roomMember tells whether one PC sits in the room ("" : is not placed).
func (s *Server) roomMember(room string) func(ctx context.Context, id int64) (string, bool, error) {
	return func(ctx context.Context, id int64) (string, bool, error) {
		d, err := s.storedPC(ctx, id)
		if d == nil {
			return "", false, err
		}
		return deref(d.State.CurrentUser), inRoom(d.RoomName, room), nil
	}
}

// pcMember is the feed of one PC's page: that PC while it exists.
func (s *Server) pcMember(pc int64) func(ctx context.Context, id int64) (string, bool, error) {
	return func(ctx context.Context, id int64) (string, bool, error) {
		if id != pc {
			return "", false, nil
		}
		d, err := s.storedPC(ctx, id)
		if d == nil {
			return "", false, err
		}
		return deref(d.State.CurrentUser), true, nil
	}
}

// storedPC reads a PC for a feed; nil and no error when it no longer exists.
func (s *Server) storedPC(ctx context.Context, id int64) (*models.PCDetail, error) {
	d, err := s.store.PCDetail(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

func inRoom(roomName *string, room string) bool {
	if roomName == nil {
		return room == ""
	}
	return *roomName == room
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// renderFragment renders comp for an SSE data field. A bare CR ends an SSE line in the browser,
// and r3labs splits data on LF only: it is escaped, or an agent's hostname or output could cut a
// fragment or forge an event field.
func renderFragment(ctx context.Context, comp templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	if bytes.IndexByte(buf.Bytes(), '\r') < 0 {
		return buf.Bytes(), nil // no copy: tiles are cached, one per PC
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("\r"), []byte("&#13;")), nil
}

type renderedTile struct {
	tile views.Tile
	data []byte
}

// tileCache shares rendered tiles between streams: a PC's tile is rendered once per change (and
// language and kind), however many browsers show it. It holds one entry per PC and variant,
// keyed by PC alone within a variant: an int64 key is the map's fast path, and this lookup runs
// for every stream on every heartbeat.
type tileCache struct {
	mu sync.Mutex
	m  [4]map[int64]renderedTile // by variant: English +1, wall +2
}

func (c *tileCache) get(ctx context.Context, lang views.Lang, wall bool, t views.Tile, render func(views.Tile) templ.Component) ([]byte, error) {
	v := 0
	if lang == views.English {
		v++
	}
	if wall {
		v += 2
	}
	c.mu.Lock()
	hit, ok := c.m[v][t.ID]
	c.mu.Unlock()
	if ok && sameTile(hit.tile, t) {
		return hit.data, nil
	}
	data, err := renderFragment(ctx, render(t))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m[v] == nil {
		c.m[v] = map[int64]renderedTile{}
	}
	c.m[v][t.ID] = renderedTile{tile: t, data: data}
	c.mu.Unlock()
	return data, nil
}

// forget drops a deleted PC's renderings.
func (c *tileCache) forget(id int64) {
	c.mu.Lock()
	for _, m := range c.m {
		delete(m, id)
	}
	c.mu.Unlock()
}

func sameTile(a, b views.Tile) bool {
	same := func(x, y *float64) bool { return x == y || (x != nil && y != nil && *x == *y) }
	return a.ID == b.ID && a.Hostname == b.Hostname && a.IP == b.IP && a.User == b.User &&
		a.Online == b.Online && same(a.CPU, b.CPU) && same(a.RAM, b.RAM)
}
