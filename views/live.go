package views

import "strconv"

// LiveEvent is the one SSE event name of every live page. Its data is a batch of fragments,
// each wrapped by AppendLive, which htmx swaps out of band into the elements they name: one
// event carries every change of a moment, so a page showing thousands of PCs costs the server
// one write per batch rather than one per PC.
const LiveEvent = "live"

// LiveKind says what a live element shows.
type LiveKind uint8

// The kinds of live element.
const (
	LiveTile        LiveKind = iota // a PC tile's body: ID is the PC
	LiveCommand                     // a command's cell: ID is the command
	LiveLayout                      // the notice that the PCs shown changed: no ID
	LiveCounts                      // a page's counts of PCs online: ID numbers them in the page
	LiveClock                       // the server's time, sent now and then: a stream that stops is seen
	LiveRoomActions                 // the room's power actions (RoomActionsPanel): no ID
)

// The LiveCounts elements of the room page; the wall's counts are CountsHere too.
const (
	CountsHere  = 0 // the PCs shown online and offline
	CountsRooms = 1 // every room's tab with its counts
)

// Target is one element a live page updates.
type Target struct {
	Kind LiveKind
	ID   int64
}

// ElementID is the target's element id in the page.
func (t Target) ElementID() string { return string(t.appendID(nil)) }

func (t Target) appendID(dst []byte) []byte {
	switch t.Kind {
	case LiveTile:
		return append(strconv.AppendInt(append(dst, "pc-"...), t.ID, 10), "-live"...)
	case LiveCommand:
		return strconv.AppendInt(append(dst, "cmd-"...), t.ID, 10)
	case LiveCounts:
		return strconv.AppendInt(append(dst, "counts-"...), t.ID, 10)
	case LiveClock:
		return append(dst, "live-clock"...)
	case LiveRoomActions:
		return append(dst, "room-actions"...)
	}
	return append(dst, "layout-changed"...)
}

// AppendLive appends body as an update of t's element to a LiveEvent batch, one fragment a
// line. body is a rendered component, already escaped.
func AppendLive(dst []byte, t Target, body []byte) []byte {
	if len(dst) > 0 {
		dst = append(dst, '\n')
	}
	dst = append(dst, `<div id="`...)
	dst = t.appendID(dst)
	dst = append(dst, `" hx-swap-oob="innerHTML">`...)
	dst = append(dst, body...)
	return append(dst, "</div>"...)
}
