package live

import (
	"bytes"
	"context"
	"maps"
	"time"

	"github.com/a-h/templ"
	"github.com/r3labs/sse/v2"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// pump turns one stream's hub events into rendered fragments and sends them in batches.
type pump struct {
	st      *Streams
	ctx     context.Context
	id      string // the r3labs stream
	w       *eventWriter
	feed    Feed
	members map[int64]bool // the PCs shown
	started bool           // members were found once
	tiles   *tileSet       // the shared renderings of this stream's language and kind

	pending   map[views.Target][]byte // newest fragment per element, not yet published
	cmdBytes  int                     // of the command cells in pending
	published int64                   // events r3labs accepted; the header flush makes flushes one ahead
	batches   batchPool
	taken     []views.Target // the elements of the batch being built

	countsDirty bool      // a PC came, went, moved or changed state since the counts were sent
	countsAt    time.Time // when they were last rendered
}

// run starts with every member's current tile, so a reconnecting tab is up to date at once,
// then follows the hub until the stream ends.
func (p *pump) run(sub *events.Subscription) {
	p.refreshAll()
	p.countsDirty = p.feed.Counts != nil // they may have changed since the page was rendered
	keepAlive := time.NewTicker(keepAlive)
	defer keepAlive.Stop()
	// send wakes when pending fragments are due: at once after a quiet spell, else one frame
	// after the last round, so a busy stream gathers a frame's changes into each write.
	send := time.NewTimer(0)
	defer send.Stop()
	armed := true
	var lastRound time.Time
	for {
		if !armed {
			if wait, due := p.nextRound(lastRound); due {
				send.Reset(wait)
				armed = true
			}
		}
		select {
		case <-p.ctx.Done():
			return
		case <-keepAlive.C:
			p.render(views.Target{Kind: views.LiveClock}, views.ServerTime(time.Now()))
		case <-send.C:
			armed = false
			lastRound = time.Now()
			if p.countsDirty && time.Since(p.countsAt) >= countsEvery {
				p.renderCounts()
			}
			p.sendRound()
		case <-sub.Ready():
			evs, overflowed := sub.Drain()
			if overflowed {
				p.refreshAll()
			}
			for i := range evs {
				p.handle(&evs[i])
			}
		}
	}
}

// nextRound says how long after the last round the next one is due, if one is: a frame after
// it when fragments are pending, and for counts alone no sooner than countsEvery after the last.
func (p *pump) nextRound(last time.Time) (time.Duration, bool) {
	wait := frame - time.Since(last)
	switch {
	case len(p.pending) > 0:
		return wait, true
	case p.countsDirty:
		return max(wait, countsEvery-time.Since(p.countsAt)), true
	}
	return 0, false
}

// renderCounts queues the page's counts, as the fleet has them now.
func (p *pump) renderCounts() {
	counts := p.st.fleet.Counts()
	for i, comp := range p.feed.Counts(counts) {
		p.render(views.Target{Kind: views.LiveCounts, ID: int64(i)}, comp)
	}
	p.countsDirty, p.countsAt = false, time.Now()
}

// sendRound publishes pending fragments in batches while the window allows.
func (p *pump) sendRound() {
	for len(p.pending) > 0 && p.published-p.w.flushes.Load() < window {
		batch := p.batches.get(p.w.flushes.Load())
		p.taken = p.taken[:0]
		for t, data := range p.pending {
			if len(batch) > 0 && len(batch)+len(data) > batchSize {
				break
			}
			batch = views.AppendLive(batch, t, data)
			p.taken = append(p.taken, t)
		}
		if !p.st.srv.TryPublish(p.id, &sse.Event{Event: []byte(views.LiveEvent), Data: batch}) {
			p.batches.put(batch)
			break // the window keeps below the buffer, so only a closing stream gets here
		}
		p.published++
		p.batches.hold(p.published, batch)
		for _, t := range p.taken {
			if t.Kind == views.LiveCommand {
				p.cmdBytes -= len(p.pending[t])
			}
			delete(p.pending, t)
		}
	}
	if len(p.pending) > 0 {
		p.st.deferred.Add(1) // the tab is behind; the rest waits, newest only, for a later round
	}
}

// handle queues what one hub event changes on this stream.
func (p *pump) handle(ev *events.Event) {
	if ev.Kind != events.PCState && ev.Kind != events.CommandStatus && p.feed.Counts != nil {
		p.countsDirty = true
	}
	switch ev.Kind {
	case events.CommandStatus:
		t := views.Target{Kind: views.LiveCommand, ID: ev.CommandID}
		// Tiles take at most one entry per member; command cells up to maxCmds more.
		if _, held := p.pending[t]; p.feed.Command != nil && (held || len(p.pending) < len(p.members)+maxCmds) {
			p.render(t, p.feed.Command(p.ctx, ev.Command))
		}
	case events.RoomChanged:
		if p.feed.Room != nil && *p.feed.Room == ev.Room.Name {
			p.layoutChanged()
		}
	case events.RoomActions:
		if p.feed.Actions != nil && p.feed.Room != nil && *p.feed.Room == ev.Room.Name {
			p.render(views.Target{Kind: views.LiveRoomActions}, p.feed.Actions(p.ctx, ev.Actions))
		}
	case events.PCRemoved:
		p.st.tiles.forget(ev.PCID)
		if p.members[ev.PCID] {
			delete(p.members, ev.PCID)
			p.layoutChanged()
		}
	default:
		in := p.shows(ev.PC)
		if in != p.members[ev.PCID] {
			if in {
				p.members[ev.PCID] = true
			} else {
				delete(p.members, ev.PCID)
			}
			p.layoutChanged()
		}
		p.queueTile(ev.PC) // the state as published, without asking the fleet again
	}
}

func (p *pump) shows(v *models.PCView) bool { return p.feed.Shows != nil && p.feed.Shows(v) }

// render queues a fragment for element t.
func (p *pump) render(t views.Target, comp templ.Component) {
	data, err := renderFragment(p.ctx, comp)
	if err != nil {
		p.st.log.Error("stream: render", "element", t.ElementID(), "err", err)
		return
	}
	if t.Kind == views.LiveCommand {
		grown := p.cmdBytes + len(data) - len(p.pending[t])
		if grown > maxCmdBytes {
			// A tab this far behind misses this cell, and is asked to reload instead.
			if notice, err := renderFragment(p.ctx, views.LayoutChanged()); err == nil {
				p.pending[views.Target{Kind: views.LiveLayout}] = notice
			}
			return
		}
		p.cmdBytes = grown
	}
	p.pending[t] = data
}

// queueTile queues a member's tile; the cache renders it once for all streams.
func (p *pump) queueTile(v *models.PCView) {
	if !p.members[v.ID] {
		return
	}
	t := TileOf(v)
	t.Short = views.ShortName(t.Hostname, p.feed.Prefix)
	data, err := p.tiles.get(p.ctx, t, p.feed.Tile)
	if err != nil {
		p.st.log.Error("stream: render tile", "pc_id", v.ID, "err", err)
		return
	}
	p.pending[views.Target{Kind: views.LiveTile, ID: v.ID}] = data
}

// refreshAll finds the members in the fleet and queues all their tiles: at the start, and after
// the hub dropped events for this stream, when a changed set of members asks the page to reload.
func (p *pump) refreshAll() {
	fresh := map[int64]bool{}
	vs := p.st.fleet.Views(p.shows)
	for _, v := range vs {
		fresh[v.ID] = true
	}
	if p.started && !maps.Equal(fresh, p.members) {
		p.layoutChanged()
	}
	p.members, p.started = fresh, true
	for i := range vs {
		p.queueTile(&vs[i])
	}
}

// layoutChanged asks the page to reload: what it shows is no longer what it laid out.
func (p *pump) layoutChanged() { p.render(views.Target{Kind: views.LiveLayout}, views.LayoutChanged()) }

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
