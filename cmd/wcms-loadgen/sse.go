package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Heartbeat→SSE latency: once a second one random agent's next poll carries a marker CPU
// figure (markerBase or more; agents' usual figures are below it), and every subscriber
// notes when that PC's tile first shows it.
const (
	markerBase   = 50
	markerSpan   = 50
	markerExpiry = 5 * time.Second // after this a subscriber that has not seen it missed it
)

// marker is one marked heartbeat.
type marker struct {
	value float64
	sent  atomic.Int64 // unix ns when the poll carrying it left; 0 until then
	seen  []atomic.Int64
}

// markerStats are the figures markers produce, kept by the one goroutine that retires them.
type markerStats struct {
	expected int64
	missed   int64
}

// runMarkers picks a marker a second until stop, and retires markers once they expire,
// turning what the subscribers saw into latencies.
func (g *loadgen) runMarkers(ctx context.Context, subscribers int, stop time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	type active struct {
		a *agent
		m *marker
	}
	var live []active
	retire := func(all bool) {
		kept := live[:0]
		for _, x := range live {
			sent := x.m.sent.Load()
			if !all && (sent == 0 || time.Since(time.Unix(0, sent)) < markerExpiry) {
				kept = append(kept, x)
				continue
			}
			x.a.marker.CompareAndSwap(x.m, nil)
			if sent == 0 || !g.inWindow(time.Unix(0, sent)) {
				continue
			}
			for i := range x.m.seen {
				if g.watch[i] != x.a.room {
					continue // this subscriber watches another room
				}
				g.markers.expected++
				if at := x.m.seen[i].Load(); at != 0 {
					g.sseLatency.record(time.Duration(at - sent))
				} else {
					g.markers.missed++
				}
			}
		}
		live = kept
	}
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			retire(true)
			return
		case <-tick.C:
		}
		retire(false)
		if !time.Now().Before(stop) {
			continue
		}
		a := g.watched[rand.N(len(g.watched))]
		m := &marker{value: float64(markerBase + seq%markerSpan), seen: make([]atomic.Int64, subscribers)}
		if a.marker.CompareAndSwap(nil, m) {
			live = append(live, active{a, m})
		}
	}
}

// subscribe reads the dashboard's stream of the room subscriber i watches (the unplaced PCs
// without rooms) until ctx ends.
func (g *loadgen) subscribe(ctx context.Context, s *session, i int, ready chan<- error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/stream?room="+roomName(g.watch[i]), nil)
	if err != nil {
		ready <- fmt.Errorf("subscribe: %w", err)
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := s.client.Do(req)
	if err != nil {
		ready <- fmt.Errorf("subscribe: %w", err)
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		ready <- fmt.Errorf("subscribe: HTTP %d", res.StatusCode)
		return
	}
	ready <- nil
	err = g.readStream(res.Body, i)
	if ctx.Err() == nil {
		g.countError(ctx, fmt.Errorf("stream %d ended: %w", i, err))
	}
}

var (
	tilePrefix = []byte(`data: <div id="pc-`)
	cpuMark    = []byte(`data-testid="tile-cpu">`)
)

// readStream watches tile updates for marked PCs. It is lean on purpose: with thousands of
// agents a subscriber reads thousands of tiles a second. The server sends batches, one
// fragment a line, each naming its tile's element ("pc-ID-live"); a batch arrives in one
// write, so a tile is noted when its line is read.
func (g *loadgen) readStream(r io.Reader, sub int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A tile is about 1 KB: a line longer than the buffer is something else; skip it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(line, tilePrefix) {
			continue
		}
		if cpu, ok := tileCPU(line); ok && cpu >= markerBase {
			id, _, _ := bytes.Cut(line[len(tilePrefix):], []byte("-live"))
			g.sawMarker(id, cpu, sub)
		}
	}
}

// sawMarker notes the first time subscriber sub sees pc showing a marker figure.
func (g *loadgen) sawMarker(pc []byte, cpu, sub int) {
	id, err := strconv.ParseInt(string(pc), 10, 64)
	a := g.byPC[id]
	if err != nil || a == nil {
		return
	}
	if m := a.marker.Load(); m != nil && float64(cpu) == m.value && m.seen[sub].Load() == 0 {
		m.seen[sub].Store(time.Now().UnixNano())
	}
}

// tileCPU reads the whole percent a tile fragment's CPU meter shows ("…tile-cpu">78%…").
func tileCPU(fragment []byte) (int, bool) {
	i := bytes.Index(fragment, cpuMark)
	if i < 0 {
		return 0, false
	}
	rest := fragment[i+len(cpuMark):]
	end := bytes.IndexByte(rest, '%')
	if end < 0 {
		return 0, false
	}
	v, err := strconv.Atoi(string(rest[:end]))
	return v, err == nil
}
