package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/views"
)

// wallRoom checks a wall link's token against the room in the path.
func (s *Server) wallRoom(c echo.Context) (*models.Room, error) {
	token := c.QueryParam("token")
	room, err := s.store.WallRoom(c.Request().Context(), tokens.Hash(token))
	if token == "" || errors.Is(err, models.ErrNotFound) || (err == nil && room.Name != c.Param("room")) {
		return nil, newError(http.StatusNotFound, codeNotFound, "없거나 폐기된 상황판 링크입니다. 관리자에게 새 링크를 받으세요.",
			"this wall link does not exist or was revoked")
	}
	return room, err
}

func (s *Server) wallPage(c echo.Context) error {
	room, err := s.wallRoom(c)
	if err != nil {
		return err
	}
	pcs := s.fleet.Views(inRoom(room.Name))
	v := views.WallView{Room: room.Name, Now: time.Now(),
		StreamURL: "/wall/" + url.PathEscape(room.Name) + "/stream?token=" + url.QueryEscape(c.QueryParam("token"))}
	n := s.fleet.Counts()[room.Name]
	v.Online, v.Offline = n.Online, n.Total-n.Online
	v.Rows = trimEmpty(seatGrid(room.Rows, room.Cols, pcs))
	views.Shorten(views.SeatTiles(v.Rows))
	c.Response().Header().Set("Referrer-Policy", "no-referrer") // the token must not leak onward
	return s.render(c, http.StatusOK, views.WallPage(v))
}

// trimEmpty drops the rows and columns at the grid's edges that hold no PC: a wall gives the
// screen to the seats in use.
func trimEmpty(grid [][]views.Seat) [][]views.Seat {
	rowUsed := func(r int) bool { return slices.ContainsFunc(grid[r], func(s views.Seat) bool { return s.PC != nil }) }
	colUsed := func(c int) bool {
		return slices.ContainsFunc(grid, func(row []views.Seat) bool { return c < len(row) && row[c].PC != nil })
	}
	top, bottom := 0, len(grid)
	for top < bottom && !rowUsed(top) {
		top++
	}
	for bottom > top && !rowUsed(bottom-1) {
		bottom--
	}
	cols := 0
	for _, row := range grid {
		cols = max(cols, len(row))
	}
	left, right := 0, cols
	for left < right && !colUsed(left) {
		left++
	}
	for right > left && !colUsed(right-1) {
		right--
	}
	out := make([][]views.Seat, 0, bottom-top)
	for _, row := range grid[top:bottom] {
		out = append(out, row[min(left, len(row)):min(right, len(row))])
	}
	return out
}

func (s *Server) wallLinksPage(c echo.Context) error {
	return s.renderWallLinks(c, "")
}

func (s *Server) renderWallLinks(c echo.Context, newURL string) error {
	ctx := c.Request().Context()
	room := c.QueryParam("room")
	if _, err := s.store.RoomByName(ctx, room); errors.Is(err, models.ErrNotFound) {
		return newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", room)
	} else if err != nil {
		return err
	}
	links, err := s.store.WallLinks(ctx, room)
	if err != nil {
		return err
	}
	v := views.WallLinksView{Page: s.page(c, views.T(ctx, "상황판 화면 링크", "Wall display links"), "rooms"),
		Room: room, NewURL: newURL}
	for _, l := range links {
		v.Links = append(v.Links, views.WallLinkView{ID: l.ID, Label: l.Label, CreatedBy: l.CreatedBy,
			CreatedAt: l.CreatedAt.Local().Format("2006-01-02 15:04")})
	}
	return s.render(c, http.StatusOK, views.WallLinksPage(v))
}

func (s *Server) createWallLink(c echo.Context) error {
	room, label := c.QueryParam("room"), c.FormValue("label")
	if len(label) > 100 {
		return newError(http.StatusBadRequest, codeInvalidField, "이름은 100자까지입니다", "label: at most 100 characters")
	}
	token := tokens.New()
	_, err := s.store.CreateWallLink(c.Request().Context(), room, tokens.Hash(token), label, currentAdmin(c).Username, time.Now())
	if errors.Is(err, models.ErrNotFound) {
		return newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", room)
	}
	if err != nil {
		return err
	}
	s.log.Info("wall link created", "room", room, "by", currentAdmin(c).Username)
	return s.renderWallLinks(c, s.baseURL(c)+"/wall/"+url.PathEscape(room)+"?token="+url.QueryEscape(token))
}

func (s *Server) revokeWallLink(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	room := c.QueryParam("room")
	if err := s.store.RevokeWallLink(c.Request().Context(), room, id, time.Now()); errors.Is(err, models.ErrNotFound) {
		return newError(http.StatusNotFound, codeNotFound, "%[2]q 강의실에 상황판 링크 %[1]d이(가) 없습니다", "no wall link %d in room %q", id, room)
	} else if err != nil {
		return err
	}
	s.log.Info("wall link revoked", "room", room, "id", id, "by", currentAdmin(c).Username)
	return c.Redirect(http.StatusSeeOther, "/walls?room="+url.QueryEscape(room))
}
