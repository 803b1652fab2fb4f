package handlers

import (
	"sync"
	"time"
)

// Each open stream costs the server a goroutine pair, a hub subscription and up to
// a window of event buffers (handlers/live), so one session (or one leaked wall link) must not open
// hundreds of them (issue 10: 300 streams of one viewer took the server to 6-8 GB).
const (
	streamsPerSession  = 8 // browser tabs of one signed-in session
	streamsPerWallLink = 8 // screens showing one wall link
	streamRetry        = 10 * time.Second
)

// streamSlots counts open streams by owner (a session, a wall link) and in total.
type streamSlots struct {
	perOwner, total int

	mu    sync.Mutex
	open  int
	owned map[string]int
}

func newStreamSlots(perOwner, total int) *streamSlots {
	return &streamSlots{perOwner: perOwner, total: total, owned: map[string]int{}}
}

// take reserves a slot for owner, or returns a 429 that says which cap was reached; release
// frees the slot once the stream ends.
func (s *streamSlots) take(owner string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owned[owner] >= s.perOwner {
		return nil, tooMany(streamRetry, "실시간 화면이 너무 많이 열려 있습니다: 한 세션(또는 상황판 링크)에 %d개까지입니다. 다른 탭을 닫으세요.",
			"too many live streams: at most %d per session (or wall link); close other tabs", s.perOwner)
	}
	if s.open >= s.total {
		return nil, tooMany(streamRetry, "서버의 실시간 화면 연결이 가득 찼습니다(최대 %d개). 잠시 뒤 다시 시도하세요.",
			"the server's live streams are full (at most %d); try again shortly", s.total)
	}
	s.open++
	s.owned[owner]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.open--
		if s.owned[owner]--; s.owned[owner] == 0 {
			delete(s.owned, owner)
		}
	}, nil
}
