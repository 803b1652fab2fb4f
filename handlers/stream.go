package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/wcms-lab/wcms/handlers/live"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/views"
)

// The live streams' feeds: which PCs a stream shows and how its cells render (live.Feed); the
// streams themselves are handlers/live's.

// A live cell shows this much of a command's output and error; the page and the API have all
// of it. With agent_input.go's bounds, every fragment is then a few KB at most.
const streamCellOutput, streamCellError = 2 << 10, 512

// stream is a signed-in page's live feed: ?room=NAME (that room's tiles and power actions, ""
// for PCs not placed) or ?pc=ID (one PC), and every command's status.
func (s *Server) stream(c echo.Context) error {
	defer hold(c, time.Now()) // a stream's life is not its answer's time
	release, err := s.dashboardSlots.take(c.Get(ctxSession).(*models.Session).TokenHash)
	if err != nil {
		return err
	}
	defer release()
	f := live.Feed{Tile: func(t views.Tile) templ.Component { return views.TileBody(t) }, Command: commandCell}
	switch q := c.QueryParams(); {
	case q.Has("pc"):
		id, err := strconv.ParseInt(q.Get("pc"), 10, 64)
		if err != nil {
			return newError(http.StatusBadRequest, codeInvalidField, "pc에는 PC 번호를 넣으세요", "pc must be a PC id")
		}
		if _, ok := s.fleet.View(id); !ok {
			return newError(http.StatusNotFound, codeNotFound, "PC %d이(가) 없습니다. 지워졌을 수 있습니다.", "PC %d not found", id)
		}
		f.Shows = func(v *models.PCView) bool { return v.ID == id }
	case q.Has("room"):
		room := q.Get("room")
		rooms, err := s.store.ListRooms(c.Request().Context())
		if err != nil {
			return err
		}
		f.Shows, f.Room, f.Prefix = inRoom(room), &room, namePrefix(s.fleet.Views(inRoom(room)))
		f.Actions = s.roomActionsFeed(c, room)
		f.Counts = func(counts map[string]models.RoomCount) []templ.Component {
			n := counts[room]
			return []templ.Component{views.RoomCounts(n.Online, n.Total-n.Online), views.RoomTabs(roomTabs(rooms, counts), room)}
		}
	}
	s.live.Serve(c.Response(), c.Request(), f)
	return nil
}

func (s *Server) wallStream(c echo.Context) error {
	defer hold(c, time.Now()) // a stream's life is not its answer's time
	room, err := s.wallRoom(c)
	if err != nil {
		return err
	}
	release, err := s.wallSlots.take(tokens.Hash(c.QueryParam("token")))
	if err != nil {
		return err
	}
	defer release()
	// WallTileBody shows no user, process or command, whatever the tile carries.
	s.live.Serve(c.Response(), c.Request(), live.Feed{Shows: inRoom(room.Name), Room: &room.Name, Wall: true,
		Tile:   func(t views.Tile) templ.Component { return views.WallTileBody(t) },
		Prefix: namePrefix(s.fleet.Views(inRoom(room.Name))),
		Counts: func(counts map[string]models.RoomCount) []templ.Component {
			n := counts[room.Name]
			return []templ.Component{views.WallCounts(n.Online, n.Total-n.Online)}
		}})
	return nil
}

// inRoom keeps the PCs of room ("": the PCs not placed).
func inRoom(room string) func(v *models.PCView) bool {
	return func(v *models.PCView) bool { return v.InRoom(room) }
}

// commandCell is a command's cell as a stream sends it: the output and error clipped, so that
// each of hundreds of tabs renders and holds a few KB, not a megabyte of output.
func commandCell(ctx context.Context, cmd *models.Command) templ.Component {
	v := commandView(cmd, "")
	v.Output, v.ErrorMessage = clip(ctx, v.Output, streamCellOutput), clip(ctx, v.ErrorMessage, streamCellError)
	return views.CommandCell(v)
}

// clip cuts s to at most n bytes, on a character boundary, and says how much more there is.
func clip(ctx context.Context, s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := prefix(s, n)
	more := strconv.Itoa(len(s) - len(cut))
	return cut + views.T(ctx, "\n… "+more+"바이트 더: 새로 고치면 모두 보입니다", "\n… "+more+" bytes more: reload to see all")
}
