package handlers

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/handlers/live"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

const langCookie = "lang"

// withLang puts the page language (the switch's cookie, else the browser's preference) into the
// request context, where every component reads it.
func (s *Server) withLang(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var cookie string
		if ck, err := c.Cookie(langCookie); err == nil {
			cookie = ck.Value
		}
		r := c.Request()
		lang := views.ParseLang(cookie, r.Header.Get("Accept-Language"))
		c.SetRequest(r.WithContext(views.WithLang(r.Context(), lang)))
		return next(c)
	}
}

// switchLang remembers the chosen language for a year and goes back to the page (local paths
// only, so the switch cannot redirect elsewhere).
func (s *Server) switchLang(c echo.Context) error {
	lang := views.ParseLang(c.Param("lang"), "")
	c.SetCookie(&http.Cookie{Name: langCookie, Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
	return c.Redirect(http.StatusSeeOther, localTarget(c.QueryParam("next")))
}

// page is the frame data of a signed-in page.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	a := currentAdmin(c)
	return views.Page{Title: title, User: a.Username, Role: a.Role, Nav: nav, Version: s.cfg.Version,
		CSRF: c.Get(ctxSession).(*models.Session).CSRFToken, Path: c.Request().URL.RequestURI()}
}

// render renders a component into a buffer first, so a failed render is a clean 500.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	c.Response().Header().Set("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX tells whether the request comes from htmx and wants a fragment.
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	// A history restore reloads a whole page the browser no longer has.
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" && h.Get("HX-History-Restore-Request") != "true"
}

// renderPage renders the whole page, or for an htmx request only its fragment.
func (s *Server) renderPage(c echo.Context, full, fragment templ.Component) error {
	if isHTMX(c) && fragment != nil {
		return s.render(c, http.StatusOK, fragment)
	}
	return s.render(c, http.StatusOK, full)
}

// roomPage is the home page: one room's seats (?room=NAME), or the PCs not placed (?room=).
// Without ?room it opens the first room.
func (s *Server) roomPage(c echo.Context) error {
	ctx := c.Request().Context()
	rooms, err := s.store.ListRooms(ctx)
	if err != nil {
		return err
	}
	room, given := c.QueryParam("room"), c.QueryParams().Has("room")
	if !given && len(rooms) > 0 {
		room = rooms[0].Name
	}
	v := views.RoomView{Page: s.page(c, views.T(ctx, "강의실", "Rooms"), "rooms"), Room: room}
	if v.Alerts, err = s.identityAlerts(ctx, v.CanOperate()); err != nil {
		return err
	}
	counts := s.fleet.Counts()
	v.Rooms = roomTabs(rooms, counts)
	here := s.fleet.Views(inRoom(room))
	v.Online, v.Offline = counts[room].Online, counts[room].Total-counts[room].Online
	if room != "" {
		i := slices.IndexFunc(rooms, func(r models.RoomRow) bool { return r.Name == room })
		if i < 0 {
			return newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", room)
		}
		v.Rows = seatGrid(rooms[i].Rows, rooms[i].Cols, here)
		if v.Actions, err = s.roomActions(c, rooms[i].ID, room); err != nil {
			return err
		}
		v.Prefix = views.Shorten(views.SeatTiles(v.Rows))
		if v.Chart, err = s.roomDay(ctx, room, here); err != nil {
			return err
		}
	} else {
		for i := range here {
			v.Unplaced = append(v.Unplaced, live.TileOf(&here[i]))
		}
		v.Prefix = views.Shorten(pointers(v.Unplaced))
	}
	if len(counts) == 0 {
		if v.FirstRun, err = s.firstRun(c, len(rooms) > 0); err != nil {
			return err
		}
	}
	v.StreamURL = "/stream?room=" + url.QueryEscape(room)
	return s.render(c, http.StatusOK, views.RoomPage(v))
}

// firstRun is what an install with no PC still needs.
func (s *Server) firstRun(c echo.Context, hasRoom bool) (*views.FirstRun, error) {
	pins, err := s.store.ListPINs(c.Request().Context(), time.Now())
	if err != nil {
		return nil, err
	}
	return &views.FirstRun{URLReachable: s.installWarning(c) == nil, HasPIN: len(pins) > 0, HasRoom: hasRoom}, nil
}

// everyPC keeps every PC, for fleet.Views.
func everyPC(*models.PCView) bool { return true }

// roomTabs are the rooms with their counts, and last the PCs not placed (the tab named "").
func roomTabs(rooms []models.RoomRow, counts map[string]models.RoomCount) []views.RoomTab {
	tabs := make([]views.RoomTab, 0, len(rooms)+1)
	for _, r := range rooms {
		tabs = append(tabs, views.RoomTab{Name: r.Name, Online: counts[r.Name].Online, Total: counts[r.Name].Total})
	}
	return append(tabs, views.RoomTab{Online: counts[""].Online, Total: counts[""].Total})
}

// pointers points at each element of s.
func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// namePrefix is what the hostnames of pcs share, as the page showing them shortens them by.
func namePrefix(pcs []models.PCView) string {
	names := make([]string, len(pcs))
	for i := range pcs {
		names[i] = pcs[i].Hostname
	}
	return views.NamePrefix(names)
}

// seatGrid lays a room's PCs out on its rows × cols; a PC whose seat lies outside the grid
// (the room shrank) is still shown, on an extra row.
func seatGrid(rows, cols int, pcs []models.PCView) [][]views.Seat {
	grid := make([][]views.Seat, rows)
	for r := range grid {
		grid[r] = make([]views.Seat, cols)
		for c := range grid[r] {
			grid[r][c] = views.Seat{Row: r + 1, Col: c + 1}
		}
	}
	var extra []views.Seat
	for i := range pcs {
		p := &pcs[i]
		t := live.TileOf(p)
		if p.SeatRow != nil && p.SeatCol != nil && *p.SeatRow >= 1 && *p.SeatRow <= rows && *p.SeatCol >= 1 && *p.SeatCol <= cols {
			grid[*p.SeatRow-1][*p.SeatCol-1].PC = &t
		} else {
			extra = append(extra, views.Seat{PC: &t})
		}
	}
	if len(extra) > 0 {
		grid = append(grid, extra)
	}
	return grid
}

// commandView is a stored command as the pages show it; its parameters lose their secrets.
func commandView(c *models.Command, hostname string) views.CommandView {
	return views.CommandView{ID: c.ID, PCID: c.PCID, Hostname: hostname, Type: c.Type,
		Summary: models.StripSecrets(c.Parameters), Status: c.Status, Output: c.Output,
		ErrorMessage: c.ErrorMessage, ExitCode: c.ExitCode, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, CompletedAt: c.CompletedAt, ExpiresAt: c.ExpiresAt}
}
