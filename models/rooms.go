package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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

// ErrCannotFill: a fill named a PC that does not exist, or one placed in another room without
// leave to move it.
var ErrCannotFill = errors.New("cannot fill the room")

// Fill orders: which empty seat comes next.
const (
	FillRows    = "rows"    // row by row, left to right
	FillColumns = "columns" // column by column, front to back
)

// Placement is a PC put on a seat by a fill.
type Placement struct {
	PCID     int64
	Hostname string
	Row, Col int
}

// Filled is what a fill did: the room, the PCs placed (in seat order), the PCs left over for
// want of seats, and the rooms the placed PCs left (the zero Room for PCs that were not placed).
type Filled struct {
	Room   Room
	Placed []Placement
	Left   []int64
	From   []Room
}

// FillRoom places PCs on a room's empty seats, in natural hostname order, in one transaction:
// all or none. PCs already in the room stay where they are; a PC in another room is refused
// unless move is set. The writer is one connection, so no seat changes between the read of the
// free seats and the writes; the UNIQUE (room_id, seat_row, seat_col) refuses it if it did.
func (s *Store) FillRoom(ctx context.Context, roomID int64, pcIDs []int64, order string, move bool, now time.Time) (*Filled, error) {
	out := &Filled{}
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(&out.Room).Where("id = ?", roomID).Scan(ctx); err != nil {
			return notFound(fmt.Sprintf("room %d", roomID), err)
		}
		var pcs []PC
		if len(pcIDs) > 0 {
			if err := tx.NewSelect().Model(&pcs).Column("id", "hostname", "room_id").
				Where("id IN (?)", bun.In(pcIDs)).Scan(ctx); err != nil {
				return err
			}
		}
		if err := checkFill(pcs, pcIDs, roomID, move); err != nil {
			return err
		}
		from, err := roomsLeft(ctx, tx, pcs, roomID)
		if err != nil {
			return err
		}
		out.From = from
		pcs = slices.DeleteFunc(pcs, func(p PC) bool { return p.RoomID != nil && *p.RoomID == roomID })
		slices.SortFunc(pcs, func(a, b PC) int { return cmp.Or(CompareNatural(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID)) })
		free, err := freeSeats(ctx, tx, out.Room, order)
		if err != nil {
			return err
		}
		for i, p := range pcs {
			if i >= len(free) {
				out.Left = append(out.Left, p.ID)
				continue
			}
			seat := Placement{PCID: p.ID, Hostname: p.Hostname, Row: free[i][0], Col: free[i][1]}
			_, err := tx.NewUpdate().Model((*PC)(nil)).Set("room_id = ?, seat_row = ?, seat_col = ?", roomID, seat.Row, seat.Col).
				Set("updated_at = ?", now).Where("id = ?", p.ID).Exec(ctx)
			if isUniqueViolation(err) {
				return fmt.Errorf("seat %d,%d: %w", seat.Row, seat.Col, ErrSeatTaken)
			}
			if err != nil {
				return err
			}
			out.Placed = append(out.Placed, seat)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fill room %d: %w", roomID, err)
	}
	return out, nil
}

// checkFill refuses ids of no PC, and PCs seated in another room unless move is set.
func checkFill(pcs []PC, ids []int64, roomID int64, move bool) error {
	found := make(map[int64]bool, len(pcs))
	for _, p := range pcs {
		found[p.ID] = true
		if !move && p.RoomID != nil && *p.RoomID != roomID {
			return fmt.Errorf("PC %d (%s) is placed in another room; ask to move it: %w", p.ID, p.Hostname, ErrCannotFill)
		}
	}
	for _, id := range ids {
		if !found[id] {
			return fmt.Errorf("no PC %d: %w", id, ErrCannotFill)
		}
	}
	return nil
}

// roomsLeft is the rooms the PCs leave for roomID, each once; the zero Room stands for "not placed".
func roomsLeft(ctx context.Context, tx bun.Tx, pcs []PC, roomID int64) ([]Room, error) {
	var ids []int64
	unplaced := false
	for _, p := range pcs {
		switch {
		case p.RoomID == nil:
			unplaced = true
		case *p.RoomID != roomID && !slices.Contains(ids, *p.RoomID):
			ids = append(ids, *p.RoomID)
		}
	}
	var rooms []Room
	if len(ids) > 0 {
		if err := tx.NewSelect().Model(&rooms).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, err
		}
	}
	if unplaced {
		rooms = append(rooms, Room{})
	}
	return rooms, nil
}

// freeSeats lists a room's empty seats, [row, col], in the fill order.
func freeSeats(ctx context.Context, tx bun.Tx, r Room, order string) ([][2]int, error) {
	var taken []struct {
		Row int `bun:"seat_row"`
		Col int `bun:"seat_col"`
	}
	if err := tx.NewSelect().Model((*PC)(nil)).Column("seat_row", "seat_col").
		Where("room_id = ? AND seat_row IS NOT NULL AND seat_col IS NOT NULL", r.ID).Scan(ctx, &taken); err != nil {
		return nil, err
	}
	used := make(map[[2]int]bool, len(taken))
	for _, t := range taken {
		used[[2]int{t.Row, t.Col}] = true
	}
	return SeatOrder(r.Rows, r.Cols, order, func(row, col int) bool { return !used[[2]int{row, col}] }), nil
}

// SeatOrder lists the seats of a rows × cols room that keep accepts, row by row (FillRows) or
// column by column (FillColumns).
func SeatOrder(rows, cols int, order string, keep func(row, col int) bool) [][2]int {
	outer, inner := rows, cols
	if order == FillColumns {
		outer, inner = cols, rows
	}
	var out [][2]int
	for i := 1; i <= outer; i++ {
		for j := 1; j <= inner; j++ {
			row, col := i, j
			if order == FillColumns {
				row, col = j, i
			}
			if keep(row, col) {
				out = append(out, [2]int{row, col})
			}
		}
	}
	return out
}

// Unplace takes PCs off their seats in one transaction and returns the rooms they left.
func (s *Store) Unplace(ctx context.Context, pcIDs []int64, now time.Time) ([]Room, error) {
	var from []Room
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var pcs []PC
		if err := tx.NewSelect().Model(&pcs).Column("id", "hostname", "room_id").
			Where("id IN (?)", bun.In(pcIDs)).Scan(ctx); err != nil {
			return err
		}
		if err := checkFill(pcs, pcIDs, 0, true); err != nil {
			return err
		}
		var err error
		if from, err = roomsLeft(ctx, tx, pcs, 0); err != nil {
			return err
		}
		// The PCs join the unplaced ones, whatever they were before.
		from = append(slices.DeleteFunc(from, func(r Room) bool { return r.ID == 0 }), Room{})
		_, err = tx.NewUpdate().Model((*PC)(nil)).Set("room_id = NULL, seat_row = NULL, seat_col = NULL").
			Set("updated_at = ?", now).Where("id IN (?)", bun.In(pcIDs)).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unplace PCs: %w", err)
	}
	return from, nil
}
