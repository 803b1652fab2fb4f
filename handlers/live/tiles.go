package live

import (
	"context"
	"sync"

	"github.com/a-h/templ"

	"github.com/wcms-lab/wcms/views"
)

// variant is a kind of rendered tile: its language, and whether it is a wall's.
type variant struct {
	lang views.Lang
	wall bool
}

type renderedTile struct {
	tile views.Tile
	data []byte
}

// tileCache shares rendered tiles between streams: a PC's tile is rendered once per change (and
// variant), however many browsers show it. It holds one entry per PC and variant, keyed by PC
// alone within a variant: an int64 key is the map's fast path, and this lookup runs for every
// stream on every heartbeat.
type tileCache struct {
	mu sync.Mutex
	m  map[variant]map[int64]renderedTile
}

func (c *tileCache) get(ctx context.Context, v variant, t views.Tile, render func(views.Tile) templ.Component) ([]byte, error) {
	c.mu.Lock()
	hit, ok := c.m[v][t.ID]
	c.mu.Unlock()
	if ok && sameTile(hit.tile, t) {
		return hit.data, nil
	}
	data, err := renderFragment(ctx, render(t))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[variant]map[int64]renderedTile{}
	}
	if c.m[v] == nil {
		c.m[v] = map[int64]renderedTile{}
	}
	c.m[v][t.ID] = renderedTile{tile: t, data: data}
	c.mu.Unlock()
	return data, nil
}

// forget drops a deleted PC's renderings.
func (c *tileCache) forget(id int64) {
	c.mu.Lock()
	for _, m := range c.m {
		delete(m, id)
	}
	c.mu.Unlock()
}

func sameTile(a, b views.Tile) bool {
	same := func(x, y *float64) bool { return x == y || (x != nil && y != nil && *x == *y) }
	return a.ID == b.ID && a.Hostname == b.Hostname && a.IP == b.IP && a.User == b.User &&
		a.Online == b.Online && same(a.CPU, b.CPU) && same(a.RAM, b.RAM)
}
