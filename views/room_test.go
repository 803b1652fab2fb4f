package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/wcms-lab/wcms/views"
)

func ptr(f float64) *float64 { return &f }

// hostileRoom is a room page with hostile text wherever an agent or admin can put some.
func hostileRoom() views.RoomView {
	pc := views.Tile{ID: 7, Hostname: hostile, IP: hostile, User: hostile, Online: true, CPU: ptr(91), RAM: ptr(40)}
	off := views.Tile{ID: 8, Hostname: "lab-08", Online: false}
	return views.RoomView{
		Page:   views.Page{Title: hostile, User: hostile, Role: "operator", CSRF: hostile, Nav: "rooms", Path: "/?room=" + hostile, Version: hostile},
		Rooms:  []views.RoomTab{{Name: hostile, Online: 1, Total: 2}},
		Room:   hostile,
		Rows:   [][]views.Seat{{{Row: 1, Col: 1, PC: &pc}, {Row: 1, Col: 2}}, {{Row: 2, Col: 1, PC: &off}, {Row: 2, Col: 2}}},
		Online: 1, Offline: 1, StreamURL: "/stream?room=x",
	}
}

func TestRoomPage(t *testing.T) {
	doc := render(t, views.RoomPage(hostileRoom()))
	tiles := byTestIDAll(doc, "tile")
	if len(tiles) != 2 {
		t.Fatalf("%d tiles, want 2", len(tiles))
	}
	if n := len(byTestIDAll(doc, "empty-seat")); n != 2 {
		t.Errorf("%d empty seats, want 2", n)
	}
	body := byTestIDAll(tiles[0], "tile-body")[0]
	if attr(body, "data-state") != "bad" || text(byTestIDAll(tiles[0], "tile-cpu")[0]) != "91%" {
		t.Errorf("a PC at 91 %% CPU: state %q, cpu %q", attr(body, "data-state"), text(byTestIDAll(tiles[0], "tile-cpu")[0]))
	}
	if got := text(byTestIDAll(tiles[0], "tile-hostname")[0]); got != hostile {
		t.Errorf("hostname shown as %q, want the text itself", got)
	}
	if attr(byTestIDAll(tiles[1], "tile-body")[0], "data-state") != "off" {
		t.Error("an offline PC's tile is not grey")
	}
	live := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "pc-7-live" })
	if len(live) != 1 || len(byTestIDAll(live[0], "tile-body")) != 1 {
		t.Errorf("tile 7 has no pc-7-live element holding its body")
	}
	room := byTestID(t, doc, "room")
	if attr(room, "hx-ext") != "sse" || attr(room, "sse-connect") != "/stream?room=x" {
		t.Errorf("room section: hx-ext %q sse-connect %q", attr(room, "hx-ext"), attr(room, "sse-connect"))
	}
	if n := len(byTestIDAll(doc, "tile-select")); n != 2 {
		t.Errorf("an operator gets %d selection boxes, want 2", n)
	}
	if !strings.Contains(attr(byTestID(t, doc, "wall-link"), "href"), "/walls?room=") {
		t.Error("no wall display link")
	}
}

func TestRoomPageForViewer(t *testing.T) {
	v := hostileRoom()
	v.Role = "viewer"
	doc := render(t, views.RoomPage(v))
	if n := len(byTestIDAll(doc, "tile-select")) + len(byTestIDAll(doc, "bulk-form")); n != 0 {
		t.Errorf("a viewer sees %d selection/command elements, want none", n)
	}
	if n := len(byTestIDAll(doc, "nav-pins")) + len(byTestIDAll(doc, "nav-accounts")); n != 0 {
		t.Errorf("a viewer sees links to PINs or accounts")
	}
}

// An empty room (a fresh install) offers no command that could reach nothing.
func TestEmptyRoomOffersNoCommands(t *testing.T) {
	v := hostileRoom()
	v.Rows = [][]views.Seat{{{Row: 1, Col: 1}}}
	doc := render(t, views.RoomPage(v))
	if n := len(byTestIDAll(doc, "bulk-form")); n != 0 {
		t.Errorf("an operator sees the command bar in a room with no PC")
	}
	v.Room, v.Rows, v.Unplaced = "", nil, []views.Tile{{ID: 1, Hostname: "PC-1"}}
	if n := len(byTestIDAll(render(t, views.RoomPage(v)), "bulk-form")); n != 1 {
		t.Errorf("with a PC not placed, the command bar is missing")
	}
}

// BenchmarkTileBody is the cost of one live update per browser: the stream renders this for
// every heartbeat of a PC on screen.
func BenchmarkTileBody(b *testing.B) {
	t := views.Tile{ID: 7, Hostname: "LAB1-07", IP: "10.0.0.7", User: `LAB\student`, Online: true, CPU: ptr(42), RAM: ptr(61)}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := views.TileBody(t).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/tile")
}

// A room's tiles show what tells their PCs apart: the shared start is cut at a separator, never
// inside a word (PC01 and PC10 keep their "PC"), and a name is never left empty.
func TestNamePrefix(t *testing.T) {
	for _, c := range []struct {
		names  []string
		prefix string
		short  []string
	}{
		{[]string{"ENG301-PC01", "ENG301-PC02", "ENG301-PC10"}, "ENG301-", []string{"PC01", "PC02", "PC10"}},
		{[]string{"ENG301-STUDENT-01", "ENG301-STUDENT-48"}, "ENG301-STUDENT-", []string{"01", "48"}},
		{[]string{"lab_a.pc1", "lab_a.pc2"}, "lab_a.", []string{"pc1", "pc2"}},
		{[]string{"LAB1PC01", "LAB1PC02"}, "", []string{"LAB1PC01", "LAB1PC02"}},                                           // no separator: whole names
		{[]string{"ENG301-PC01"}, "", []string{"ENG301-PC01"}},                                                             // one PC: nothing to tell apart
		{[]string{"ENG301-", "ENG301-PC01"}, "ENG301-", []string{"ENG301-", "PC01"}},                                       // never empty
		{[]string{"A-1", "B-1"}, "", []string{"A-1", "B-1"}},                                                               // nothing shared
		{[]string{"강의실-1", "강의실-2"}, "강의실-", []string{"1", "2"}},                                                           // bytes, cut on a separator
		{[]string{"PC-01", "PC-01"}, "PC-", []string{"01", "01"}},                                                          // clones share a name
		{[]string{"ENG301-PC01", "ENG302-PC01", "ENG301-PC02"}, "", []string{"ENG301-PC01", "ENG302-PC01", "ENG301-PC02"}}, // ENG30 is no whole part
	} {
		tiles := make([]*views.Tile, len(c.names))
		for i, n := range c.names {
			tiles[i] = &views.Tile{Hostname: n}
		}
		if got := views.Shorten(tiles); got != c.prefix {
			t.Errorf("%q: prefix %q, want %q", c.names, got, c.prefix)
		}
		for i, tl := range tiles {
			if tl.Short != c.short[i] {
				t.Errorf("%q: %q shows %q, want %q", c.names, tl.Hostname, tl.Short, c.short[i])
			}
		}
	}
}
