package fleet

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/models"
)

func TestLightQueue(t *testing.T) {
	var q lightQueue
	at := time.Unix(1700000000, 0)
	state := func(id int64, sec int) models.LightState {
		return models.LightState{PCID: id, At: at.Add(time.Duration(sec) * time.Second)}
	}
	// Concurrent polls of 1,000 PCs, twice each: the newest of each is kept.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for id := int64(g); id < 1000; id += 4 {
				q.put(state(id, 1))
				q.put(state(id, 2))
			}
		})
	}
	wg.Wait()
	q.takeOne(7)
	got := q.take()
	if len(got) != 999 {
		t.Fatalf("took %d states, want 999", len(got))
	}
	for _, l := range got {
		if l.PCID == 7 || !l.At.Equal(at.Add(2*time.Second)) {
			t.Fatalf("state %+v: removed, or not the newest", l)
		}
	}
	if again := q.take(); len(again) != 0 {
		t.Fatalf("a second take found %d states", len(again))
	}

	// A failed flush puts its states back, unless a newer one came meanwhile.
	q.put(state(3, 9))
	q.restore([]models.LightState{state(3, 2), state(4, 2)})
	back := q.take()
	slices.SortFunc(back, func(a, b models.LightState) int { return int(a.PCID - b.PCID) })
	if len(back) != 2 || !back[0].At.Equal(at.Add(9*time.Second)) || back[1].PCID != 4 {
		t.Fatalf("after restore: %+v", back)
	}
}
