package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// The metrics API: a PC's and a room's history as JSON and CSV, read by a viewer; bad spans are
// refused with the reason, unknown PCs and rooms are 404s.
func TestMetricsAPI(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	view := ts.account(a, "view", "viewer")
	pin := ts.pin(a, "multi")
	pc1, pc2 := ts.register(pin, "m1"), ts.register(pin, "m2")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 1, "cols": 2}).must(t, 200)
	for i, pc := range []*agent{pc1, pc2} {
		a.do("PUT", "/api/admin/pc/"+itoa(pc.PCID)+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": i + 1}).must(t, 200)
	}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var ms []models.Minute
	for i := range 10 {
		ms = append(ms, models.Minute{PCID: pc1.PCID, Minute: t0.Add(time.Duration(i) * time.Minute).Unix(), Samples: 30,
			OnlineSeconds: 60, CPUAvg: ptrTo(float64(10 * i)), CPUMax: ptrTo(float64(10*i + 5)), User: "=cmd|' /C calc'!A0"})
	}
	ms = append(ms, models.Minute{PCID: pc2.PCID, Minute: t0.Unix(), Samples: 30, OnlineSeconds: 60, CPUAvg: ptrTo(50.0)})
	if _, err := ts.store.SaveMinutes(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	span := "from=" + url.QueryEscape(t0.Format(time.RFC3339)) + "&to=" + fmt.Sprint(t0.Add(10*time.Minute).Unix())

	r := view.do("GET", "/api/admin/pc/"+itoa(pc1.PCID)+"/metrics?"+span+"&step=5m", nil).must(t, 200)
	pts, _ := r.get("points").([]any)
	if len(pts) != 2 || r.get("step") != 300.0 || r.get("from") != "2026-12-05T09:00:00Z" || r.get("pc_id") != float64(pc1.PCID) {
		t.Fatalf("PC series: %s", r.Raw)
	}
	// Minutes 0-4: CPU 0…40, average 20, maximum 45; everyone's minutes in use.
	if p := pts[0].(map[string]any); p["cpu_avg"] != 20.0 || p["cpu_max"] != 45.0 || p["samples"] != 150.0 ||
		p["online_seconds"] != 300.0 || p["in_use_minutes"] != 5.0 || p["at"] != "2026-12-05T09:00:00Z" {
		t.Errorf("first step %v", p)
	}

	r = view.do("GET", "/api/admin/room/ENG301/metrics?"+span+"&step=600", nil).must(t, 200)
	pts, _ = r.get("points").([]any)
	if len(pts) != 1 || r.get("pcs") != 2.0 || r.get("room") != "ENG301" {
		t.Fatalf("room series: %s", r.Raw)
	}
	if p := pts[0].(map[string]any); p["pcs_online"] != 2.0 || p["pcs_in_use"] != 1.0 || p["online_seconds"] != 660.0 {
		t.Errorf("room step %v", p)
	}

	res := ts.do(view.client, "GET", "/api/admin/pc/"+itoa(pc1.PCID)+"/metrics?"+span+"&format=csv", nil)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Raw, "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 11 || strings.Join(rows[0], ",") != "at,samples,online_seconds,cpu_avg,cpu_max,ram_avg,ram_max,in_use_minutes,user" {
		t.Fatalf("CSV rows %v %v", rows, err)
	}
	if rows[2][0] != "2026-12-05T09:01:00Z" || rows[2][3] != "10" || rows[2][5] != "" || !strings.HasPrefix(rows[2][8], "'=") {
		t.Errorf("CSV row %v (a user name starting with = must not run as a formula)", rows[2])
	}

	for _, bad := range []struct{ query, says string }{
		{"from=2026-12-05T10:00:00Z&to=2026-12-05T09:00:00Z", "from must be before to"},
		{"step=30", "step must be whole minutes"},
		{"step=90m", "step must be whole minutes"},
		{"step=soon", "step must be whole minutes"},
		{"from=yesterday", "from must be an RFC 3339 time"},
		{"from=0&step=60", "steps is too many"},
	} {
		r := a.do("GET", "/api/admin/pc/"+itoa(pc1.PCID)+"/metrics?"+bad.query, nil)
		if r.Status != 400 || !strings.Contains(fmt.Sprint(r.get("message")), bad.says) {
			t.Errorf("%s: %d %s", bad.query, r.Status, r.Raw)
		}
	}
	a.do("GET", "/api/admin/pc/99999/metrics", nil).must(t, 404)
	a.do("GET", "/api/admin/room/nowhere/metrics", nil).must(t, 404)
	if r := ts.do(nil, "GET", "/api/admin/pc/"+itoa(pc1.PCID)+"/metrics", nil); r.Status != 401 {
		t.Errorf("without a session: %d", r.Status)
	}
}

func ptrTo[T any](v T) *T { return &v }

// The PC page draws the last hour; a range tab answers the chart alone (htmx) or the page at
// that range; the room page draws the room's day.
func TestHistoryCharts(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	view := ts.account(a, "view", "viewer")
	pc := ts.register(ts.pin(a, "single"), "m1")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 1, "cols": 1}).must(t, 200)
	a.do("PUT", "/api/admin/pc/"+itoa(pc.PCID)+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": 1}).must(t, 200)
	now := time.Now().Truncate(time.Minute)
	if _, err := ts.store.SaveMinutes(context.Background(), []models.Minute{
		{PCID: pc.PCID, Minute: now.Add(-2 * time.Minute).Unix(), Samples: 30, OnlineSeconds: 60, CPUAvg: ptrTo(40.0), User: "kim"},
		{PCID: pc.PCID, Minute: now.Add(-time.Minute).Unix(), Samples: 30, OnlineSeconds: 60, CPUAvg: ptrTo(60.0)},
	}); err != nil {
		t.Fatal(err)
	}
	doc := htmlDoc(t, view.page("/pc/"+itoa(pc.PCID), false).must(t, 200))
	chart := byTestID(t, doc, "pc-chart")
	if attr(chart, "data-range") != "hour" || attr(byTestID(t, chart, "chart-cpu"), "d") == "" || len(byTestIDAll(chart, "chart-empty")) != 0 {
		t.Errorf("the PC page's chart: range %q, line %q", attr(chart, "data-range"), attr(byTestID(t, chart, "chart-cpu"), "d"))
	}
	frag := view.page("/pc/"+itoa(pc.PCID)+"/chart?range=week", true).must(t, 200)
	if !isFragment(frag) || attr(byTestID(t, htmlDoc(t, frag), "pc-chart"), "data-range") != "week" {
		t.Errorf("the week tab: %.300s", frag.Raw)
	}
	if r := view.page("/pc/"+itoa(pc.PCID)+"/chart?range=day", false); r.Status != 303 || r.Header.Get("Location") != "/pc/"+itoa(pc.PCID)+"?range=day" {
		t.Errorf("the day tab without htmx: %d %q", r.Status, r.Header.Get("Location"))
	}
	view.page("/pc/99999/chart?range=day", true).must(t, 404)
	room := byTestID(t, htmlDoc(t, view.page("/?room=ENG301", false).must(t, 200)), "room-chart")
	if n := len(byTestIDAll(room, "room-bar-online")); n == 0 {
		t.Error("the room's day shows no PC online")
	}
	if got := textOf(byTestID(t, room, "room-chart-peak")); !strings.Contains(got, "1 / 1") {
		t.Errorf("peak %q", got)
	}
	// The chart fetches itself every minute: the same chart alone.
	if attr(room, "hx-get") != "/room-chart?room=ENG301" || attr(room, "hx-trigger") != "every 60s" {
		t.Errorf("the room chart's refresh: %q %q", attr(room, "hx-get"), attr(room, "hx-trigger"))
	}
	refreshed := htmlDoc(t, view.page("/room-chart?room=ENG301", true).must(t, 200))
	if got := textOf(byTestID(t, refreshed, "room-chart-peak")); !strings.Contains(got, "1 / 1") {
		t.Errorf("the refreshed chart's peak %q", got)
	}
	view.page("/room-chart?room=nowhere", true).must(t, 404)
	// The day is kept for the minute, but not across a change of the room's PCs.
	a.do("PUT", "/api/admin/room/ENG301", map[string]any{"cols": 2}).must(t, 200)
	a.do("PUT", "/api/admin/pc/"+itoa(ts.register(ts.pin(a, "single"), "m2").PCID)+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": 2}).must(t, 200)
	room = byTestID(t, htmlDoc(t, view.page("/?room=ENG301", false).must(t, 200)), "room-chart")
	if got := textOf(byTestID(t, room, "room-chart-peak")); !strings.Contains(got, "1 / 2") {
		t.Errorf("peak after a second PC was placed: %q", got)
	}
}
