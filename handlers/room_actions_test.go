package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/models"
)

// roomGrace sets how long a room's power action waits before it is sent.
func roomGrace(d time.Duration) serverOption {
	return func(_ *handlers.Config, f *fleet.Config) { f.RoomGrace = d }
}

// roomLab is a pcLab whose two PCs sit in room "3F Lab", with a second operator.
func roomLab(t *testing.T, grace time.Duration) (*pcLab, *admin) {
	t.Helper()
	l := newPCLab(t, roomGrace(grace))
	l.pcRoom(t, "3F Lab", l.pc1, l.pc2)
	return l, l.ts.account(l.admin, "lee", "operator")
}

// queued counts the commands of the lab's two PCs.
func (l *pcLab) queued(t *testing.T) int {
	return len(l.commands(t, l.pc1)) + len(l.commands(t, l.pc2))
}

// scheduleRoom posts the room's power form from a's page (htmx) and returns the answer's one
// action row.
func scheduleRoom(t *testing.T, a *admin, vals ...string) *html.Node {
	t.Helper()
	r := a.form("POST", "/commands", pcValues(append([]string{"room", "3F Lab"}, vals...)...), true).must(t, 200)
	doc := htmlDoc(t, r)
	// The answer goes out of band into the page's panel; the form it replaces gets nothing.
	oob := findAll(doc, func(n *html.Node) bool { return attr(n, "hx-swap-oob") != "" })
	if len(oob) != 1 || attr(oob[0], "id") != "room-actions" || attr(oob[0], "hx-swap-oob") != "innerHTML" {
		t.Fatalf("the answer is not the room's actions panel: %s", r.Raw)
	}
	rows := byTestIDAll(oob[0], "room-action")
	if len(rows) == 0 {
		t.Fatalf("no action in the panel: %s", r.Raw)
	}
	return rows[0]
}

// roomActions are the actions of the lab's room in the store.
func (l *pcLab) roomActions(t *testing.T) []models.RoomAction {
	t.Helper()
	room, err := l.ts.store.RoomByName(context.Background(), "3F Lab")
	if err != nil {
		t.Fatal(err)
	}
	as, err := l.ts.store.RoomActions(context.Background(), room.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// A room's shutdown from the page is scheduled, not sent: the answer counts down, no command
// exists, and after the grace period the PCs' commands do, with no browser asking again.
func TestRoomPowerScheduled(t *testing.T) {
	l, _ := roomLab(t, 2*time.Second)
	row := scheduleRoom(t, l.op, "type", "restart", "delay", "60", "message", "bye", "priority", "1")
	if attr(row, "data-state") != "scheduled" {
		t.Errorf("state %q", attr(row, "data-state"))
	}
	said := textOf(byTestID(t, row, "room-action-text"))
	if !strings.Contains(said, "3F Lab 강의실 2대 재시작") || !strings.Contains(said, "초 뒤") {
		t.Errorf("text %q", said)
	}
	if left := attr(byTestID(t, row, "room-action-countdown"), "data-left"); left != "2" {
		t.Errorf("countdown starts at %q, want 2", left)
	}
	byTestID(t, row, "room-action-cancel")
	if n := l.queued(t); n != 0 {
		t.Fatalf("%d commands queued before the grace period ended", n)
	}
	if !strings.Contains(l.ts.logs.String(), "room action scheduled") {
		t.Error("the schedule is not logged")
	}

	waitFor(t, 5*time.Second, "the PCs' commands", func() bool { return l.queued(t) == 2 })
	for _, pc := range []*agent{l.pc1, l.pc2} {
		cs := l.commands(t, pc)
		if len(cs) != 1 || cs[0].Type != "restart" || cs[0].Parameters != `{"delay":60,"message":"bye"}` || cs[0].Priority != 1 || cs[0].CreatedBy != "op" {
			t.Errorf("PC %d: %+v", pc.PCID, cs)
		}
	}
	// The room's page tells it went, and to how many.
	doc := htmlDoc(t, l.viewr.page("/?room="+url.QueryEscape("3F Lab"), false).must(t, 200))
	rows := byTestIDAll(byTestID(t, doc, "room-actions"), "room-action")
	if len(rows) != 1 || attr(rows[0], "data-state") != "sent" || !strings.Contains(textOf(rows[0]), "PC 2대에 보냈습니다 (요청: op)") {
		t.Errorf("room page after sending: %d rows %v", len(rows), rows)
	}
	if !strings.Contains(l.ts.logs.String(), "room action sent") {
		t.Error("the send is not logged")
	}

	// A room command that is not a power command goes at once; so does a power command for PCs,
	// and a room's through the JSON API, which scripts use.
	byTestID(t, htmlDoc(t, l.op.form("POST", "/commands", pcValues("room", "3F Lab", "type", "message", "message", "hi"), true).must(t, 200)), "command-results")
	byTestID(t, htmlDoc(t, l.op.form("POST", "/commands", pcValues("pc_ids", itoa(l.pc1.PCID), "type", "shutdown"), true).must(t, 200)), "command-results")
	l.op.do("POST", "/api/admin/commands/bulk", map[string]any{"room": "3F Lab", "type": "shutdown"}).must(t, 200)
	if n := l.queued(t); n != 7 {
		t.Errorf("%d commands queued, want 7", n)
	}

	// A room with no PCs has nothing to schedule.
	l.admin.do("POST", "/api/admin/rooms", map[string]any{"name": "empty", "rows": 1, "cols": 1}).must(t, 200)
	admRefused(t, l.op.form("POST", "/commands", pcValues("room", "empty", "type", "shutdown"), true), 400, "강의실에 PC가 없어")
}

// Another operator, in another session, cancels; a viewer cannot, nor a request without the
// CSRF token; a second cancel and an unknown action change nothing.
func TestRoomPowerCancel(t *testing.T) {
	l, lee := roomLab(t, time.Minute)
	id := attr(scheduleRoom(t, l.op, "type", "shutdown"), "data-action-id")
	path := "/room-actions/" + id + "/cancel"

	admRefused(t, l.viewr.form("POST", path, nil, true), 403, "")
	if r := lee.sendForm("POST", path, nil, "HX-Request", "true"); r.Status != 403 || !strings.Contains(r.Raw, "보안 토큰이 맞지 않습니다") {
		t.Errorf("without the CSRF token: %d %s", r.Status, r.Raw)
	}
	if as := l.roomActions(t); as[0].State != models.ActionScheduled {
		t.Fatalf("refused cancels changed the action: %+v", as[0])
	}

	doc := htmlDoc(t, lee.form("POST", path, nil, true).must(t, 200))
	row := byTestID(t, doc, "room-action")
	if attr(row, "data-state") != "cancelled" || !strings.Contains(textOf(row), "lee 님이") {
		t.Errorf("after the cancel: %q %q", attr(row, "data-state"), textOf(row))
	}
	if len(byTestIDAll(doc, "room-action-cancel")) != 0 {
		t.Error("a cancelled action still offers Cancel")
	}
	if as := l.roomActions(t); as[0].State != models.ActionCancelled || as[0].EndedBy != "lee" {
		t.Errorf("stored: %+v", as[0])
	}
	if !strings.Contains(l.ts.logs.String(), "room action cancelled") {
		t.Error("the cancel is not logged")
	}

	admRefused(t, l.op.form("POST", path, nil, true), 409, "이미 보냈거나 취소된 예약")
	admRefused(t, l.op.sendForm("POST", path, nil, handlers.CSRFHeader, l.op.csrf, "HX-Request", "true", "Accept-Language", "en"), 409,
		"already sent or cancelled")
	admRefused(t, l.op.form("POST", "/room-actions/999/cancel", nil, true), 404, "지워졌을 수 있습니다")
	admRefused(t, l.op.form("POST", "/room-actions/x/cancel", nil, true), 400, "양의 정수여야")
	if as := l.roomActions(t); as[0].State != models.ActionCancelled || as[0].EndedBy != "lee" {
		t.Errorf("a refused cancel changed it: %+v", as[0])
	}
	time.Sleep(200 * time.Millisecond) // a wrongly armed timer would have fired by now
	if n := l.queued(t); n != 0 {
		t.Errorf("%d commands queued for a cancelled action", n)
	}

	// The event log keeps it, cancelled and by whom, on the page and in the export.
	logged := byTestIDAll(htmlDoc(t, l.viewr.do("GET", "/log?tab=room-actions", nil).must(t, 200)), "logged-room-action")
	if len(logged) != 1 || attr(logged[0], "data-state") != "cancelled" || !strings.Contains(textOf(logged[0]), "lee 님이") {
		t.Errorf("the event log's room actions: %d rows, %q", len(logged), textsOfNodes(logged))
	}
	records := readCSV(t, l.viewr.do("GET", "/log/export?tab=room-actions", nil), "room-actions")
	if len(records) != 2 || records[1][5] != "cancelled" || records[1][8] != "lee" || records[1][3] != "3F Lab" {
		t.Errorf("the export: %q", records)
	}
}

func textsOfNodes(ns []*html.Node) (out []string) {
	for _, n := range ns {
		out = append(out, textOf(n))
	}
	return out
}

// Cancelling an action already sent is refused and changes nothing.
func TestRoomPowerCancelAfterSent(t *testing.T) {
	l, lee := roomLab(t, 0)
	id := attr(scheduleRoom(t, l.op, "type", "shutdown"), "data-action-id")
	waitFor(t, 5*time.Second, "the PCs' commands", func() bool { return l.queued(t) == 2 })
	admRefused(t, lee.form("POST", "/room-actions/"+id+"/cancel", nil, true), 409, "바뀐 것은 없습니다")
	if as := l.roomActions(t); as[0].State != models.ActionSent || as[0].SentCount != 2 || as[0].EndedBy != "" {
		t.Errorf("stored: %+v", as[0])
	}
	if n := l.queued(t); n != 2 {
		t.Errorf("%d commands, want 2", n)
	}
}

// Every open page of the room follows its actions live, whoever's: scheduled, then cancelled.
func TestRoomActionsLive(t *testing.T) {
	l, lee := roomLab(t, time.Minute)
	path := "/stream?room=" + url.QueryEscape("3F Lab")
	opEvs, stopOp := openStream(t, lee, path)
	defer stopOp()
	viewEvs, stopView := openStream(t, l.viewr, path)
	defer stopView()
	time.Sleep(100 * time.Millisecond) // the streams have subscribed
	id := attr(scheduleRoom(t, l.op, "type", "shutdown"), "data-action-id")

	panel := func(state string) func(sseEvent) bool {
		return func(ev sseEvent) bool {
			return ev.name == "room-actions" && strings.Contains(ev.data, `data-action-id="`+id+`"`) &&
				strings.Contains(ev.data, `data-state="`+state+`"`)
		}
	}
	if ev := until(t, opEvs, "the operator's page shows the countdown", panel("scheduled")); !strings.Contains(ev.data, "room-action-cancel") {
		t.Error("the operator's page offers no Cancel")
	}
	if ev := until(t, viewEvs, "the viewer's page shows the countdown", panel("scheduled")); strings.Contains(ev.data, "room-action-cancel") {
		t.Error("the viewer's page offers Cancel")
	}
	lee.form("POST", "/room-actions/"+id+"/cancel", nil, true).must(t, 200)
	until(t, opEvs, "the operator's page shows the cancel", panel("cancelled"))
	until(t, viewEvs, "the viewer's page shows the cancel", panel("cancelled"))
}
