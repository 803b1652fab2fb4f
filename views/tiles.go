package views

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wcms-lab/wcms/wire"
)

// Tile is one PC as a seat tile shows it.
type Tile struct {
	ID       int64
	Hostname string
	// Short is the name the tile shows: the hostname without the prefix its room's PCs share
	// (ShortName); "" shows the whole hostname.
	Short    string
	IP       string
	User     string
	Online   bool
	CPU, RAM *float64
	// AgentVersion is the agent's version, wire.AgentCompatible for a client not ours, "" unknown.
	AgentVersion string
	// Wake is its wake as the tile shows it: models.WakeWaking, WakeAwake (WakeTook is how long
	// it took) or WakeFailed; "" shows none.
	Wake     string
	WakeTook time.Duration
}

// agentText names an agent version for people.
func agentText(ctx context.Context, v string) string {
	switch v {
	case "":
		return T(ctx, "알 수 없음", "unknown")
	case wire.AgentCompatible:
		return T(ctx, "0.8.6 호환 클라이언트", "0.8.6-compatible client")
	}
	return v
}

// title is what a tile says on hover: the whole hostname and its agent.
func (t Tile) title(ctx context.Context) string {
	return t.Hostname + " · " + T(ctx, "에이전트 ", "agent ") + agentText(ctx, t.AgentVersion)
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
	// Prefix is what the hostnames shown share, said once in the header (NamePrefix).
	Prefix string
	// FirstRun, on an install with no PC yet, is what is left to do; nil once a PC registered.
	FirstRun *FirstRun
	// StreamURL is where this page's live updates come from.
	StreamURL string
	Alerts    IdentityAlerts
	Actions   RoomActions // the room's power actions
	Chart     *RoomChart  // the room's day; nil for the PCs not placed
}

// hasPCs tells whether the page shows any PC, and so whether commands could reach one.
func (v RoomView) hasPCs() bool { return len(v.Unplaced) > 0 || len(SeatTiles(v.Rows)) > 0 }

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

func urlQuery(s string) string { return url.QueryEscape(s) }

// NamePrefix is the start that every name shares, cut just after its last '-', '_', '.' or
// space, so that ENG301-PC01…ENG301-PC48 share "ENG301-" and their tiles can show PC01…PC48 — a
// cut inside a word would leave "01" and "10" for PC01 and PC10 of another series. It is "" for
// fewer than two names or when they share no whole part.
func NamePrefix(names []string) string {
	if len(names) < 2 {
		return ""
	}
	common := names[0]
	for _, n := range names[1:] {
		i := 0
		for i < len(common) && i < len(n) && common[i] == n[i] {
			i++
		}
		common = common[:i]
	}
	return common[:strings.LastIndexAny(common, "-_. ")+1]
}

// ShortName is host without prefix; the whole host when that would leave nothing.
func ShortName(host, prefix string) string {
	if short, ok := strings.CutPrefix(host, prefix); ok && short != "" {
		return short
	}
	return host
}

// Shorten sets the Short name of every tile in tiles to its hostname without the prefix they
// share, and returns the prefix.
func Shorten(tiles []*Tile) string {
	names := make([]string, len(tiles))
	for i, t := range tiles {
		names[i] = t.Hostname
	}
	prefix := NamePrefix(names)
	for _, t := range tiles {
		t.Short = ShortName(t.Hostname, prefix)
	}
	return prefix
}

// SeatTiles are the tiles of a seat grid, row by row.
func SeatTiles(rows [][]Seat) []*Tile {
	var out []*Tile
	for _, row := range rows {
		for _, s := range row {
			if s.PC != nil {
				out = append(out, s.PC)
			}
		}
	}
	return out
}

// name is what a tile shows as its name.
func (t Tile) name() string { return cmp.Or(t.Short, t.Hostname) }

// nameSize is a wall tile's name length class: the wall sizes the name to its tile's width by
// it (static/src/app.css), since the page's CSP allows no inline style.
func nameSize(t Tile) string {
	switch n := utf8.RuneCountInString(t.name()); {
	case n <= 4:
		return "s"
	case n <= 6:
		return "m"
	case n <= 9:
		return "l"
	}
	return "xl"
}
