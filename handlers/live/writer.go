package live

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// eventWriter sits between r3labs and the connection. r3labs writes an event a line at a time
// and flushes once when the browser has subscribed and once after each event: gathered here, an
// event of many lines leaves in one write, the first flush says the browser is there, and
// published events minus flushes is what is still queued. A write the browser does not take
// within writeTimeout ends the stream (fail).
type eventWriter struct {
	http.ResponseWriter
	rc         *http.ResponseController
	fail       func()
	buf        []byte
	flushes    atomic.Int64
	subscribed chan struct{} // closed at the first flush
	once       sync.Once
}

func newEventWriter(w http.ResponseWriter, rc *http.ResponseController, fail func()) *eventWriter {
	return &eventWriter{ResponseWriter: w, rc: rc, fail: fail, subscribed: make(chan struct{})}
}

func (w *eventWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *eventWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if len(w.buf) > 0 {
		if _, err := w.ResponseWriter.Write(w.buf); err != nil {
			w.fail() // the browser left or stopped reading
		}
		w.buf = w.buf[:0]
	}
	w.ResponseWriter.(http.Flusher).Flush()
	w.flushes.Add(1)
	w.once.Do(func() { close(w.subscribed) })
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
	return make([]byte, 0, batchSize+batchSize/8)
}

func (p *batchPool) put(b []byte) { p.free = append(p.free, b[:0]) }

func (p *batchPool) hold(seq int64, b []byte) { p.inflight = append(p.inflight, heldBatch{seq, b}) }
