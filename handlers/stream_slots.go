package handlers

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/views"
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
func (s *streamSlots) take(c echo.Context, owner string) (release func(), err error) {
	ctx := c.Request().Context()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owned[owner] >= s.perOwner {
		return nil, tooMany(streamRetry, "%s", views.T(ctx,
			"실시간 스트림이 너무 많습니다: 한 세션(또는 월 링크)에 최대 "+strconv.Itoa(s.perOwner)+"개입니다. 다른 탭을 닫으세요.",
			"too many live streams: at most "+strconv.Itoa(s.perOwner)+" per session (or wall link); close other tabs"))
	}
	if s.open >= s.total {
		return nil, tooMany(streamRetry, "%s", views.T(ctx,
			"서버의 실시간 스트림이 가득 찼습니다(최대 "+strconv.Itoa(s.total)+"개). 잠시 후 다시 시도하세요.",
			"the server's live streams are full (at most "+strconv.Itoa(s.total)+"); try again shortly"))
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
