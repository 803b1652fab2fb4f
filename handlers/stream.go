package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

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

// stream is a signed-in page's live feed: ?room=NAME (that room's tiles, "" for PCs not
// placed) or ?pc=ID (one PC), and every command's status.
func (s *Server) stream(c echo.Context) error {
	release, err := s.dashboardSlots.take(c, c.Get(ctxSession).(*models.Session).TokenHash)
	if err != nil {
		return err
	}
	defer release()
	f := live.Feed{Tile: func(t views.Tile) templ.Component { return views.TileBody(t) }, Command: commandCell,
		Members: func(context.Context) (map[int64]string, error) { return map[int64]string{}, nil },
		Member:  func(context.Context, int64) (string, bool, error) { return "", false, nil }}
	switch q := c.QueryParams(); {
	case q.Has("pc"):
		id, err := strconv.ParseInt(q.Get("pc"), 10, 64)
		if err != nil {
			return newError(http.StatusBadRequest, codeInvalidField, "pc must be a PC id")
		}
		f.Member = s.pcMember(id)
		f.Members = func(ctx context.Context) (map[int64]string, error) {
			d, err := s.store.PCDetail(ctx, id)
			if err != nil {
				return nil, err
			}
			return map[int64]string{id: deref(d.State.CurrentUser)}, nil
		}
	case q.Has("room"):
		f.Members, f.Member = s.roomMembers(q.Get("room")), s.roomMember(q.Get("room"))
	}
	return s.live.Serve(c.Response(), c.Request(), f)
}

func (s *Server) wallStream(c echo.Context) error {
	room, err := s.wallRoom(c)
	if err != nil {
		return err
	}
	release, err := s.wallSlots.take(c, tokens.Hash(c.QueryParam("token")))
	if err != nil {
		return err
	}
	defer release()
	// WallTileBody shows no user, process or command, whatever the tile carries.
	return s.live.Serve(c.Response(), c.Request(), live.Feed{Members: s.roomMembers(room.Name), Member: s.roomMember(room.Name),
		Wall: true, Tile: func(t views.Tile) templ.Component { return views.WallTileBody(t) }})
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

// roomMembers lists the PCs of a room ("" : the PCs not placed), with their stored user.
func (s *Server) roomMembers(room string) func(ctx context.Context) (map[int64]string, error) {
	return func(ctx context.Context) (map[int64]string, error) {
		rows, err := s.store.ListPCs(ctx, models.PCFilter{Room: room})
		if err != nil {
			return nil, err
		}
		out := map[int64]string{}
		for _, r := range rows {
			if inRoom(r.RoomName, room) {
				out[r.ID] = deref(r.CurrentUser)
			}
		}
		return out, nil
	}
}

// roomMember tells whether one PC sits in the room ("" : is not placed).
func (s *Server) roomMember(room string) func(ctx context.Context, id int64) (string, bool, error) {
	return func(ctx context.Context, id int64) (string, bool, error) {
		d, err := s.storedPC(ctx, id)
		if d == nil {
			return "", false, err
		}
		return deref(d.State.CurrentUser), inRoom(d.RoomName, room), nil
	}
}

// pcMember is the feed of one PC's page: that PC while it exists.
func (s *Server) pcMember(pc int64) func(ctx context.Context, id int64) (string, bool, error) {
	return func(ctx context.Context, id int64) (string, bool, error) {
		if id != pc {
			return "", false, nil
		}
		d, err := s.storedPC(ctx, id)
		if d == nil {
			return "", false, err
		}
		return deref(d.State.CurrentUser), true, nil
	}
}

// storedPC reads a PC for a feed; nil and no error when it no longer exists.
func (s *Server) storedPC(ctx context.Context, id int64) (*models.PCDetail, error) {
	d, err := s.store.PCDetail(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

func inRoom(roomName *string, room string) bool {
	if roomName == nil {
		return room == ""
	}
	return *roomName == room
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
