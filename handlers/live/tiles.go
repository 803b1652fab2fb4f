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
// variant), however many browsers show it. A stream takes its variant's set once, when it starts.
type tileCache struct {
	mu   sync.Mutex
	sets map[variant]*tileSet
}

// tileSet holds one rendering per PC of one variant, keyed by PC alone: an int64 key is the
// map's fast path, and this lookup runs for every stream on every heartbeat (a struct key made
// it 29 -> 52 ns, BenchmarkTileCacheHit).
type tileSet struct {
	mu sync.Mutex
	m  map[int64]renderedTile
}

// set returns the tiles of variant v.
func (c *tileCache) set(v variant) *tileSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil {
		c.sets = map[variant]*tileSet{}
	}
	ts := c.sets[v]
	if ts == nil {
		ts = &tileSet{m: map[int64]renderedTile{}}
		c.sets[v] = ts
	}
	return ts
}

// get returns t rendered, from the set when t has not changed since it was last rendered.
func (ts *tileSet) get(ctx context.Context, t views.Tile, render func(views.Tile) templ.Component) ([]byte, error) {
	ts.mu.Lock()
	hit, ok := ts.m[t.ID]
	ts.mu.Unlock()
	if ok && sameTile(hit.tile, t) {
		return hit.data, nil
	}
	data, err := renderFragment(ctx, render(t))
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	ts.m[t.ID] = renderedTile{tile: t, data: data}
	ts.mu.Unlock()
	return data, nil
}

// forget drops a deleted PC's renderings.
func (c *tileCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ts := range c.sets {
		ts.mu.Lock()
		delete(ts.m, id)
		ts.mu.Unlock()
	}
}

func sameTile(a, b views.Tile) bool {
	same := func(x, y *float64) bool { return x == y || (x != nil && y != nil && *x == *y) }
	return a.ID == b.ID && a.Hostname == b.Hostname && a.Short == b.Short && a.IP == b.IP && a.User == b.User &&
		a.Online == b.Online && same(a.CPU, b.CPU) && same(a.RAM, b.RAM) && a.Wake == b.Wake && a.WakeTook == b.WakeTook
}
