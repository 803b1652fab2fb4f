package live

import (
	"context"
	"testing"

	"github.com/wcms-lab/wcms/views"
)

// A deleted PC's renderings leave the shared tile cache, in every variant.
func TestTileCacheForgets(t *testing.T) {
	var c tileCache
	cached := func(id int64) (n int) {
		for _, ts := range c.sets {
			if _, ok := ts.m[id]; ok {
				n++
			}
		}
		return n
	}
	ctx := context.Background()
	for _, id := range []int64{1, 2} {
		for _, lang := range []views.Lang{views.Korean, views.English} {
			for _, wall := range []bool{false, true} {
				tile := views.Tile{ID: id, Hostname: "LAB"}
				render := views.TileBody
				if wall {
					render = views.WallTileBody
				}
				if _, err := c.set(variant{lang, wall}).get(ctx, tile, render); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	c.forget(1)
	if cached(1) != 0 || cached(2) != 4 {
		t.Fatalf("after forgetting PC 1: %d renderings of it, %d of PC 2 (want 0 and 4)", cached(1), cached(2))
	}
}

// The lookup every stream makes on every heartbeat of a PC it shows, when the tile is unchanged.
//
//	go test -run '^$' -bench TileCacheHit ./handlers/live/
func BenchmarkTileCacheHit(b *testing.B) {
	var c tileCache
	ctx := context.Background()
	cpu := 42.0
	ts := c.set(variant{views.English, false})
	for id := range int64(100) {
		if _, err := ts.get(ctx, views.Tile{ID: id, Hostname: "LAB", CPU: &cpu}, views.TileBody); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := ts.get(ctx, views.Tile{ID: int64(i % 100), Hostname: "LAB", CPU: &cpu}, views.TileBody); err != nil {
			b.Fatal(err)
		}
	}
}
