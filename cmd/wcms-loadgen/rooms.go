package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// roomName is the name of room i; "" for -1, the PCs not placed.
func roomName(i int) string {
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("LOAD-%03d", i)
}

// placeInRooms puts the steady agents in rooms of size PCs (10 seats a row), in order, and
// has subscriber i watch room i mod the rooms: the realistic case, where each dashboard shows
// one room. With size 0 nothing is placed and every subscriber watches every PC.
func (g *loadgen) placeInRooms(ctx context.Context, admin *session, size, subscribers int, progress io.Writer) error {
	rooms := 0
	if size > 0 {
		rooms = (len(g.steady) + size - 1) / size
	}
	for _, a := range g.steady {
		a.room = -1
	}
	for _, a := range g.longPollers {
		a.room = -1
	}
	if rooms > 0 {
		fmt.Fprintf(progress, "placing %d agents in %d rooms of %d\n", len(g.steady), rooms, size)
	}
	for r := range rooms {
		var room struct {
			Room struct {
				ID int64 `json:"id"`
			} `json:"room"`
		}
		in := map[string]any{"name": roomName(r), "rows": (size + 9) / 10, "cols": min(size, 10)}
		if err := admin.call(ctx, http.MethodPost, "/api/admin/rooms", in, &room); err != nil {
			return fmt.Errorf("create room %s: %w", roomName(r), err)
		}
		members := g.steady[r*size : min(len(g.steady), (r+1)*size)]
		ids := make([]int64, len(members))
		for i, a := range members {
			ids[i], a.room = a.pcID, r
		}
		if err := admin.call(ctx, http.MethodPost, fmt.Sprintf("/api/admin/rooms/%d/fill", room.Room.ID), map[string]any{"pc_ids": ids}, nil); err != nil {
			return fmt.Errorf("fill room %s: %w", roomName(r), err)
		}
	}
	g.watch = make([]int, subscribers)
	seen := map[int]bool{}
	for i := range g.watch {
		g.watch[i] = -1
		if rooms > 0 {
			g.watch[i] = i % rooms
		}
		seen[g.watch[i]] = true
	}
	g.watched = g.watched[:0]
	for _, a := range g.steady {
		if seen[a.room] {
			g.watched = append(g.watched, a)
		}
	}
	return nil
}
