package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
)

// maxSeats bounds a room's grid on each side.
const maxSeats = 50

type roomJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Rows      int       `json:"rows"`
	Cols      int       `json:"cols"`
	PCCount   int       `json:"pc_count"`
	CreatedAt time.Time `json:"created_at"`
}

type roomRequest struct {
	Name *string `json:"name"`
	Rows *int    `json:"rows"`
	Cols *int    `json:"cols"`
}

// validateNew checks a new room's request, which must give every field.
func (r *roomRequest) validateNew() error {
	if r.Name == nil {
		return badRequest(codeMissingField, "강의실 이름을 쓰세요", "name is required")
	}
	if r.Rows == nil || r.Cols == nil {
		return badRequest(codeMissingField, "행과 열의 수를 쓰세요", "rows and cols are required")
	}
	return r.validate()
}

// validate checks the fields given.
func (r *roomRequest) validate() error {
	if r.Name != nil && (strings.TrimSpace(*r.Name) == "" || len(*r.Name) > 100) {
		return badRequest(codeInvalidField, "강의실 이름은 1~100자여야 합니다", "name must be 1 to 100 characters")
	}
	for _, v := range []struct {
		name, ko string
		n        *int
	}{{"rows", "행", r.Rows}, {"cols", "열", r.Cols}} {
		if v.n != nil && (*v.n < 1 || *v.n > maxSeats) {
			return badRequest(codeInvalidField, "%[4]s의 수는 1부터 %[2]d까지입니다 (받은 값 %[3]d)", "%[1]s must be from 1 to %[2]d, not %[3]d",
				v.name, maxSeats, *v.n, v.ko)
		}
	}
	return nil
}

func (r *roomRequest) room() models.Room {
	var m models.Room
	if r.Name != nil {
		m.Name = strings.TrimSpace(*r.Name)
	}
	if r.Rows != nil {
		m.Rows = *r.Rows
	}
	if r.Cols != nil {
		m.Cols = *r.Cols
	}
	return m
}

// listRooms lists rooms with their PC counts.
func (s *Server) listRooms(c echo.Context) error {
	rs, err := s.store.ListRooms(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]roomJSON, len(rs))
	for i, r := range rs {
		out[i] = roomJSON{r.ID, r.Name, r.Rows, r.Cols, r.PCCount, ts(r.CreatedAt)}
	}
	return c.JSON(http.StatusOK, roomsAnswer{success, out})
}

// createRoom adds a room: {name, rows, cols}.
func (s *Server) createRoom(c echo.Context) error {
	var req roomRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.addRoom(c.Request().Context(), &req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, roomAnswer{success, roomJSON{r.ID, r.Name, r.Rows, r.Cols, 0, ts(r.CreatedAt)}})
}

// addRoom validates a complete room request and stores the room.
func (s *Server) addRoom(ctx context.Context, req *roomRequest) (*models.Room, error) {
	if err := req.validateNew(); err != nil {
		return nil, err
	}
	r := req.room()
	if err := s.store.CreateRoom(ctx, &r, time.Now()); err != nil {
		return nil, err
	}
	return &r, nil
}

// updateRoom renames or resizes a room: any of {name, rows, cols}.
func (s *Server) updateRoom(c echo.Context) error {
	var req roomRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name, err := pathParam(c, "name")
	if err != nil {
		return err
	}
	r, err := s.changeRoom(c.Request().Context(), name, &req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, roomAnswer{success, roomJSON{ID: r.ID, Name: r.Name, Rows: r.Rows, Cols: r.Cols, CreatedAt: ts(r.CreatedAt)}})
}

// changeRoom validates the given fields and renames or resizes the room.
func (s *Server) changeRoom(ctx context.Context, name string, req *roomRequest) (*models.Room, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return s.fleet.UpdateRoom(ctx, name, req.room())
}

// deleteRoom removes an empty room.
func (s *Server) deleteRoom(c echo.Context) error {
	name, err := pathParam(c, "name")
	if err != nil {
		return err
	}
	if err := s.fleet.DeleteRoom(c.Request().Context(), name); err != nil {
		return err
	}
	return done(c, "Room deleted successfully")
}

// fillRequest chooses the PCs of a fill: by id, or the unplaced PCs whose hostname starts with
// a prefix (with move, also those placed in other rooms).
type fillRequest struct {
	PCIDs  []int64 `json:"pc_ids"`
	Prefix *string `json:"prefix"`
	Order  string  `json:"order"`
	Move   bool    `json:"move"`
}

// maxFill bounds the PCs of one fill: more than any room holds (maxSeats × maxSeats).
const maxFill = maxSeats * maxSeats

// check validates the request and defaults the order to rows.
func (r *fillRequest) check() error {
	if (r.PCIDs == nil) == (r.Prefix == nil) {
		return badRequest(codeMissingField, "PC 목록(pc_ids)과 이름 앞부분(prefix) 중 하나를 보내세요", "give either pc_ids or prefix")
	}
	if r.Prefix != nil && strings.TrimSpace(*r.Prefix) == "" {
		return badRequest(codeInvalidField, "이름 앞부분을 쓰세요", "prefix must not be empty")
	}
	if r.PCIDs != nil && (len(r.PCIDs) == 0 || len(r.PCIDs) > maxFill) {
		return badRequest(codeInvalidField, "PC는 1대부터 %d대까지 고를 수 있습니다", "pc_ids must list 1 to %d PCs", maxFill)
	}
	var err error
	r.Order, err = fillOrder(r.Order)
	return err
}

// fillOrder checks a fill's order; "" is row by row.
func fillOrder(order string) (string, error) {
	switch order {
	case "":
		return models.FillRows, nil
	case models.FillRows, models.FillColumns:
		return order, nil
	}
	return "", badRequest(codeInvalidField, "순서는 행 우선(%q)이나 열 우선(%q)이어야 합니다 (받은 값 %q)", "order must be %q or %q, not %q",
		models.FillRows, models.FillColumns, order)
}

// pcs is the request's PCs: its ids, or those the prefix matches.
func (r *fillRequest) pcs(s *Server) []int64 {
	if r.Prefix == nil {
		return r.PCIDs
	}
	var ids []int64
	for _, v := range s.fleet.Views(matchesPrefix(*r.Prefix, r.Move)) {
		ids = append(ids, v.ID)
	}
	return ids
}

// matchesPrefix keeps PCs whose hostname starts with prefix, whatever the case; placed PCs only
// when they may be moved.
func matchesPrefix(prefix string, move bool) func(*models.PCView) bool {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	return func(v *models.PCView) bool {
		return (move || v.Room == nil) && strings.HasPrefix(strings.ToLower(v.Hostname), prefix)
	}
}

type placementJSON struct {
	PCID     int64  `json:"pc_id"`
	Hostname string `json:"hostname"`
	Row      int    `json:"row"`
	Col      int    `json:"col"`
}

type fillAnswer struct {
	ok
	Room   roomJSON        `json:"room"`
	Placed []placementJSON `json:"placed"`
	Left   []int64         `json:"left"`
}

// fillRoom places PCs on the room's empty seats in natural hostname order:
// {pc_ids:[…]} or {prefix}, order "rows" (default) or "columns", move. PCs beyond the room's
// empty seats stay where they were and are listed in left.
func (s *Server) fillRoom(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req fillRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	filled, err := s.fill(c.Request().Context(), id, &req)
	if err != nil {
		return err
	}
	a := fillAnswer{ok: success, Placed: []placementJSON{}, Left: nonNil(filled.Left),
		Room: roomJSON{ID: filled.Room.ID, Name: filled.Room.Name, Rows: filled.Room.Rows, Cols: filled.Room.Cols, CreatedAt: ts(filled.Room.CreatedAt)}}
	for _, p := range filled.Placed {
		a.Placed = append(a.Placed, placementJSON(p))
	}
	return c.JSON(http.StatusOK, a)
}

// fill validates a fill request and places its PCs. A prefix that matches no PC is a 400, so a
// typo does not pass for a room already full.
func (s *Server) fill(ctx context.Context, roomID int64, req *fillRequest) (*models.Filled, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	ids := req.pcs(s)
	if len(ids) == 0 {
		return nil, badRequest(codeInvalidField, "배치할 PC가 없습니다: 이름이 %q(으)로 시작하는 배치 안 된 PC가 없습니다",
			"no PC to place: no unplaced PC's hostname starts with %q", *req.Prefix)
	}
	return s.fleet.FillRoom(ctx, roomID, ids, req.Order, req.Move)
}
