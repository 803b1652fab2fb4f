package views

import "time"

// WallView is a room's wall display: large tiles, no controls, nothing personal.
type WallView struct {
	Room            string
	Rows            [][]Seat
	Online, Offline int
	StreamURL       string
	Now             time.Time // the clock's first reading, before the browser's takes over
}

// WallLinkView is one read-only wall link as the links page lists it.
type WallLinkView struct {
	ID        int64
	Label     string
	CreatedBy string
	CreatedAt string
}

// WallLinksView is the page that creates and revokes a room's wall links.
type WallLinksView struct {
	Page
	Room  string
	Links []WallLinkView
	// NewURL is the link just created: its token is shown this once and never again.
	NewURL string
}
