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
		for _, m := range c.m {
			if _, ok := m[id]; ok {
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
				if _, err := c.get(ctx, variant{lang, wall}, tile, render); err != nil {
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
