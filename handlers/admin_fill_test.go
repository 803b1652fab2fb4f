package handlers_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wcms-lab/wcms/events"
)

// fillFixture is n registered PCs (LAB-PC1…) and an empty 2×2 room; it returns the room's id.
func fillFixture(t *testing.T, n int) (*fleetFixture, int64) {
	t.Helper()
	f := newFleetFixture(t, n)
	res := f.a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 2, "cols": 2}).must(t, 200)
	return f, res.num("room.id")
}

func fillPath(room int64) string { return "/api/admin/rooms/" + itoa(room) + "/fill" }

func placedNames(t *testing.T, res response) []string {
	t.Helper()
	var out []string
	for _, p := range items(t, res, "placed") {
		out = append(out, fmt.Sprintf("%s@%v-%v", p["hostname"], p["row"], p["col"]))
	}
	return out
}

func TestFillRoomAPI(t *testing.T) {
	f, room := fillFixture(t, 11) // LAB-PC1 … LAB-PC11
	sub := f.ts.hub.Subscribe()
	defer sub.Close()
	res := f.a.do("POST", fillPath(room), map[string]any{"prefix": "lab-pc1", "order": "columns"}).must(t, 200)
	// PC1, PC10, PC11 match, in natural order PC1, PC10, PC11; columns: 1-1, 2-1, 1-2.
	if got, want := placedNames(t, res), []string{"LAB-PC1@1-1", "LAB-PC10@2-1", "LAB-PC11@1-2"}; !slices.Equal(got, want) {
		t.Errorf("placed %v, want %v", got, want)
	}
	<-sub.Ready()
	evs, _ := sub.Drain()
	var rooms []string
	for _, ev := range evs {
		if ev.Kind != events.RoomChanged {
			t.Errorf("event %v for PC %d: a fill publishes room events only", ev.Kind, ev.PCID)
			continue
		}
		rooms = append(rooms, ev.Room.Name)
	}
	slices.Sort(rooms)
	if !slices.Equal(rooms, []string{"", "ENG301"}) {
		t.Errorf("room events %q, want one for the unplaced and one for ENG301", rooms)
	}

	// One seat left: PC2 goes on it, PC3 is reported back.
	res = f.a.do("POST", fillPath(room), map[string]any{"pc_ids": []int64{f.pcs[2].PCID, f.pcs[1].PCID}}).must(t, 200)
	if got := placedNames(t, res); !slices.Equal(got, []string{"LAB-PC2@2-2"}) {
		t.Errorf("placed %v", got)
	}
	if left := res.get("left").([]any); len(left) != 1 || int64(left[0].(float64)) != f.pcs[2].PCID {
		t.Errorf("left %v, want PC3", left)
	}
	if v, _ := f.ts.fleet.View(f.pcs[1].PCID); v.Room == nil || *v.Room != "ENG301" || *v.SeatRow != 2 || *v.SeatCol != 2 {
		t.Errorf("fleet memory: %+v", v)
	}
}

func TestFillRoomAPIRefuses(t *testing.T) {
	f, room := fillFixture(t, 3)
	other := f.a.do("POST", "/api/admin/rooms", map[string]any{"name": "Other", "rows": 1, "cols": 1}).must(t, 200).num("room.id")
	f.a.do("POST", fillPath(other), map[string]any{"pc_ids": []int64{f.pcs[2].PCID}}).must(t, 200)
	pc1, pc3 := f.pcs[0].PCID, f.pcs[2].PCID
	for _, tt := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"neither ids nor prefix", fillPath(room), map[string]any{"order": "rows"}, 400, "MISSING_FIELD"},
		{"both", fillPath(room), map[string]any{"pc_ids": []int64{pc1}, "prefix": "LAB"}, 400, "MISSING_FIELD"},
		{"bad order", fillPath(room), map[string]any{"pc_ids": []int64{pc1}, "order": "diagonal"}, 400, "INVALID_FIELD"},
		{"empty ids", fillPath(room), map[string]any{"pc_ids": []int64{}}, 400, "INVALID_FIELD"},
		{"unknown PC", fillPath(room), map[string]any{"pc_ids": []int64{pc1, 99999}}, 400, "INVALID_FIELD"},
		{"placed elsewhere", fillPath(room), map[string]any{"pc_ids": []int64{pc1, pc3}}, 400, "INVALID_FIELD"},
		{"prefix matches none", fillPath(room), map[string]any{"prefix": "NOPE-"}, 400, "INVALID_FIELD"},
		{"unknown room", fillPath(99999), map[string]any{"pc_ids": []int64{pc1}}, 404, "NOT_FOUND"},
		{"room id not a number", "/api/admin/rooms/x/fill", map[string]any{"pc_ids": []int64{pc1}}, 400, "INVALID_FIELD"},
		{"not JSON", fillPath(room), "pc_ids=1", 400, "INVALID_JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkEnvelope(t, f.a.do("POST", tt.path, tt.body), tt.status, tt.code)
			if v, _ := f.ts.fleet.View(pc1); v.Room != nil {
				t.Fatalf("PC1 placed in %s by a refused fill", *v.Room)
			}
		})
	}
	// With move, PC3 leaves Other.
	res := f.a.do("POST", fillPath(room), map[string]any{"pc_ids": []int64{pc1, pc3}, "move": true}).must(t, 200)
	if got := placedNames(t, res); !slices.Equal(got, []string{"LAB-PC1@1-1", "LAB-PC3@1-2"}) {
		t.Errorf("moved %v", got)
	}
}

func TestFillRoomRoles(t *testing.T) {
	f, room := fillFixture(t, 1)
	viewer := f.ts.account(f.a, "viewer1", "viewer")
	checkEnvelope(t, viewer.do("POST", fillPath(room), map[string]any{"pc_ids": []int64{f.pcs[0].PCID}}), 403, "FORBIDDEN")
	// Without the CSRF header the session alone does not do.
	checkEnvelope(t, f.ts.do(f.a.client, "POST", fillPath(room), map[string]any{"pc_ids": []int64{f.pcs[0].PCID}}), 403, "CSRF_FAILED")
	if v, _ := f.ts.fleet.View(f.pcs[0].PCID); v.Room != nil {
		t.Fatal("placed by a refused request")
	}
}
