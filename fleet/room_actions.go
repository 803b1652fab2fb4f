package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
)

// Room actions: a shutdown or restart for a whole room is stored as scheduled with the time it
// goes, and the server sends it then (Run's timer), whatever the browser that asked does
// meanwhile. Until then any operator can cancel it. Each change publishes the room's actions.

const (
	// overdueAtStart: an action found this late when the server starts is not sent. The server
	// was down through its time, and a shutdown an hour late could end a class in progress.
	overdueAtStart = 2 * time.Minute
	// idleWait is how long the timer sleeps with nothing scheduled; a schedule wakes it at once.
	idleWait = time.Hour
	// retryWait is how soon the timer tries again after the store failed.
	retryWait = 5 * time.Second
)

// ScheduleRoomAction schedules a (its RoomName, type, parameters, options and CreatedBy) to be
// sent to every PC in the room once the grace period (Config.RoomGrace) has passed.
func (f *Fleet) ScheduleRoomAction(ctx context.Context, a models.RoomAction) (*models.RoomAction, error) {
	now := f.now()
	a.SendAt = now.Add(f.cfg.RoomGrace)
	if err := f.store.ScheduleRoomAction(ctx, &a, now); err != nil {
		return nil, err
	}
	f.log.Info("room action scheduled", "action_id", a.ID, "room", a.RoomName, "type", a.Type, "by", a.CreatedBy,
		"count", f.Counts()[a.RoomName].Total, "send_at", a.SendAt)
	f.rearmActions()
	f.publishRoomActions(ctx, &a)
	return &a, nil
}

// CancelRoomAction cancels a scheduled room action for by. models.ErrActionEnded: it was sent
// or cancelled already, and nothing changed.
func (f *Fleet) CancelRoomAction(ctx context.Context, id int64, by string) (*models.RoomAction, error) {
	a, err := f.store.CancelRoomAction(ctx, id, by, f.now())
	if err != nil {
		return nil, err
	}
	f.log.Info("room action cancelled", "action_id", a.ID, "room", a.RoomName, "type", a.Type, "by", by,
		"scheduled_by", a.CreatedBy, "count", 0)
	f.rearmActions()
	f.publishRoomActions(ctx, a)
	return a, nil
}

// rearmActions wakes Run's timer to look at the scheduled actions again.
func (f *Fleet) rearmActions() {
	select {
	case f.actionsChanged <- struct{}{}:
	default: // a wake-up is already waiting
	}
}

// startRoomActions runs when the server starts: actions whose time passed more than
// overdueAtStart ago end unsent (by the server: ended_by ""), then those due are sent. It
// returns how long until the next is due.
func (f *Fleet) startRoomActions(ctx context.Context) time.Duration {
	as, err := f.store.ScheduledRoomActions(ctx)
	if err != nil {
		f.log.Error("load scheduled room actions failed", "err", err)
		return retryWait
	}
	now := f.now()
	for i := range as {
		late := now.Sub(as[i].SendAt)
		if late <= overdueAtStart {
			continue
		}
		a, err := f.store.CancelRoomAction(ctx, as[i].ID, "", now)
		if err != nil {
			f.log.Error("end overdue room action failed", "action_id", as[i].ID, "err", err)
			continue
		}
		f.log.Warn("room action not sent: the server was down at its time", "action_id", a.ID, "room", a.RoomName,
			"type", a.Type, "by", a.CreatedBy, "count", 0, "send_at", a.SendAt, "late", late.Round(time.Second).String())
		f.publishRoomActions(ctx, a)
	}
	return f.sendDueActions(ctx)
}

// sendDueActions sends every scheduled action whose time has come, and returns how long until
// the next one is due.
func (f *Fleet) sendDueActions(ctx context.Context) time.Duration {
	as, err := f.store.ScheduledRoomActions(ctx)
	if err != nil {
		f.log.Error("load scheduled room actions failed", "err", err)
		return retryWait
	}
	for i := range as {
		if wait := as[i].SendAt.Sub(f.now()); wait > 0 {
			return wait
		}
		if !f.sendRoomAction(ctx, as[i].ID) {
			return retryWait
		}
	}
	return idleWait
}

// sendRoomAction sends one action to the PCs in its room that are on now (a shutdown left
// waiting for a PC that is off would run whenever it next starts); false when the store failed.
func (f *Fleet) sendRoomAction(ctx context.Context, id int64) bool {
	a, cmds, err := f.store.SendRoomAction(ctx, id, f.IsOff, f.now())
	switch {
	case errors.Is(err, models.ErrActionEnded):
		return true // cancelled just before its time
	case err != nil:
		f.log.Error("send room action failed", "action_id", id, "err", err)
		return false
	}
	f.queued(cmds)
	f.log.Info("room action sent", "action_id", a.ID, "room", a.RoomName, "type", a.Type, "by", a.CreatedBy,
		"count", len(cmds))
	f.publishRoomActions(ctx, a)
	return true
}

// publishRoomActions publishes the actions of a's room as the store lists them now.
func (f *Fleet) publishRoomActions(ctx context.Context, a *models.RoomAction) {
	f.showRoomActions(ctx, a.RoomID, a.RoomName)
	f.peers.Tell(Change{Kind: ChangeActions, ID: a.RoomID, Room: a.RoomName})
}

// showRoomActions publishes a room's actions, as stored now, to this instance's screens.
func (f *Fleet) showRoomActions(ctx context.Context, roomID int64, room string) {
	// In order: of two changes close together, the list read last is published last.
	f.actionsMu.Lock()
	defer f.actionsMu.Unlock()
	as, err := f.store.RoomActions(ctx, roomID, f.now())
	if err != nil {
		f.log.Error("list room actions failed", "room", room, "err", err)
		return
	}
	f.hub.Publish(events.Event{Kind: events.RoomActions, At: f.now(), Room: &models.Room{ID: roomID, Name: room},
		Actions: as})
}

// IsOff tells whether PC id is known and off: not online, and holding no long-poll. A power
// command is not left waiting for such a PC (room actions here, the admin's in handlers).
func (f *Fleet) IsOff(id int64) bool {
	p := f.get(id)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.online && p.waiting == 0
}
