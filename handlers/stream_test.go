package handlers_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"

	"github.com/wcms-lab/wcms/views"
	"github.com/wcms-lab/wcms/wire"
)

// sseEvent is one event read off a stream.
type sseEvent struct {
	name, data string
}

// openStream opens an event stream as the admin and returns its events as they arrive.
func openStream(t *testing.T, a *admin, path string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", a.ts.URL+path, nil)
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 10000)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if name != "" {
					// Like a browser, drop the line feed after the last data line.
					for _, ev := range liveFragments(t, name, strings.TrimSuffix(data, "\n")) {
						out <- ev
					}
				}
				name, data = "", ""
			case strings.HasPrefix(line, "event: "):
				name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data += line[6:] + "\n"
			}
		}
	}()
	return out, cancel
}

var liveWrapper = regexp.MustCompile(`<div id="([^"]+)" hx-swap-oob="innerHTML">`)

// liveFragments splits a live event into one event per element it updates, named by the
// element's id, in the order they came.
func liveFragments(t *testing.T, name, data string) []sseEvent {
	if name != views.LiveEvent {
		t.Errorf("event %q, want only %q", name, views.LiveEvent)
		return nil
	}
	var evs []sseEvent
	starts := liveWrapper.FindAllStringSubmatchIndex(data, -1)
	if len(starts) == 0 || starts[0][0] != 0 {
		t.Errorf("live event without fragments: %q", data)
	}
	for i, m := range starts {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		body, ok := strings.CutSuffix(strings.TrimSuffix(data[m[1]:end], "\n"), "</div>")
		if !ok {
			t.Errorf("fragment %s does not end its wrapper: %q", data[m[2]:m[3]], data[m[1]:end])
		}
		evs = append(evs, sseEvent{name: data[m[2]:m[3]], data: body})
	}
	return evs
}

// until reads events until one matches, failing after 10 s.
func until(t *testing.T, evs <-chan sseEvent, what string, match func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("stream ended before %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s within 10 s", what)
		}
	}
}

func lightHeartbeat(t testing.TB, ts *testServer, ag *agent, cpu float64) {
	t.Helper()
	ram, ip := 40.0, "10.1.1.5"
	if _, err := ts.fleet.Heartbeat(context.Background(), ag.PCID, fleet.Beat{Info: &wire.SystemInfo{CPUUsage: &cpu, RAMUsagePercent: &ram, IPAddress: &ip}}); err != nil {
		t.Fatal(err)
	}
}

func TestStreamSendsTileOnHeartbeat(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "STREAM-1")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 2, "cols": 2}).must(t, 200)
	a.do("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", ag.PCID), map[string]any{"room": "Lab 1", "row": 1, "col": 1}).must(t, 200)

	evs, stop := openStream(t, a, "/stream?room="+url.QueryEscape("Lab 1"))
	defer stop()
	name := fmt.Sprintf("pc-%d-live", ag.PCID)
	first := until(t, evs, "the current tile on connect", func(ev sseEvent) bool { return ev.name == name })
	if !strings.Contains(first.data, "LAB-STREAM-1") {
		t.Fatalf("first tile: %q", first.data)
	}
	// A heartbeat through the agent API changes the tile.
	ag.poll(map[string]any{"heartbeat": map[string]any{"cpu_usage": 77.7, "ram_usage_percent": 12.0, "ip_address": "10.9.9.9"}}).must(t, 200)
	until(t, evs, "the tile with CPU 78%", func(ev sseEvent) bool {
		return ev.name == name && strings.Contains(ev.data, "78%") && strings.Contains(ev.data, "10.9.9.9")
	})

	// A command's status reaches the stream too.
	res := a.do("POST", fmt.Sprintf("/api/admin/pc/%d/command", ag.PCID), map[string]any{"type": "message", "parameters": map[string]any{"message": "<script>x</script>"}}).must(t, 200)
	cmd := fmt.Sprintf("cmd-%d", res.num("command_id"))
	ev := until(t, evs, "the command's cell", func(ev sseEvent) bool { return ev.name == cmd })
	if !strings.Contains(ev.data, `data-status="pending"`) {
		t.Errorf("command cell: %q", ev.data)
	}
}

func TestStreamNeedsSession(t *testing.T) {
	ts := newTestServer(t)
	res := ts.do(nil, "GET", "/stream?room=", nil)
	if res.Status != http.StatusFound {
		t.Fatalf("stream without a session: %d", res.Status)
	}
}

// stalledStream opens a stream over a raw connection and never reads from it.
func stalledStream(t *testing.T, a *admin, path string) net.Conn {
	t.Helper()
	u, _ := url.Parse(a.ts.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	var cookies []string
	for _, c := range a.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n", path, u.Host, strings.Join(cookies, "; "))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// One browser that stops reading must not delay another's updates, and what the server holds
// for it stays bounded by the number of PCs it shows.
func TestStalledBrowserDoesNotDelayOthers(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	const pcs = 100
	var agents []*agent
	for i := range pcs {
		agents = append(agents, ts.register(pin, fmt.Sprintf("STALL-%03d", i)))
	}
	stalledStream(t, a, "/stream?room=")
	evs, stop := openStream(t, a, "/stream?room=")
	defer stop()

	cpuOf := regexp.MustCompile(`data-testid="tile-cpu">(\d+)%`)
	latest := map[string]string{}
	var mu sync.Mutex
	go func() {
		for ev := range evs {
			if m := cpuOf.FindStringSubmatch(ev.data); m != nil {
				mu.Lock()
				latest[ev.name] = m[1]
				mu.Unlock()
			}
		}
	}()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	round := func(r int) {
		for _, ag := range agents {
			lightHeartbeat(t, ts, ag, float64(r%100))
		}
		time.Sleep(5 * time.Millisecond) // let the pumps run, as heartbeats spread over 2 s would
	}
	// Fill the stalled connection's socket buffers (tiles of ~1 KB) until the server has to hold
	// updates back for it.
	for r := 0; ts.streamsDeferred() == 0; r++ {
		if r == 1000 {
			t.Fatal("the stalled stream never filled up")
		}
		round(r)
	}
	before := heap()
	for r := 100; r < 300; r++ { // and keep going with it stalled
		round(r)
	}
	grown := int64(heap()) - int64(before)
	want := fmt.Sprint(299 % 100)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := 0
		for _, ag := range agents {
			if latest[fmt.Sprintf("pc-%d-live", ag.PCID)] == want {
				done++
			}
		}
		mu.Unlock()
		if done == pcs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reading browser has the last state of %d of %d PCs after 10 s, next to a stalled one", done, pcs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("heap grew %d KB over 20,000 more heartbeats with a stalled stream open", grown/1024)
	if grown > 4<<20 {
		t.Errorf("heap grew %d KB while a stalled stream was open: it should hold at most one tile per PC", grown/1024)
	}
}

// Streams leave nothing behind when their browsers go away.
func TestStreamsLeaveNoGoroutines(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ts.register(ts.pin(a, "single"), "LEAK-1")
	settle := func() int {
		time.Sleep(100 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	base := settle()
	var stops []func()
	sessions := []*admin{a}
	for i := range 20 {
		if i > 0 && i%handlers.StreamsPerSession == 0 {
			a = ts.admin()
			sessions = append(sessions, a)
		}
		evs, stop := openStream(t, a, "/stream?room=")
		until(t, evs, "the first tile", func(ev sseEvent) bool { return strings.HasPrefix(ev.name, "pc-") })
		stops = append(stops, stop)
	}
	conns := []net.Conn{}
	a = ts.admin()
	sessions = append(sessions, a)
	for range 5 {
		conns = append(conns, stalledStream(t, a, "/stream?room="))
	}
	during := runtime.NumGoroutine()
	for _, stop := range stops {
		stop()
	}
	for _, c := range conns {
		c.Close()
	}
	for _, s := range sessions {
		s.client.CloseIdleConnections()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := settle()
		if n <= base+2 {
			t.Logf("goroutines: %d before, %d with 25 streams, %d after", base, during, n)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after the browsers left\n%s", base, n, buf[:runtime.Stack(buf, true)])
		}
	}
	if subs := ts.hub.Subscribers(); subs != 0 {
		t.Errorf("%d hub subscriptions left", subs)
	}
}

func TestWallLinkShowsRoomWithoutLogin(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "WALL-1")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab <1>", "rows": 1, "cols": 2}).must(t, 200)
	a.do("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", ag.PCID), map[string]any{"room": "Lab <1>", "row": 1, "col": 2}).must(t, 200)
	user := "<b>student</b>"
	ts.fleet.Heartbeat(context.Background(), ag.PCID, fleet.Beat{Info: &wire.SystemInfo{CurrentUser: &user}, Full: true})

	// Creating a link needs an operator and the CSRF token.
	form := url.Values{"label": {"front"}, "csrf_token": {a.csrf}}
	page := a.sendForm("POST", "/walls?room="+url.QueryEscape("Lab <1>"), form).must(t, 200)
	link := regexp.MustCompile(`data-testid="wall-new-url">([^<]+)<`).FindStringSubmatch(page.Raw)
	if link == nil {
		t.Fatalf("no new link on the page: %s", page.Raw)
	}
	wallURL := strings.ReplaceAll(link[1], "&amp;", "&")
	path := strings.TrimPrefix(wallURL, ts.URL)
	if res := ts.do(nil, "POST", "/walls?room=x", "label=x", "Content-Type", formType); res.Status != http.StatusFound {
		t.Errorf("creating a link without a session: %d", res.Status)
	}

	res := ts.do(nil, "GET", path, nil).must(t, 200)
	body := res.Raw
	if !strings.Contains(body, "LAB-WALL-1") || strings.Contains(body, "student") {
		t.Errorf("wall page: hostname shown %v, console user shown %v", strings.Contains(body, "LAB-WALL-1"), strings.Contains(body, "student"))
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the wall page would leak its token in the Referer header")
	}
	for _, bad := range []string{"/wall/Lab%20%3C1%3E?token=wrong", "/wall/Lab%20%3C1%3E", "/wall/Other?" + strings.SplitN(path, "?", 2)[1]} {
		if res := ts.do(nil, "GET", bad, nil); res.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, res.Status)
		}
	}

	// Its stream works without a session, and stops working once the link is revoked.
	streamPath := strings.Replace(path, "?", "/stream?", 1)
	req, _ := http.NewRequest("GET", ts.URL+streamPath, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sres, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil || sres.StatusCode != 200 {
		t.Fatalf("wall stream: %v %v", err, sres)
	}
	chunk := make([]byte, 4096)
	n, _ := io.ReadAtLeast(sres.Body, chunk, 100)
	sres.Body.Close()
	if !strings.Contains(string(chunk[:n]), "wall-tile-body") || strings.Contains(string(chunk[:n]), "student") {
		t.Errorf("wall stream's first event: %q", chunk[:n])
	}
	links, _ := ts.store.WallLinks(context.Background(), "Lab <1>")
	a.sendForm("POST", fmt.Sprintf("/walls/%d/revoke?room=%s", links[0].ID, url.QueryEscape("Lab <1>")), url.Values{"csrf_token": {a.csrf}}).must(t, http.StatusSeeOther)
	if res := ts.do(nil, "GET", path, nil); res.Status != http.StatusNotFound {
		t.Errorf("revoked link: %d, want 404", res.Status)
	}
}

// streamsDeferred reads wcms_stream_events_deferred_total from /metrics.
func (ts *testServer) streamsDeferred() float64 {
	ts.t.Helper()
	m := regexp.MustCompile(`(?m)^wcms_stream_events_deferred_total (\S+)$`).FindStringSubmatch(ts.do(nil, "GET", "/metrics", nil).Raw)
	if m == nil {
		ts.t.Fatal("no wcms_stream_events_deferred_total in /metrics")
	}
	var v float64
	fmt.Sscan(m[1], &v)
	return v
}

// A room's stream follows PCs placed in it and taken out of it while it is open.
func TestStreamFollowsLayoutChanges(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "MOVE-1")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 2", "rows": 1, "cols": 2}).must(t, 200)
	evs, stop := openStream(t, a, "/stream?room="+url.QueryEscape("Lab 2"))
	defer stop()
	time.Sleep(100 * time.Millisecond) // the stream has subscribed
	seat := func(room any) {
		a.do("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", ag.PCID), map[string]any{"room": room, "row": 1, "col": 1}).must(t, 200)
	}
	name := fmt.Sprintf("pc-%d-live", ag.PCID)

	seat("Lab 2")
	until(t, evs, "the layout notice after placing", func(ev sseEvent) bool { return ev.name == "layout-changed" })
	lightHeartbeat(t, ts, ag, 55)
	until(t, evs, "the placed PC's tile", func(ev sseEvent) bool { return ev.name == name && strings.Contains(ev.data, "55%") })

	seat(nil)
	until(t, evs, "the layout notice after unplacing", func(ev sseEvent) bool { return ev.name == "layout-changed" })
	lightHeartbeat(t, ts, ag, 66)
	lightHeartbeat(t, ts, ag, 67)
	res := a.do("POST", fmt.Sprintf("/api/admin/pc/%d/command", ag.PCID), map[string]any{"type": "message", "parameters": map[string]any{"message": "x"}}).must(t, 200)
	cmd := fmt.Sprintf("cmd-%d", res.num("command_id"))
	// Events arrive in order of publication per stream: the command cell comes after any tile
	// the heartbeats would have caused.
	until(t, evs, "the command marker", func(ev sseEvent) bool {
		if ev.name == name && (strings.Contains(ev.data, "66%") || strings.Contains(ev.data, "67%")) {
			t.Fatalf("a PC taken out of the room still sends its tile: %q", ev.data)
		}
		return ev.name == cmd
	})
}

// An open room page learns that its room was resized, renamed or deleted: it is asked to reload.
// Before, the room operations published nothing and the page went on showing the old room.
func TestStreamFollowsRoomChanges(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "ROOM-1")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 3", "rows": 2, "cols": 2}).must(t, 200)
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Empty", "rows": 1, "cols": 1}).must(t, 200)
	a.do("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", ag.PCID), map[string]any{"room": "Lab 3", "row": 1, "col": 1}).must(t, 200)
	layout := func(ev sseEvent) bool { return ev.name == "layout-changed" }

	evs, stop := openStream(t, a, "/stream?room="+url.QueryEscape("Lab 3"))
	defer stop()
	time.Sleep(100 * time.Millisecond) // the stream has subscribed
	a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab 3"), map[string]any{"rows": 3, "cols": 3}).must(t, 200)
	until(t, evs, "the layout notice after a resize", layout)
	a.do("PUT", "/api/admin/room/"+url.PathEscape("Lab 3"), map[string]any{"name": "Lab 4"}).must(t, 200)
	until(t, evs, "the layout notice after a rename", layout)
	// The PC went with its room: the API, and a stream of the new name, have it there.
	res := a.do("GET", "/api/admin/pcs?room="+url.QueryEscape("Lab 4"), nil).must(t, 200)
	if pcs := res.Body["pcs"].([]any); len(pcs) != 1 || pcs[0].(map[string]any)["room_name"] != "Lab 4" {
		t.Fatalf("PCs of the renamed room: %s", res.Raw)
	}
	renamed, stopRenamed := openStream(t, a, "/stream?room="+url.QueryEscape("Lab 4"))
	defer stopRenamed()
	until(t, renamed, "the PC's tile in the renamed room", func(ev sseEvent) bool { return ev.name == fmt.Sprintf("pc-%d-live", ag.PCID) })

	empty, stopEmpty := openStream(t, a, "/stream?room=Empty")
	defer stopEmpty()
	time.Sleep(100 * time.Millisecond)
	a.do("DELETE", "/api/admin/room/Empty", nil).must(t, 200)
	until(t, empty, "the layout notice after a delete", layout)
}

// A room page's counts and room list follow the fleet live: a PC that goes off changes the
// room's "online" and its tab's "n/total", without a reload. Before, only the tile changed.
func TestStreamSendsLiveCounts(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 3", "rows": 1, "cols": 2}).must(t, 200)
	var ags []*agent
	for i := range 2 {
		ag := ts.register(pin, fmt.Sprintf("COUNT-%d", i))
		a.do("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", ag.PCID), map[string]any{"room": "Lab 3", "row": 1, "col": 1 + i}).must(t, 200)
		ag.poll(nil).must(t, 200)
		ags = append(ags, ag)
	}
	evs, stop := openStream(t, a, "/stream?room="+url.QueryEscape("Lab 3"))
	defer stop()
	until(t, evs, "the counts on connect", func(ev sseEvent) bool {
		return ev.name == "counts-0" && strings.Contains(ev.data, "온라인 2") && strings.Contains(ev.data, "오프라인 0")
	})

	ags[1].do("POST", "/api/client/shutdown", map[string]any{"machine_id": ags[1].MachineID}).must(t, 200)
	// The counts and the room list come in one round, in either order.
	var room, tab bool
	until(t, evs, "the room's counts and its tab after a PC went off", func(ev sseEvent) bool {
		switch ev.name {
		case "counts-0":
			room = strings.Contains(ev.data, "온라인 1") && strings.Contains(ev.data, "오프라인 1")
		case "counts-1":
			doc := parseHTML(t, "<!doctype html><body>"+ev.data)
			for _, n := range byTestIDAll(doc, "room-tab") {
				if attr(n, "data-room") == "Lab 3" {
					tab = textOf(byTestID(t, n, "room-tab-count")) == "1/2"
				}
			}
		}
		return room && tab
	})
}
