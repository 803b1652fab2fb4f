package views

import "strconv"

// LayoutRoom is a room as the layout editor lists it.
type LayoutRoom struct {
	Name       string
	Rows, Cols int
	PCs        int // how many PCs sit in it
}

// PlaceablePC is a PC the seat picker offers; Room is "" for a PC not placed yet.
type PlaceablePC struct {
	ID       int64
	Hostname string
	Room     string
	Row, Col int
}

// UnverifiedPC is a PC neither a PIN nor an admin has verified.
type UnverifiedPC struct {
	ID        int64
	Hostname  string
	MachineID string
}

// LayoutView is the layout editor: the rooms, one room's seat grid, and the PCs to place.
type LayoutView struct {
	Page
	Rooms []LayoutRoom
	Room  *LayoutRoom // the room being edited; nil when there is none
	Grid  [][]Seat
	// Pick is the empty seat the picker is open on; nil when it is closed.
	Pick       *Seat
	PCs        []PlaceablePC // every PC, for the picker
	Unverified []UnverifiedPC
	FillPrefix string      // the fill form's first prefix
	Preview    FillPreview // what a fill with it would do
	Notice     string      // what the last fill or unplace did; "" for none
}

// FillPreview is what a fill would do: how many unplaced PCs its prefix matches, how many seats
// are empty, and the room's grid with the PCs it would place.
type FillPreview struct {
	Matches, Free int
	Grid          [][]PreviewSeat
}

// PreviewSeat is a seat of the preview: empty (Hostname ""), taken, or New, filled by the fill.
type PreviewSeat struct {
	Hostname string
	New      bool
}

// roomName is the edited room's name, "" when there is none.
func (v LayoutView) roomName() string {
	if v.Room == nil {
		return ""
	}
	return v.Room.Name
}

// placed splits the picker's PCs: not placed yet (placed false), or placed somewhere.
func (v LayoutView) placed(placed bool) []PlaceablePC {
	var out []PlaceablePC
	for _, p := range v.PCs {
		if (p.Room != "") == placed {
			out = append(out, p)
		}
	}
	return out
}

func (v LayoutView) picked(s Seat) bool {
	return v.Pick != nil && v.Pick.Row == s.Row && v.Pick.Col == s.Col
}

// Room names travel in queries and form fields, never in paths: a name such as ".." would be
// resolved away by the browser.

// layoutURL is the editor showing room.
func layoutURL(room string) string { return "/layout?room=" + urlQuery(room) }

// seatURL is the editor with the picker open on a seat of room.
func seatURL(room string, row, col int) string {
	return layoutURL(room) + "&row=" + strconv.Itoa(row) + "&col=" + strconv.Itoa(col)
}

// pcActionURL is an action on a PC; room is the room the editor shows afterwards.
func pcActionURL(id int64, action, room string) string {
	return "/layout/pc/" + strconv.FormatInt(id, 10) + "/" + action + "?room=" + urlQuery(room)
}

func seatLabel(row, col int) string { return strconv.Itoa(row) + "-" + strconv.Itoa(col) }
