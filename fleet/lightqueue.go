package fleet

import (
	"sync"

	"github.com/wcms-lab/wcms/models"
)

const lightShards = 16

// lightQueue holds the light states the next flush writes, the newest per PC. Every poll adds
// one, 5,000 a second at 10,000 agents: it is split in shards by PC, so that polls on two cores
// rarely wait for each other, nor all of them for the flush taking the batch.
type lightQueue struct {
	shards [lightShards]lightShard
}

type lightShard struct {
	mu sync.Mutex
	m  map[int64]models.LightState
}

func (q *lightQueue) shard(id int64) *lightShard { return &q.shards[uint64(id)%lightShards] }

func (q *lightQueue) put(l models.LightState) {
	s := q.shard(l.PCID)
	s.mu.Lock()
	s.set(l)
	s.mu.Unlock()
}

// set stores l; the caller holds s.mu.
func (s *lightShard) set(l models.LightState) {
	if s.m == nil {
		s.m = map[int64]models.LightState{}
	}
	s.m[l.PCID] = l
}

// takeOne removes and returns the PC's queued state, if any.
func (q *lightQueue) takeOne(id int64) (models.LightState, bool) {
	s := q.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.m[id]
	delete(s.m, id)
	return l, ok
}

// take empties the queue and returns what it held.
func (q *lightQueue) take() []models.LightState {
	var out []models.LightState
	for i := range q.shards {
		s := &q.shards[i]
		s.mu.Lock()
		m := s.m
		s.m = nil
		s.mu.Unlock()
		for _, l := range m {
			out = append(out, l)
		}
	}
	return out
}

// restore puts back the states of a flush that failed, except where a newer one arrived.
func (q *lightQueue) restore(states []models.LightState) {
	for _, l := range states {
		s := q.shard(l.PCID)
		s.mu.Lock()
		if _, newer := s.m[l.PCID]; !newer {
			s.set(l)
		}
		s.mu.Unlock()
	}
}
