package views

import (
	"fmt"
	"net/url"
	"strconv"
)

// Tile is one PC as a seat tile shows it.
type Tile struct {
	ID       int64
	Hostname string
	IP       string
	User     string
	Online   bool
	CPU, RAM *float64
}

// TileID is the element id of a PC's tile. Its live body is Target{LiveTile, id}.
func TileID(id int64) string { return "pc-" + strconv.FormatInt(id, 10) }

// Seat is one cell of a room's grid; PC is nil for an empty seat.
type Seat struct {
	Row, Col int
	PC       *Tile
}

// RoomTab is a room in the room list.
type RoomTab struct {
	Name          string
	Online, Total int
}

// RoomView is the home page: one room's seat grid, or the PCs not yet placed.
type RoomView struct {
	Page
	Rooms    []RoomTab
	Room     string // "" shows the unplaced PCs
	Rows     [][]Seat
	Unplaced []Tile
	Online   int
	Offline  int
	// StreamURL is where this page's live updates come from.
	StreamURL string
	Alerts    IdentityAlerts
	Actions   RoomActions // the room's power actions
}

// load is a CPU percentage's colour band: green under 50 %, amber under 80 %, red above.
func load(t Tile) string {
	switch {
	case !t.Online:
		return "off"
	case t.CPU == nil || *t.CPU < 50:
		return "ok"
	case *t.CPU < 80:
		return "warn"
	default:
		return "bad"
	}
}

func pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", *v)
}

// barWidth is a percentage as an SVG width attribute (CSP forbids inline styles).
func barWidth(v *float64) string {
	if v == nil {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", max(0, min(100, *v)))
}

// wallClass is a wall tile's colours: dark, readable across a room.
func wallClass(t Tile) string {
	switch load(t) {
	case "off":
		return "bg-slate-800 text-slate-500 ring-slate-700"
	case "warn":
		return "bg-amber-900/60 text-white ring-amber-400"
	case "bad":
		return "bg-red-900/70 text-white ring-red-500"
	}
	return "bg-emerald-900/60 text-white ring-emerald-500"
}

func urlQuery(s string) string { return url.QueryEscape(s) }
