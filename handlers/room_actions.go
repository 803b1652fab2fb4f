package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// Room actions on the pages: a shutdown or restart of a whole room is scheduled on the server
// (fleet/room_actions.go) and shown, counting down and cancellable, in the room's actions panel
// of every page showing the room (views.RoomActionsPanel, kept live by the stream's Feed.Actions).

// scheduleRoomPower schedules cmd (validated, for every PC of room) to go after the grace period,
// and answers the room's actions panel with it; the form that asked goes away. A browser
// without htmx is sent to the room's page, which shows the panel.
func (s *Server) scheduleRoomPower(c echo.Context, room string, cmd models.Command) error {
	ctx := c.Request().Context()
	a, err := s.fleet.ScheduleRoomAction(ctx, models.RoomAction{RoomName: room, Type: cmd.Type, Parameters: cmd.Parameters,
		Priority: cmd.Priority, Timeout: cmd.Timeout, CreatedBy: cmd.CreatedBy})
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/?room="+url.QueryEscape(room))
	}
	return s.answerRoomActions(c, a)
}

// cancelRoomActionPage cancels a scheduled room action and answers the room's actions panel.
// One already sent or cancelled is a 409 that changes nothing.
func (s *Server) cancelRoomActionPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.fleet.CancelRoomAction(ctx, id, currentAdmin(c).Username)
	if errors.Is(err, models.ErrActionEnded) {
		return newError(http.StatusConflict, codeConflict, "이미 보냈거나 취소된 예약이라 취소할 수 없습니다. 바뀐 것은 없습니다.",
			"this action was already sent or cancelled, so it cannot be cancelled: nothing changed")
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/?room="+url.QueryEscape(a.RoomName))
	}
	return s.answerRoomActions(c, a)
}

// answerRoomActions answers the actions of a's room, out of band into the page's panel.
func (s *Server) answerRoomActions(c echo.Context, a *models.RoomAction) error {
	v, err := s.roomActions(c, a.RoomID, a.RoomName)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.RoomActionsUpdate(v))
}

// roomActions is the actions panel of a room for the signed-in viewer.
func (s *Server) roomActions(c echo.Context, roomID int64, room string) (views.RoomActions, error) {
	as, err := s.store.RoomActions(c.Request().Context(), roomID, time.Now())
	if err != nil {
		return views.RoomActions{}, err
	}
	return s.roomActionsView(room, as, canOperate(c)), nil
}

// roomActionsFeed renders a room's actions as the live stream sends them to this viewer.
func (s *Server) roomActionsFeed(c echo.Context, room string) func(ctx context.Context, as []models.RoomAction) templ.Component {
	canCancel := canOperate(c)
	return func(_ context.Context, as []models.RoomAction) templ.Component {
		return views.RoomActionsList(s.roomActionsView(room, as, canCancel))
	}
}

// roomActionsView shapes a room's actions for its panel. A scheduled action counts the room's
// PCs now (they may still change) and the whole seconds left; a sent one, the commands it queued.
func (s *Server) roomActionsView(room string, as []models.RoomAction, canCancel bool) views.RoomActions {
	v := views.RoomActions{Room: room, CanCancel: canCancel}
	now := time.Now()
	for _, a := range as {
		v.Actions = append(v.Actions, s.roomActionView(a, now))
	}
	return v
}

// roomActionView is one action as the room's panel and the event log show it.
func (s *Server) roomActionView(a models.RoomAction, now time.Time) views.RoomAction {
	va := views.RoomAction{ID: a.ID, Type: a.Type, State: a.State, PCs: a.SentCount, SendAt: a.SendAt,
		CreatedBy: a.CreatedBy, EndedBy: a.EndedBy}
	if a.EndedAt != nil {
		va.EndedAt = *a.EndedAt
	}
	if a.State == models.ActionScheduled {
		va.PCs = s.fleet.Counts()[a.RoomName].Total
		va.Left = max(0, int(math.Ceil(a.SendAt.Sub(now).Seconds())))
	}
	return va
}

// canOperate tells whether the signed-in account may send commands, and so cancel them.
func canOperate(c echo.Context) bool { return roleRank[currentAdmin(c).Role] >= roleRank[operator] }
