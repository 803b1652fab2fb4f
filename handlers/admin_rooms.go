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
		return badRequest(codeMissingField, "name is required")
	}
	if r.Rows == nil || r.Cols == nil {
		return badRequest(codeMissingField, "rows and cols are required")
	}
	return r.validate()
}

// validate checks the fields given.
func (r *roomRequest) validate() error {
	if r.Name != nil && (strings.TrimSpace(*r.Name) == "" || len(*r.Name) > 100) {
		return badRequest(codeInvalidField, "name must be 1 to 100 characters")
	}
	for _, v := range []struct {
		name string
		n    *int
	}{{"rows", r.Rows}, {"cols", r.Cols}} {
		if v.n != nil && (*v.n < 1 || *v.n > maxSeats) {
			return badRequest(codeInvalidField, "%s must be from 1 to %d, not %d", v.name, maxSeats, *v.n)
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
		out[i] = roomJSON{r.Name, r.Rows, r.Cols, r.PCCount, ts(r.CreatedAt)}
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
	return c.JSON(http.StatusOK, roomAnswer{success, roomJSON{r.Name, r.Rows, r.Cols, 0, ts(r.CreatedAt)}})
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
	return c.JSON(http.StatusOK, roomAnswer{success, roomJSON{Name: r.Name, Rows: r.Rows, Cols: r.Cols, CreatedAt: ts(r.CreatedAt)}})
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
