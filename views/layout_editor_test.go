package views_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/views"
)

// hostileLayout is the editor on a room with a hostile name: a 2×2 grid with one PC, one PC to
// place, one placed elsewhere, one unverified.
func hostileLayout() views.LayoutView {
	here := views.Tile{ID: 7, Hostname: hostile, Online: true}
	rooms := []views.LayoutRoom{{Name: hostile, Rows: 2, Cols: 2, PCs: 1}, {Name: "Lab 2", Rows: 1, Cols: 1, PCs: 1}}
	return views.LayoutView{
		Page:  adminFrame("operator", "layout"),
		Rooms: rooms,
		Room:  &rooms[0],
		Grid:  [][]views.Seat{{{Row: 1, Col: 1, PC: &here}, {Row: 1, Col: 2}}, {{Row: 2, Col: 1}, {Row: 2, Col: 2}}},
		PCs: []views.PlaceablePC{
			{ID: 7, Hostname: hostile, Room: hostile, Row: 1, Col: 1},
			{ID: 8, Hostname: "lab-08", Room: "Lab 2", Row: 1, Col: 1},
			{ID: 9, Hostname: "new-" + hostile},
		},
		Unverified: []views.UnverifiedPC{{ID: 9, Hostname: "new-" + hostile, MachineID: hostile}},
	}
}

// splitURL parses a URL attribute into its path and query.
func splitURL(t *testing.T, raw string) (string, url.Values) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return u.Path, u.Query()
}

func TestLayoutPage(t *testing.T) {
	v := hostileLayout()
	doc := render(t, views.LayoutPage(v))
	noInlineScript(t, doc)

	if got := text(byTestID(t, doc, "room-editor-title")); got != hostile {
		t.Errorf("room title %q, want the name as text", got)
	}
	links := byTestIDAll(doc, "layout-room")
	if len(links) != 2 {
		t.Fatalf("%d room links, want 2", len(links))
	}
	if path, q := splitURL(t, attr(links[0], "href")); path != "/layout" || q.Get("room") != hostile {
		t.Errorf("room link %q", attr(links[0], "href"))
	}
	if !strings.Contains(attr(links[0], "class"), "bg-blue-700") || strings.Contains(attr(links[1], "class"), "bg-blue-700") {
		t.Error("the edited room is not the highlighted one")
	}

	seats := byTestIDAll(doc, "layout-seat")
	if len(seats) != 1 || text(byTestIDAll(seats[0], "layout-seat-hostname")[0]) != hostile {
		t.Fatalf("placed seats: %d", len(seats))
	}
	unplace := byTestIDAll(seats[0], "layout-unplace")[0]
	if path, q := splitURL(t, attr(unplace, "hx-post")); path != "/layout/pc/7/unplace" || q.Get("room") != hostile {
		t.Errorf("unplace posts to %q", attr(unplace, "hx-post"))
	}
	empty := byTestIDAll(doc, "layout-empty-seat")
	if len(empty) != 3 {
		t.Fatalf("%d empty seats, want 3", len(empty))
	}
	path, q := splitURL(t, attr(empty[0], "hx-get"))
	if path != "/layout" || q.Get("room") != hostile || q.Get("row") != "1" || q.Get("col") != "2" || attr(empty[0], "href") != attr(empty[0], "hx-get") {
		t.Errorf("the empty seat 1-2 opens %q (href %q)", attr(empty[0], "hx-get"), attr(empty[0], "href"))
	}
	if hasTestID(doc, "seat-picker") {
		t.Error("the picker is open without a chosen seat")
	}
	if !strings.Contains(attr(byTestID(t, doc, "layout-grid"), "class"), "overflow-x-auto") {
		t.Error("a wide grid would scroll the whole page on a phone")
	}

	update := byTestID(t, doc, "room-update")
	if attr(update, "hx-post") != "/layout/room" || attr(inputNamed(t, update, "room"), "value") != hostile ||
		attr(inputNamed(t, update, "rows"), "value") != "2" || attr(inputNamed(t, update, "name"), "value") != hostile {
		t.Error("the rename/resize form does not carry the room")
	}
	del := byTestID(t, doc, "room-delete")
	if path, q := splitURL(t, attr(del, "hx-delete")); path != "/layout/room" || q.Get("room") != hostile || attr(del, "hx-confirm") == "" {
		t.Errorf("delete: hx-delete %q hx-confirm %q", attr(del, "hx-delete"), attr(del, "hx-confirm"))
	}
	if attr(byTestID(t, doc, "room-create"), "hx-post") != "/layout/rooms" {
		t.Error("no room create form")
	}

	rows := byTestIDAll(doc, "unverified-pc")
	if len(rows) != 1 || text(byTestIDAll(rows[0], "unverified-hostname")[0]) != "new-"+hostile {
		t.Fatalf("unverified rows: %d", len(rows))
	}
	if path, q := splitURL(t, attr(byTestIDAll(rows[0], "verify")[0], "hx-post")); path != "/layout/pc/9/verify" || q.Get("room") != hostile {
		t.Errorf("verify posts to %q", attr(byTestIDAll(rows[0], "verify")[0], "hx-post"))
	}
	panel := byTestID(t, doc, "layout-panel")
	if attr(panel, "hx-target") != "#layout-panel" || attr(panel, "hx-swap") != "outerHTML" {
		t.Error("the panel's actions do not replace the panel")
	}
}

func TestLayoutSeatPicker(t *testing.T) {
	v := hostileLayout()
	v.Pick = &views.Seat{Row: 2, Col: 1}
	doc := render(t, views.LayoutPage(v))
	picker := byTestID(t, doc, "seat-picker")
	if attr(picker, "data-row") != "2" || attr(picker, "data-col") != "1" {
		t.Errorf("picker on %s-%s", attr(picker, "data-row"), attr(picker, "data-col"))
	}
	form := byTestID(t, doc, "seat-form")
	if attr(form, "hx-post") != "/layout/seat" {
		t.Errorf("picker posts to %q", attr(form, "hx-post"))
	}
	for name, want := range map[string]string{"room": hostile, "row": "2", "col": "1"} {
		if got := attr(inputNamed(t, form, name), "value"); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	options := func(group string) []string {
		var out []string
		for _, o := range findAll(byTestID(t, doc, group), func(n *html.Node) bool { return n.DataAtom == atom.Option }) {
			out = append(out, attr(o, "value")+" "+text(o))
		}
		return out
	}
	if got := options("seat-pc-unplaced"); len(got) != 1 || got[0] != "9 new-"+hostile {
		t.Errorf("unplaced choices %q", got)
	}
	if got := options("seat-pc-placed"); len(got) != 2 || got[1] != "8 lab-08 — Lab 2 1-1" {
		t.Errorf("choices to move %q", got)
	}
	var picked []string
	for _, s := range byTestIDAll(doc, "layout-empty-seat") {
		if strings.Contains(attr(s, "class"), "border-blue-600") {
			picked = append(picked, attr(s, "data-row")+"-"+attr(s, "data-col"))
		}
	}
	if strings.Join(picked, " ") != "2-1" {
		t.Errorf("highlighted seats %v, want 2-1", picked)
	}
}

func TestLayoutPageEmpty(t *testing.T) {
	doc := render(t, views.LayoutPage(views.LayoutView{Page: adminFrame("admin", "layout")}))
	for _, id := range []string{"layout-no-room", "layout-rooms-empty", "unverified-empty", "room-create"} {
		byTestID(t, doc, id)
	}
	if hasTestID(doc, "room-editor") {
		t.Error("an editor without a room")
	}

	v := hostileLayout()
	v.PCs, v.Pick = nil, &views.Seat{Row: 1, Col: 2}
	doc = render(t, views.LayoutPage(v))
	if !hasTestID(doc, "seat-picker-empty") || hasTestID(doc, "seat-form") {
		t.Error("a picker with no PCs to pick offers a form")
	}
}
