package views

import (
	"context"
	"strconv"
	"time"
)

// RoomActions is a room's power actions panel: shutdowns and restarts of the whole room that
// wait, cancellable, for the grace period (fleet/room_actions.go), then those that ended in the
// last day.
type RoomActions struct {
	Room      string
	Actions   []RoomAction // newest first
	CanCancel bool         // the viewer is an operator
}

// RoomAction is one scheduled, sent or cancelled power action of a room.
type RoomAction struct {
	ID    int64
	Type  string // shutdown or restart
	State string // scheduled, sent or cancelled
	// PCs is, while scheduled, how many PCs the room holds now; once sent, how many got it.
	PCs       int
	SendAt    time.Time
	Left      int // whole seconds from the rendering to SendAt, where the countdown starts
	CreatedBy string
	EndedBy   string // who cancelled; "" when the server ended it
	EndedAt   time.Time
}

// Room action states, as models stores them.
const (
	actionScheduled = "scheduled"
	actionSent      = "sent"
)

// actionNoun names a room action's type: 종료 / Shutdown.
func actionNoun(ctx context.Context, typ string) string {
	if typ == "restart" {
		return T(ctx, "재시작", "Restart")
	}
	return T(ctx, "종료", "Shutdown")
}

// endedText tells how an action ended: sent, cancelled by someone, or not sent by the server.
func (a RoomAction) endedText(ctx context.Context, room string) string {
	noun, at, n := actionNoun(ctx, a.Type), a.EndedAt.Local().Format("15:04:05"), strconv.Itoa(a.PCs)
	switch {
	case a.State == actionSent:
		return T(ctx, room+" 강의실 "+noun+": "+at+"에 PC "+n+"대에 보냈습니다 (요청: "+a.CreatedBy+")",
			room+" "+noun+": sent to "+n+" PCs at "+at+" by "+a.CreatedBy)
	case a.EndedBy == "":
		return T(ctx, room+" 강의실 "+noun+": 서버가 꺼져 있어 보내지 않았습니다",
			room+" "+noun+": not sent: the server was down at its time")
	}
	return T(ctx, room+" 강의실 "+noun+": "+a.EndedBy+" 님이 "+at+"에 취소했습니다",
		room+" "+noun+": cancelled by "+a.EndedBy+" at "+at)
}

// cancelURL cancels the action.
func (a RoomAction) cancelURL() string { return "/room-actions/" + itoa64(a.ID) + "/cancel" }

// actionVerbEN is what a scheduled action is about to do, in English.
func actionVerbEN(typ string) string {
	if typ == "restart" {
		return "Restarting"
	}
	return "Shutting down"
}
