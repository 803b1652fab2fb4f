// Package live sends the dashboard's and the wall's live updates to browsers over server-sent
// events (r3labs/sse).
//
// Each browser tab gets its own r3labs stream, fed by its own subscription to the event hub. The
// library's other way, one stream per room shared by every tab, hands each event to each
// subscriber with a blocking send, so one tab that stops reading would freeze the room for all
// (handlers/stream_shared_test.go measures it; docs/ARCHITECTURE.md tells the design). The hub
// keeps only the newest event per PC for a subscriber, and a tab's pump (pump.go) keeps only the
// newest rendered fragment per element until the browser takes it; it sends what is pending as
// one views.LiveEvent batch, at most one round per frame and never more than window events ahead
// of what was written to the browser (writer.go). So a stalled tab holds at most one fragment per
// element it shows and never slows another tab or an agent.
//
// The library is set as it must be for that: replay off (it would keep every event ever
// published), no EventTTL (with replay off it drops every event), SplitData on (templ output has
// many lines), TryPublish only (Publish blocks once a stream's buffer is full), a keep-alive
// event (the library sends none), and streams created and removed here, never by the library.
package live

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/r3labs/sse/v2"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/views"
)

const (
	buffer    = 2 * window // events queued in r3labs per stream; the window keeps below it
	window    = 8          // events published but not yet written to the browser
	batchSize = 64 << 10   // bytes of fragments per event, so no event is huge
	frame     = 20 * time.Millisecond
	// keepAlive is how often a stream sends the server's time even when nothing changed: it keeps
	// proxies from closing an idle stream, and a page that hears nothing for a few of these shows
	// that its figures are stale (static/app.js).
	keepAlive = 10 * time.Second
	// countsEvery bounds how often a stream re-renders its counts, which a fleet coming online
	// changes with every PC.
	countsEvery = time.Second
	maxAge      = 30 * time.Minute // a stream ends then; EventSource reconnects and gets a fresh state
	maxCmds     = 500              // command cells held back for a stalled tab
	// maxCmdBytes bounds those cells' bytes; past it, the tab is asked to reload.
	maxCmdBytes = 256 << 10
	// writeTimeout ends a stream whose browser has not taken a write for this long: its buffers
	// and slot are freed instead of waiting on a dead or hostile reader forever.
	writeTimeout = 30 * time.Second
)

// Streams serves every open live stream.
type Streams struct {
	srv      *sse.Server
	hub      *events.Hub
	fleet    *fleet.Fleet
	log      *slog.Logger
	tiles    tileCache
	deferred atomic.Int64 // rounds that left fragments for a later one: a tab was behind
}

// New returns the live streams, fed from hub, with the PCs' live state from fl.
func New(hub *events.Hub, fl *fleet.Fleet, log *slog.Logger) *Streams {
	srv := sse.New()
	srv.AutoReplay = false
	srv.AutoStream = false
	srv.SplitData = true
	srv.BufferSize = buffer
	srv.Headers = map[string]string{"X-Accel-Buffering": "no"}
	return &Streams{srv: srv, hub: hub, fleet: fl, log: log}
}

// Deferred counts the rounds that could not send everything pending because a tab was behind.
func (st *Streams) Deferred() int64 { return st.deferred.Load() }

// Feed says what one stream shows.
type Feed struct {
	// Shows tells whether the stream shows a PC's tile; nil: none.
	Shows func(v *models.PCView) bool
	// Room is the room the stream shows, if it shows one ("" : the PCs not placed), so that
	// a change to that room asks the page to reload.
	Room *string
	// Tile renders a PC's live fragment; Wall says which kind, for the shared render cache.
	Tile func(t views.Tile) templ.Component
	Wall bool
	// Command renders a command's live cell; nil: the stream shows no commands.
	Command func(ctx context.Context, cmd *models.Command) templ.Component
	// Counts renders the page's counts from each room's (by name, "" for the PCs not placed),
	// the i-th component for Target{LiveCounts, i}; nil: the page shows none.
	Counts func(counts map[string]models.RoomCount) []templ.Component
	// Prefix is the start of the hostnames the page shortens its tiles' names by (views.Shorten).
	Prefix string
	// Actions renders Room's power actions panel (views.LiveRoomActions); nil: not shown.
	Actions func(ctx context.Context, as []models.RoomAction) templ.Component
}

// TileOf is the tile of a PC: the one place a tile is made from what the fleet holds.
func TileOf(v *models.PCView) views.Tile {
	t := views.Tile{ID: v.ID, Hostname: v.Hostname, IP: v.IPAddress, Online: v.Online,
		CPU: v.CPUUsage, RAM: v.RAMUsagePercent, AgentVersion: v.AgentVersion}
	if v.CurrentUser != nil {
		t.User = *v.CurrentUser
	}
	t.Wake, t.WakeTook = wakeShown(v, time.Now())
	return t
}

// wakeShown is a PC's wake as its tile shows it at now: waking until it ends; awake for
// awakeShown after; failed while the PC stays off.
func wakeShown(v *models.PCView, now time.Time) (string, time.Duration) {
	w := v.Wake
	switch {
	case w.State == models.WakeWaking,
		w.State == models.WakeFailed && !v.Online:
		return w.State, 0
	case w.State == models.WakeAwake && w.EndedAt != nil && now.Sub(*w.EndedAt) < awakeShown:
		return w.State, w.Took()
	}
	return "", 0
}

// awakeShown is how long a tile says its PC woke, and how long it took.
const awakeShown = 10 * time.Minute

// Serve streams f to the browser until it goes away or maxAge passes.
func (st *Streams) Serve(w http.ResponseWriter, r *http.Request, f Feed) {
	// The server's read timeout would end the request; a stream has neither deadline.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(r.Context(), maxAge)
	defer cancel()
	sub := st.hub.Subscribe()
	defer sub.Close()
	id := tokens.New()
	st.srv.CreateStream(id)
	defer st.srv.RemoveStream(id)
	ew := newEventWriter(w, rc, cancel)

	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ew.subscribed: // events published before that would reach nobody
			p := &pump{st: st, ctx: ctx, id: id, w: ew, feed: f, pending: map[views.Target][]byte{},
				tiles: st.tiles.set(variant{views.LangOf(ctx), f.Wall})}
			p.run(sub)
		case <-ctx.Done():
		}
	}()
	req := r.WithContext(ctx)
	q := req.URL.Query()
	q.Set("stream", id)
	req.URL.RawQuery = q.Encode()
	st.srv.ServeHTTP(ew, req)
	ew.Flush() // what r3labs wrote without flushing, such as an error
	cancel()
	<-done
}
