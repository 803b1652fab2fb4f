package views_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wcms-lab/wcms/views"
)

func TestRoomActionsPanel(t *testing.T) {
	sendAt := time.Date(2026, 12, 5, 13, 0, 5, 0, time.UTC)
	v := views.RoomActions{Room: hostile, CanCancel: true, Actions: []views.RoomAction{
		{ID: 4, Type: "shutdown", State: "scheduled", PCs: 48, SendAt: sendAt, Left: 7, CreatedBy: "kim"},
		{ID: 3, Type: "restart", State: "sent", PCs: 47, EndedAt: sendAt, CreatedBy: "kim"},
		{ID: 2, Type: "shutdown", State: "cancelled", EndedBy: "lee", EndedAt: sendAt, CreatedBy: "kim"},
		{ID: 1, Type: "shutdown", State: "cancelled", EndedAt: sendAt, CreatedBy: "kim"},
	}}
	for _, c := range []struct {
		lang context.Context
		want []string // the rows' texts, in order
	}{
		{context.Background(), []string{hostile + " 강의실 48대 종료 — 7초 뒤", "PC 47대에 보냈습니다 (요청: kim)", "lee 님이", "서버가 꺼져 있어 보내지 않았습니다"}},
		{inEnglish, []string{"Shutting down 48 PCs of " + hostile + " in 7 s", "sent to 47 PCs at", "cancelled by lee at", "not sent: the server was down at its time"}},
	} {
		doc := renderCtx(t, c.lang, views.RoomActionsPanel(v))
		checkCSP(t, doc)
		panel := byTestID(t, doc, "room-actions")
		if attr(panel, "id") != "room-actions" {
			t.Errorf("panel id %q: the live stream swaps #room-actions", attr(panel, "id"))
		}
		rows := byTestIDAll(doc, "room-action")
		if len(rows) != 4 {
			t.Fatalf("%d rows, want 4", len(rows))
		}
		for i, row := range rows {
			if got := text(byTestID(t, row, "room-action-text")); !strings.Contains(got, c.want[i]) {
				t.Errorf("row %d: %q does not say %q", i, got, c.want[i])
			}
		}
		cd := byTestID(t, doc, "room-action-countdown")
		if cd.Data != "time" || attr(cd, "datetime") != "2026-12-05T13:00:05Z" || attr(cd, "data-left") != "7" {
			t.Errorf("countdown <%s datetime=%q data-left=%q>", cd.Data, attr(cd, "datetime"), attr(cd, "data-left"))
		}
		cancel := byTestID(t, doc, "room-action-cancel")
		if attr(cancel, "hx-post") != "/room-actions/4/cancel" || attr(cancel, "hx-swap") != "none" || attr(cancel, "type") != "button" {
			t.Errorf("cancel: post %q swap %q", attr(cancel, "hx-post"), attr(cancel, "hx-swap"))
		}
	}

	// A viewer sees the countdown but no Cancel button.
	v.CanCancel = false
	doc := render(t, views.RoomActionsPanel(v))
	if n := len(byTestIDAll(doc, "room-action-cancel")); n != 0 {
		t.Errorf("a viewer is offered %d Cancel buttons", n)
	}
	// The answer to a change goes into the page's panel, out of band.
	doc = render(t, views.RoomActionsUpdate(v))
	oob := findAll(doc, func(n *html.Node) bool { return attr(n, "hx-swap-oob") != "" })
	if len(oob) != 1 || attr(oob[0], "id") != "room-actions" || attr(oob[0], "hx-swap-oob") != "innerHTML" {
		t.Errorf("update: %d out-of-band elements", len(oob))
	}
}
