package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// WallLink is a read-only link to one room's wall display.
type WallLink struct {
	bun.BaseModel `bun:"table:wall_links"`

	ID        int64      `bun:"id,pk,autoincrement"`
	RoomID    int64      `bun:"room_id"`
	TokenHash string     `bun:"token_hash"`
	Label     string     `bun:"label"`
	CreatedBy string     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

// CreateWallLink stores a link for a room; the caller keeps the token, the store only its hash.
func (s *Store) CreateWallLink(ctx context.Context, room, tokenHash, label, by string, now time.Time) (*WallLink, error) {
	r, err := s.RoomByName(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("wall link: %w", err)
	}
	l := &WallLink{RoomID: r.ID, TokenHash: tokenHash, Label: label, CreatedBy: by, CreatedAt: now.UTC()}
	if _, err := s.w.NewInsert().Model(l).Exec(ctx); err != nil {
		return nil, fmt.Errorf("wall link: %w", err)
	}
	return l, nil
}

// WallLinks lists a room's links that are not revoked, newest first.
func (s *Store) WallLinks(ctx context.Context, room string) ([]WallLink, error) {
	var ls []WallLink
	err := s.r.NewSelect().Model(&ls).
		Join("JOIN rooms AS r ON r.id = wall_link.room_id").
		Where("r.name = ? AND wall_link.revoked_at IS NULL", room).
		OrderExpr("wall_link.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("wall links: %w", err)
	}
	return ls, nil
}

// RevokeWallLink ends a link of the room at once.
func (s *Store) RevokeWallLink(ctx context.Context, room string, id int64, now time.Time) error {
	res, err := s.w.NewUpdate().Model((*WallLink)(nil)).Set("revoked_at = ?", now.UTC()).
		Where("id = ? AND revoked_at IS NULL AND room_id = (SELECT id FROM rooms WHERE name = ?)", id, room).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke wall link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("wall link %d of room %q: %w", id, room, ErrNotFound)
	}
	return nil
}

// WallRoom is the room a live wall token opens, or ErrNotFound.
func (s *Store) WallRoom(ctx context.Context, tokenHash string) (*Room, error) {
	r := new(Room)
	err := s.r.NewSelect().Model(r).
		Join("JOIN wall_links AS w ON w.room_id = room.id").
		Where("w.token_hash = ? AND w.revoked_at IS NULL", tokenHash).Scan(ctx)
	if err != nil {
		return nil, notFound("wall link", err)
	}
	return r, nil
}
