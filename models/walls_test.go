package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWallLinks(t *testing.T) {
	s := openTest(t)
	ctx, now := context.Background(), time.Now()
	if err := s.CreateRoom(ctx, &Room{Name: "Lab 1", Rows: 2, Cols: 2}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWallLink(ctx, "No such room", "h0", "", "admin", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link for an unknown room: %v", err)
	}
	l, err := s.CreateWallLink(ctx, "Lab 1", "h1", "front screen", "admin", now)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.WallRoom(ctx, "h1"); err != nil || r.Name != "Lab 1" {
		t.Fatalf("WallRoom: %v, %v", r, err)
	}
	if ls, err := s.WallLinks(ctx, "Lab 1"); err != nil || len(ls) != 1 || ls[0].Label != "front screen" {
		t.Fatalf("WallLinks: %v, %v", ls, err)
	}
	if err := s.RevokeWallLink(ctx, "Other", l.ID, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke through another room's name: %v", err)
	}
	if err := s.RevokeWallLink(ctx, "Lab 1", l.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WallRoom(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a revoked link still opens the room: %v", err)
	}
	if err := s.RevokeWallLink(ctx, "Lab 1", l.ID, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
}
