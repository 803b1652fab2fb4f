package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/handlers"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/tokens"
)

// smallReceiveBuffer, where the platform has one (stream_limits_linux_test.go), keeps the kernel
// from taking megabytes for a connection that never reads, so the server's own buffers fill.
var smallReceiveBuffer func(network, address string, c syscall.RawConn) error

// neverRead opens a stream as a, over a connection that never reads.
func neverRead(t *testing.T, a *admin, path string) {
	t.Helper()
	u, _ := url.Parse(a.ts.URL)
	conn, err := (&net.Dialer{Control: smallReceiveBuffer}).Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var cookies []string
	for _, c := range a.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n", path, u.Host, strings.Join(cookies, "; "))
}

// liveHeap is the heap in use after a collection: what the server really holds.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Issue 10, finding 5: with agent strings of any length, 100 dashboard streams that did not
// read pushed the heap to 1.4 GB. Here 300 streams never read while 30 agents send the longest
// strings the server takes (and try far longer ones) on every heartbeat, with results of the
// largest output taken. ' is the worst character: one byte in JSON, five in HTML (&#39;).
//
//	go test -count=1 -run TestStalledStreamsHeapBound -v ./handlers/
func TestStalledStreamsHeapBound(t *testing.T) {
	const (
		streams  = 300
		agents   = 30
		duration = 15 * time.Second
		// A stalled stream holds at most its window (handlers/live: 8 batches of ~64 KB),
		// one event being written and 256 KB of command cells: ~0.9 MB, 270 MB for 300 on top
		// of ~50 MB. Measured peaks: 216-303 MB (docs/BENCHMARKS.md).
		limit = 400 << 20
		abort = 4 << 30 // give up before the machine runs out of memory
	)
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	worst := func(n int) string { return strings.Repeat("'", n) }
	var ags []*agent
	for i := range agents {
		ags = append(ags, ts.registerWith(map[string]any{"machine_id": fmt.Sprintf("HOSTILE-%02d", i), "pin": pin,
			"hostname": worst(handlers.MaxHostname), "mac_address": fmt.Sprintf("02:00:00:00:00:%02X", i),
			"cpu_model": worst(handlers.MaxSpecText), "os_edition": worst(handlers.MaxSpecText), "os_version": worst(handlers.MaxSpecText)}))
		// Refused since the bounds; before them, a tile of 5 MB in every stream.
		ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": fmt.Sprintf("HUGE-%02d", i), "pin": pin,
			"hostname": worst(1 << 20), "mac_address": "02:00:00:00:01:00"})
	}
	for i := 0; i < streams; i += handlers.StreamsPerSession {
		s := ts.login("admin", testPassword)
		for range min(handlers.StreamsPerSession, streams-i) {
			neverRead(t, s, "/stream?room=")
		}
	}
	for wait := time.Now().Add(time.Minute); ts.hub.Subscribers() < streams; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("%d streams open, want %d", ts.hub.Subscribers(), streams)
		}
	}

	var peak uint64
	sample := func() bool {
		h := liveHeap()
		peak = max(peak, h)
		return h < abort
	}
	sample()
	base := peak
	output, errMsg := worst(handlers.MaxResultOutput), worst(handlers.MaxResultError)
	deadline := time.Now().Add(duration)
	for round := 0; time.Now().Before(deadline) && sample(); round++ {
		var wg sync.WaitGroup
		for i, ag := range ags {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
					"system_info": map[string]any{"cpu_usage": 1.0, "current_user": worst(1 << 20)}})
				ip := fmt.Sprintf("fd00:ffff:ffff:ffff:ffff:%04x:%03d.%03d.%03d.%03d", round, i, i, i, i)
				ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
					"system_info": map[string]any{"cpu_usage": float64(round % 100), "ram_usage_percent": 50.0,
						"current_user": worst(handlers.MaxCurrentUser), "ip_address": ip}})
				if round%8 == 0 { // polls keep the 2 s minimum interval
					cmd := a.do("POST", "/api/admin/pc/"+itoa(ag.PCID)+"/execute", map[string]any{"command": "dir"}).num("command_id")
					ag.poll(nil)
					ag.do("POST", "/api/client/commands/"+itoa(cmd)+"/result",
						map[string]any{"status": "error", "output": output, "error_message": errMsg, "exit_code": 1})
				}
			}()
		}
		wg.Wait()
		time.Sleep(20 * time.Millisecond)
	}
	sample()
	t.Logf("%d streams that never read (%d still open, %.0f updates held back), %d hostile agents for %s: heap after GC %d MB at the start, peak %d MB (limit %d MB)",
		streams, ts.hub.Subscribers(), ts.streamsDeferred(), agents, duration, base>>20, peak>>20, limit>>20)
	if peak > limit {
		t.Errorf("heap after GC reached %d MB with %d stalled streams; the bound is %d MB", peak>>20, streams, limit>>20)
	}
}

// openLive opens a stream and leaves it open when it is served; it returns the refusal's status
// and body otherwise. close ends the stream.
func openLive(t *testing.T, ts *testServer, client *http.Client, path string, header ...string) (status int, body string, close func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, "", func() { cancel(); res.Body.Close() }
	}
	defer cancel()
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	return res.StatusCode, string(raw), func() {}
}

// The (cap+1)th stream of one session, of one wall link, and past the server's totals is refused
// with 429, Retry-After and a message in the page's language; closing a stream frees its slot.
func TestStreamCaps(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.MaxStreams, c.MaxWallStreams = 10, 10 })
	a := ts.admin()
	var closes []func()
	open := func(client *http.Client, path string, want int, mentions ...string) {
		t.Helper()
		status, body, close := openLive(t, ts, client, path)
		if status != want {
			t.Fatalf("stream %d of %s: %d, want %d: %.300s", len(closes)+1, path, status, want, body)
		}
		for _, m := range mentions {
			if !strings.Contains(body, m) {
				t.Errorf("the refusal does not say %q: %.300s", m, body)
			}
		}
		if status == http.StatusOK {
			closes = append(closes, close)
		}
	}
	for range handlers.StreamsPerSession {
		open(a.client, "/stream?room=", 200)
	}
	open(a.client, "/stream?room=", 429, "8개까지")
	if _, body, _ := openLive(t, ts, a.client, "/stream?room=", "Accept-Language", "en"); !strings.Contains(body, "at most 8 per session") {
		t.Errorf("the English refusal: %.300s", body)
	}

	// Closing a stream frees its slot (once the server has seen the browser go).
	closes[0]()
	closes = closes[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _, close := openLive(t, ts, a.client, "/stream?room=")
		if status == http.StatusOK {
			closes = append(closes, close)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot was not freed within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The server's total: 8 open, 2 more from another session, then none.
	b := ts.login("admin", testPassword)
	open(b.client, "/stream?room=", 200)
	open(b.client, "/stream?room=", 200)
	open(b.client, "/stream?room=", 429, "최대 10개")

	// Wall links: per link, and in total apart from the signed-in pages.
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab1", "rows": 1, "cols": 1}).must(t, 200)
	wall := func(label string) string {
		token := tokens.New()
		if _, err := ts.store.CreateWallLink(context.Background(), "Lab1", tokens.Hash(token), label, "admin", time.Now()); err != nil {
			t.Fatal(err)
		}
		return "/wall/Lab1/stream?token=" + token
	}
	front, back := wall("front"), wall("back")
	for range handlers.StreamsPerWallLink {
		open(http.DefaultClient, front, 200)
	}
	open(http.DefaultClient, front, 429, "8개까지")
	open(http.DefaultClient, back, 200)
	open(http.DefaultClient, back, 200)
	open(http.DefaultClient, back, 429, "최대 10개")
	for _, c := range closes {
		c()
	}
}
