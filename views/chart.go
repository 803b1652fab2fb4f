package views

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// Charts are SVG drawn on the server: a fixed coordinate box that the page stretches to its
// width, lines that keep their width (vector-effect), and the words (axis times, legend) in HTML
// beside it, so they stay sharp and readable at any width, from a phone to the wall.

const (
	chartW = 600.0 // the coordinate box, in units
	chartH = 150.0
)

// ChartRanges are the PC chart's ranges and their steps: an hour by minute, a day by 10 minutes,
// a week by hour (the hourly rollups).
var ChartRanges = []ChartRange{
	{"hour", "1시간", "Hour", time.Hour, time.Minute},
	{"day", "하루", "Day", 24 * time.Hour, 10 * time.Minute},
	{"week", "1주", "Week", 7 * 24 * time.Hour, time.Hour},
}

// ChartRange is one range the PC chart offers.
type ChartRange struct {
	Name   string
	KO, EN string
	Span   time.Duration
	Step   time.Duration
}

// ChartRangeNamed is the range called name, or the first (an hour) for any other name.
func ChartRangeNamed(name string) ChartRange {
	for _, r := range ChartRanges {
		if r.Name == name {
			return r
		}
	}
	return ChartRanges[0]
}

// SpanEnding is the range's span ending at now, the current step included.
func (r ChartRange) SpanEnding(now time.Time) models.Span {
	to := now.Truncate(r.Step).Add(r.Step)
	return models.Span{From: to.Add(-r.Span), To: to, Step: r.Step}
}

// PCChart is a PC's CPU and RAM over a range, with bands for when it was online and in use.
type PCChart struct {
	PCID   int64
	Range  ChartRange
	Span   models.Span
	Points []models.Point
}

// RoomChart is a room's day: how many of its PCs were online and in use, step by step.
type RoomChart struct {
	Room   string
	PCs    int // placed in the room now
	Span   models.Span
	Points []models.RoomPoint
}

// step is the index of the step at, or -1 outside the span.
func step(sp models.Span, at time.Time) int {
	if at.Before(sp.From) || !at.Before(sp.To) || sp.Step <= 0 {
		return -1
	}
	return int(at.Sub(sp.From) / sp.Step)
}

// percentY is a percentage's height in the box, clamped to 0-100; ok is false for no figure
// or one that is not a number.
func percentY(v *float64) (y float64, ok bool) {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return 0, false
	}
	return chartH * (1 - min(100, max(0, *v))/100), true
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// linePath is the SVG path of one metric over the span: a point at the middle of each step that
// has the figure, the line broken where a step has none (the PC was off), a lone point drawn as
// a dot (a zero-length segment with round caps).
func linePath(sp models.Span, pts []models.Point, metric func(models.Point) *float64) string {
	n := sp.Steps()
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	last := -2
	for _, p := range pts {
		i := step(sp, p.At)
		y, ok := percentY(metric(p))
		if i < 0 || !ok || i <= last {
			continue // outside the span, no figure, or not after the previous step
		}
		x := (float64(i) + 0.5) * chartW / float64(n)
		if i == last+1 {
			b.WriteString(" L" + num(x) + " " + num(y))
		} else {
			b.WriteString(" M" + num(x) + " " + num(y) + " h0")
		}
		last = i
	}
	return strings.TrimSpace(b.String())
}

// chartBar is one step's mark in a band or a bar chart: x and width in the box, and how strong
// (0-1) or how tall (0-chartH) it is.
type chartBar struct {
	X, W  string
	Level float64
}

// bars are the steps' marks, in step order as linePath's points: level says, for a point, how
// much of the step it fills (0-1).
func bars[P any](sp models.Span, pts []P, at func(P) time.Time, level func(P) float64) []chartBar {
	n := sp.Steps()
	var out []chartBar
	last := -1
	for _, p := range pts {
		i := step(sp, at(p))
		l := level(p)
		if i <= last || math.IsNaN(l) || l <= 0 {
			continue // outside the span, not after the previous step, or nothing to show
		}
		out = append(out, chartBar{X: num(float64(i) * chartW / float64(n)), W: num(chartW / float64(n)), Level: min(1, l)})
		last = i
	}
	return out
}

// onlineBars and inUseBars are the PC chart's bands: the share of each step online, in use.
func (c PCChart) onlineBars() []chartBar {
	secs := c.Span.Step.Seconds()
	return bars(c.Span, c.Points, func(p models.Point) time.Time { return p.At },
		func(p models.Point) float64 { return float64(p.OnlineSeconds) / secs })
}

func (c PCChart) inUseBars() []chartBar {
	mins := c.Span.Step.Minutes()
	return bars(c.Span, c.Points, func(p models.Point) time.Time { return p.At },
		func(p models.Point) float64 { return float64(p.InUseMinutes) / mins })
}

func (c PCChart) cpuPath() string {
	return linePath(c.Span, c.Points, func(p models.Point) *float64 { return p.CPUAvg })
}

func (c PCChart) ramPath() string {
	return linePath(c.Span, c.Points, func(p models.Point) *float64 { return p.RAMAvg })
}

// summary says the chart in words for screen readers: the highest CPU of the range.
func (c PCChart) summary(ctx context.Context) string {
	var top *float64
	for _, p := range c.Points {
		if _, ok := percentY(p.CPUMax); ok && (top == nil || *p.CPUMax > *top) {
			top = p.CPUMax
		}
	}
	if top == nil {
		return T(ctx, "이 기간의 기록이 없습니다", "No history in this range")
	}
	t := strconv.Itoa(int(math.Round(min(100, max(0, *top)))))
	return T(ctx, "CPU 최고 "+t+"%", "CPU peaked at "+t+"%")
}

// roomBars are the room's bars: PCs online (and in use) as a share of its PCs.
func (c RoomChart) roomBars(inUse bool) []chartBar {
	total := float64(max(1, c.PCs))
	return bars(c.Span, c.Points, func(p models.RoomPoint) time.Time { return p.At }, func(p models.RoomPoint) float64 {
		if inUse {
			return float64(p.PCsInUse) / total
		}
		return float64(p.PCsOnline) / total
	})
}

func barHeight(b chartBar) string { return num(b.Level * chartH) }
func barTop(b chartBar) string    { return num(chartH - b.Level*chartH) }

// opacity is a band mark's strength as a presentation attribute, which the CSP allows (it
// refuses style attributes), never fully transparent for a step that has some.
func opacity(b chartBar) string { return strconv.FormatFloat(0.15+0.85*b.Level, 'f', 2, 64) }

// axisTimes are the times under a chart: its start, quarters and end, in the server's zone.
func axisTimes(sp models.Span) []string {
	layout := "15:04"
	if sp.To.Sub(sp.From) > 24*time.Hour {
		layout = "01-02"
	}
	var out []string
	for q := range 5 {
		out = append(out, sp.From.Add(sp.To.Sub(sp.From)*time.Duration(q)/4).Local().Format(layout))
	}
	return out
}

// peakInUse is the most PCs of the room in use at once in the day, for the chart's words.
func (c RoomChart) peakInUse() int {
	top := 0
	for _, p := range c.Points {
		top = max(top, p.PCsInUse)
	}
	return top
}
