package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RoomRow is a room with how many PCs sit in it.
type RoomRow struct {
	Room `bun:",extend"`

	PCCount int `bun:"pc_count"`
}

// ListRooms returns every room by name with its PC count.
func (s *Store) ListRooms(ctx context.Context) ([]RoomRow, error) {
	var rs []RoomRow
	err := s.r.NewSelect().Model(&rs).ColumnExpr("room.*").
		ColumnExpr("(SELECT COUNT(*) FROM pcs WHERE pcs.room_id = room.id) AS pc_count").
		Order("name").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	return rs, nil
}

// CreateRoom adds a room; ErrDuplicate when the name is taken.
func (s *Store) CreateRoom(ctx context.Context, r *Room, now time.Time) error {
	r.CreatedAt = now.UTC()
	if _, err := s.w.NewInsert().Model(r).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create room %q: %w", r.Name, ErrDuplicate)
		}
		return fmt.Errorf("create room: %w", err)
	}
	return nil
}

// UpdateRoom renames and resizes a room. A resize that would leave a placed PC outside the grid
// is refused with ErrRoomTooSmall.
func (s *Store) UpdateRoom(ctx context.Context, name string, upd Room) (*Room, error) {
	r := new(Room)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(r).Where("name = ?", name).Scan(ctx); err != nil {
			return notFound("room "+name, err)
		}
		if upd.Name != "" {
			r.Name = upd.Name
		}
		if upd.Rows > 0 {
			r.Rows = upd.Rows
		}
		if upd.Cols > 0 {
			r.Cols = upd.Cols
		}
		outside, err := tx.NewSelect().Model((*PC)(nil)).
			Where("room_id = ? AND (seat_row > ? OR seat_col > ?)", r.ID, r.Rows, r.Cols).Exists(ctx)
		if err != nil {
			return err
		}
		if outside {
			return ErrRoomTooSmall
		}
		_, err = tx.NewUpdate().Model(r).WherePK().Column("name", "seat_rows", "seat_cols").Exec(ctx)
		if isUniqueViolation(err) {
			return ErrDuplicate
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update room %q: %w", name, err)
	}
	return r, nil
}

// DeleteRoom removes an empty room and returns what it was; ErrRoomNotEmpty while PCs sit in it.
func (s *Store) DeleteRoom(ctx context.Context, name string) (*Room, error) {
	r := new(Room)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(r).Where("name = ?", name).Scan(ctx); err != nil {
			return notFound("room "+name, err)
		}
		used, err := tx.NewSelect().Model((*PC)(nil)).Where("room_id = ?", r.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if used {
			return ErrRoomNotEmpty
		}
		_, err = tx.NewDelete().Model(r).WherePK().Exec(ctx)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("delete room %q: %w", name, err)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RoomByName returns one room.
func (s *Store) RoomByName(ctx context.Context, name string) (*Room, error) {
	r := new(Room)
	if err := s.r.NewSelect().Model(r).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, notFound("room "+name, err)
	}
	return r, nil
}
