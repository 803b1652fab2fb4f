package views_test

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

var chartStart = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func hourChart(pts ...models.Point) views.PCChart {
	r := views.ChartRangeNamed("hour")
	return views.PCChart{PCID: 7, Range: r, Span: models.Span{From: chartStart, To: chartStart.Add(time.Hour), Step: time.Minute}, Points: pts}
}

func at(minute int, cpu *float64) models.Point {
	return models.Point{At: chartStart.Add(time.Duration(minute) * time.Minute), Samples: 30, OnlineSeconds: 60, CPUAvg: cpu,
		RAMAvg: cpu, CPUMax: cpu, InUseMinutes: 1, User: hostile}
}

func f(v float64) *float64 { return &v }

// rects are the SVG rectangles under n (SVG elements have no atom).
func rects(n *html.Node) []*html.Node {
	return findAll(n, func(e *html.Node) bool { return e.Type == html.ElementNode && e.Data == "rect" })
}

// pathPoints are the coordinates of an SVG path, and how many pieces it has (each "M" starts one).
func pathPoints(d string) (pts [][2]float64, pieces int) {
	for _, m := range regexp.MustCompile(`([ML])([-0-9.]+) ([-0-9.]+)`).FindAllStringSubmatch(d, -1) {
		x, _ := strconv.ParseFloat(m[2], 64)
		y, _ := strconv.ParseFloat(m[3], 64)
		pts = append(pts, [2]float64{x, y})
		if m[1] == "M" {
			pieces++
		}
	}
	return pts, pieces
}

func TestPCChart(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		doc := render(t, views.PCChartSection(hourChart()))
		checkCSP(t, doc)
		if d := attr(byTestID(t, doc, "chart-cpu"), "d"); d != "" {
			t.Errorf("a line with no data: %q", d)
		}
		byTestID(t, doc, "chart-empty")
		if n := len(rects(byTestID(t, doc, "chart-online"))); n != 0 {
			t.Errorf("%d online marks with no data", n)
		}
	})
	t.Run("single point", func(t *testing.T) {
		doc := render(t, views.PCChartSection(hourChart(at(30, f(50)))))
		d := attr(byTestID(t, doc, "chart-cpu"), "d")
		pts, pieces := pathPoints(d)
		// The middle of step 30 of 60: x = 30.5 × 10; 50 % is half the height.
		if len(pts) != 1 || pieces != 1 || pts[0] != [2]float64{305, 75} || !strings.HasSuffix(d, "h0") {
			t.Errorf("one point: %q", d)
		}
		if hasTestID(doc, "chart-empty") {
			t.Error("says empty with a point")
		}
	})
	t.Run("gaps break the line", func(t *testing.T) {
		d := attr(byTestID(t, render(t, views.PCChartSection(hourChart(at(0, f(10)), at(1, f(20)), at(5, f(30)), at(6, f(40))))), "chart-cpu"), "d")
		if pts, pieces := pathPoints(d); len(pts) != 4 || pieces != 2 {
			t.Errorf("two runs with a gap: %q", d)
		}
	})
	t.Run("hostile and extreme values", func(t *testing.T) {
		pts := []models.Point{
			at(-5, f(10)),         // before the span
			at(0, f(math.NaN())),  // not a number
			at(1, f(math.Inf(1))), // infinite
			at(2, f(-40)),         // below 0: drawn at 0
			at(3, f(250)),         // above 100: drawn at 100
			at(3, f(10)),          // the same step again: left out
			at(1, f(10)),          // back in time: left out
			at(4, nil),            // no figure
			at(60, f(10)),         // after the span
			{At: chartStart.Add(5 * time.Minute), OnlineSeconds: 1e6, InUseMinutes: -3, CPUAvg: f(1)}, // impossible counts
		}
		doc := render(t, views.PCChartSection(hourChart(pts...)))
		checkCSP(t, doc)
		got, pieces := pathPoints(attr(byTestID(t, doc, "chart-cpu"), "d"))
		want := [][2]float64{{25, 150}, {35, 0}, {55, 148.5}}
		if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || pieces != 2 {
			t.Errorf("points %v in %d pieces, want %v in 2", got, pieces, want)
		}
		for _, r := range rects(byTestID(t, doc, "chart-online")) {
			if o, err := strconv.ParseFloat(attr(r, "fill-opacity"), 64); err != nil || o <= 0 || o > 1 {
				t.Errorf("band opacity %q", attr(r, "fill-opacity"))
			}
		}
		if n := len(rects(byTestID(t, doc, "chart-inuse"))); n != 5 {
			t.Errorf("%d in-use marks, want 5 (one per step; none for a negative count)", n)
		}
		if strings.Contains(text(doc), hostile) {
			t.Error("the chart shows a user name")
		}
	})
	t.Run("extreme length", func(t *testing.T) {
		var pts []models.Point
		for i := range 2000 {
			pts = append(pts, models.Point{At: chartStart.Add(time.Duration(i) * time.Minute), CPUAvg: f(float64(i % 100))})
		}
		c := views.PCChart{PCID: 7, Range: views.ChartRangeNamed("day"), Span: models.Span{From: chartStart,
			To: chartStart.Add(2000 * time.Minute), Step: time.Minute}, Points: pts}
		if got, pieces := pathPoints(attr(byTestID(t, render(t, views.PCChartSection(c)), "chart-cpu"), "d")); len(got) != 2000 || pieces != 1 {
			t.Errorf("%d points in %d pieces", len(got), pieces)
		}
	})
	t.Run("words in both languages", func(t *testing.T) {
		c := hourChart(at(0, f(80)))
		for ctx, want := range map[context.Context][]string{context.Background(): {"사용 기록", "CPU 평균", "1시간", "CPU 최고 80%"},
			inEnglish: {"History", "CPU average", "Hour", "CPU peaked at 80%"}} {
			doc := renderCtx(t, ctx, views.PCChartSection(c))
			all := text(doc) + attr(byTestID(t, doc, "chart-svg"), "aria-label")
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in %q", w, all)
				}
			}
		}
		for _, tab := range byTestIDAll(render(t, views.PCChartSection(c)), "chart-range") {
			if attr(tab, "hx-get") == "/pc/7/chart?range=hour" && attr(tab, "aria-current") != "true" {
				t.Error("the current range is not marked")
			}
		}
	})
}

func TestRoomChart(t *testing.T) {
	sp := models.Span{From: chartStart, To: chartStart.Add(24 * time.Hour), Step: 10 * time.Minute}
	c := views.RoomChart{Room: hostile, PCs: 4, Span: sp, Points: []models.RoomPoint{
		{At: chartStart, PCsOnline: 2, PCsInUse: 1},
		{At: chartStart.Add(10 * time.Minute), PCsOnline: 9, PCsInUse: 3}, // more than the room holds now: full height
		{At: chartStart.Add(48 * time.Hour), PCsOnline: 1},                // outside the day
	}}
	doc := render(t, views.RoomChartSection(c))
	checkCSP(t, doc)
	on := byTestIDAll(doc, "room-bar-online")
	use := byTestIDAll(doc, "room-bar-inuse")
	if len(on) != 2 || len(use) != 2 || attr(on[0], "height") != "75.0" || attr(on[1], "height") != "150.0" ||
		attr(use[0], "y") != "112.5" || attr(on[1], "x") != "4.2" {
		t.Errorf("bars %v %v", on, use)
	}
	if got := text(byTestID(t, doc, "room-chart-peak")); !strings.Contains(got, "3 / 4") {
		t.Errorf("peak %q", got)
	}
	empty := render(t, views.RoomChartSection(views.RoomChart{PCs: 0, Span: sp}))
	if len(byTestIDAll(empty, "room-bar-online")) != 0 {
		t.Error("bars for a room with no history")
	}
	if axis := byTestID(t, empty, "chart-axis"); len(byAtom(axis, atom.Span)) != 5 {
		t.Error("the day's axis has not 5 times")
	}
}
