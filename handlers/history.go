package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// The history of a PC or a room (models/telemetry.go) as JSON series or CSV (docs/API.md).

// maxSteps bounds a series, so one request reads and answers a bounded amount.
const maxSteps = 2000

// defaultSteps are the steps chosen when a request names none: the first that gives at most
// 500 points over the span.
var defaultSteps = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	6 * time.Hour, 24 * time.Hour}

// historySpan reads from, to and step: times as RFC 3339 or Unix seconds, the step as seconds or
// a duration ("5m"). By default the last hour up to now. from is moved back to a whole step.
func historySpan(c echo.Context, now time.Time) (models.Span, error) {
	var sp models.Span
	var err error
	if sp.To, err = historyTime(c.QueryParam("to"), "to", "끝", now); err != nil {
		return sp, err
	}
	if sp.From, err = historyTime(c.QueryParam("from"), "from", "시작", sp.To.Add(-time.Hour)); err != nil {
		return sp, err
	}
	if !sp.From.Before(sp.To) {
		return sp, badRequest(codeInvalidField, "시작(from)이 끝(to)보다 앞서야 합니다", "from must be before to")
	}
	if sp.Step, err = historyStep(c.QueryParam("step"), sp.To.Sub(sp.From)); err != nil {
		return sp, err
	}
	sp.From = sp.From.Truncate(sp.Step)
	if n := sp.Steps(); n > maxSteps {
		return sp, badRequest(codeInvalidField, "구간이 너무 많습니다: %d개 (최대 %d개). 기간을 줄이거나 간격(step)을 늘리세요.",
			"%d steps is too many (at most %d): shorten the range or lengthen the step", n, maxSteps)
	}
	return sp, nil
}

func historyTime(v, name, ko string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, badRequest(codeInvalidField, "%[3]s 시각(%[1]s)은 2026-12-05T09:00:00+09:00 같은 RFC 3339 시각이나 유닉스 초여야 합니다 (받은 값 %[2]q)",
			"%[1]s must be an RFC 3339 time or Unix seconds, not %[2]q", name, v, ko)
	}
	return t, nil
}

// historyStep is the step asked for, a whole number of minutes (of hours from an hour up, since
// those read the hourly rollups), or the default for the span.
func historyStep(v string, span time.Duration) (time.Duration, error) {
	if v == "" {
		for _, s := range defaultSteps {
			if span/s <= 500 {
				return s, nil
			}
		}
		return defaultSteps[len(defaultSteps)-1], nil
	}
	step, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		step, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || step < time.Minute || step%time.Minute != 0 || step >= time.Hour && step%time.Hour != 0 {
		return 0, badRequest(codeInvalidField, "간격(step)은 분 단위(1시간 이상은 시간 단위)여야 합니다: 60, 300, 1h 등 (받은 값 %q)",
			"step must be whole minutes (whole hours from an hour up), such as 60, 300 or 1h, not %q", v)
	}
	return step, nil
}

type pcPointJSON struct {
	At            time.Time `json:"at"`
	Samples       int       `json:"samples"`
	OnlineSeconds int       `json:"online_seconds"`
	CPUAvg        *float64  `json:"cpu_avg"`
	CPUMax        *float64  `json:"cpu_max"`
	RAMAvg        *float64  `json:"ram_avg"`
	RAMMax        *float64  `json:"ram_max"`
	InUseMinutes  int       `json:"in_use_minutes"`
	User          string    `json:"user"`
}

type roomPointJSON struct {
	At            time.Time `json:"at"`
	PCsOnline     int       `json:"pcs_online"`
	PCsInUse      int       `json:"pcs_in_use"`
	OnlineSeconds int       `json:"online_seconds"`
	CPUAvg        *float64  `json:"cpu_avg"`
	RAMAvg        *float64  `json:"ram_avg"`
}

// seriesAnswer is a history series: the span, and the steps that have data.
type seriesAnswer[P any] struct {
	ok
	PCID   int64     `json:"pc_id,omitempty"`
	Room   string    `json:"room,omitempty"`
	PCs    int       `json:"pcs,omitempty"` // the room's PCs now
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Step   int       `json:"step"` // seconds
	Points []P       `json:"points"`
}

// pcMetrics is GET /api/admin/pc/:id/metrics.
func (s *Server) pcMetrics(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	sp, err := historySpan(c, time.Now())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.store.PCByID(ctx, id); err != nil {
		return err
	}
	pts, err := s.store.PCHistory(ctx, id, sp)
	if err != nil {
		return err
	}
	out := make([]pcPointJSON, len(pts))
	for i, p := range pts {
		out[i] = pcPointJSON{ts(p.At), p.Samples, p.OnlineSeconds, p.CPUAvg, p.CPUMax, p.RAMAvg, p.RAMMax, p.InUseMinutes, p.User}
	}
	if c.QueryParam("format") == "csv" {
		return writeSeriesCSV(c, fmt.Sprintf("wcms-pc-%d", id), []string{"at", "samples", "online_seconds", "cpu_avg", "cpu_max",
			"ram_avg", "ram_max", "in_use_minutes", "user"}, out, func(p pcPointJSON) []string {
			return []string{csvTime(&p.At), strconv.Itoa(p.Samples), strconv.Itoa(p.OnlineSeconds), csvFloat(p.CPUAvg),
				csvFloat(p.CPUMax), csvFloat(p.RAMAvg), csvFloat(p.RAMMax), strconv.Itoa(p.InUseMinutes), p.User}
		})
	}
	return c.JSON(http.StatusOK, seriesAnswer[pcPointJSON]{ok: success, PCID: id, From: ts(sp.From), To: ts(sp.To),
		Step: int(sp.Step / time.Second), Points: out})
}

// roomMetrics is GET /api/admin/room/:name/metrics: the PCs placed in the room now.
func (s *Server) roomMetrics(c echo.Context) error {
	room := c.Param("name")
	sp, err := historySpan(c, time.Now())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pcs, err := s.roomPCs(ctx, room)
	if err != nil {
		return err
	}
	ids := make([]int64, len(pcs))
	for i, p := range pcs {
		ids[i] = p.ID
	}
	pts, err := s.store.RoomHistory(ctx, ids, sp)
	if err != nil {
		return err
	}
	out := make([]roomPointJSON, len(pts))
	for i, p := range pts {
		out[i] = roomPointJSON{ts(p.At), p.PCsOnline, p.PCsInUse, p.OnlineSeconds, p.CPUAvg, p.RAMAvg}
	}
	if c.QueryParam("format") == "csv" {
		return writeSeriesCSV(c, "wcms-room", []string{"at", "pcs_online", "pcs_in_use", "online_seconds", "cpu_avg", "ram_avg"}, out,
			func(p roomPointJSON) []string {
				return []string{csvTime(&p.At), strconv.Itoa(p.PCsOnline), strconv.Itoa(p.PCsInUse), strconv.Itoa(p.OnlineSeconds),
					csvFloat(p.CPUAvg), csvFloat(p.RAMAvg)}
			})
	}
	return c.JSON(http.StatusOK, seriesAnswer[roomPointJSON]{ok: success, Room: room, PCs: len(ids), From: ts(sp.From),
		To: ts(sp.To), Step: int(sp.Step / time.Second), Points: out})
}

// writeSeriesCSV answers a series as a CSV file, cells neutralised against formulas.
func writeSeriesCSV[P any](c echo.Context, name string, header []string, points []P, row func(P) []string) error {
	w := csvAnswer(c, name)
	if w == nil {
		return nil // the client is gone
	}
	_ = w.Write(header)
	for _, p := range points {
		_ = w.Write(neutralise(row(p)))
	}
	w.Flush()
	return nil
}

// csvFloat is a figure as CSV writes it, "" for none.
func csvFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// pcChart is the PC page's history chart over the range named (an hour by default).
func (s *Server) pcChart(ctx context.Context, id int64, rangeName string) (views.PCChart, error) {
	r := views.ChartRangeNamed(rangeName)
	sp := r.SpanEnding(time.Now())
	pts, err := s.store.PCHistory(ctx, id, sp)
	return views.PCChart{PCID: id, Range: r, Span: sp, Points: pts}, err
}

// pcChartPage is the chart alone, for the range tabs; without htmx, the PC's page at that range.
func (s *Server) pcChartPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/pc/"+strconv.FormatInt(id, 10)+"?range="+url.QueryEscape(c.QueryParam("range")))
	}
	ctx := c.Request().Context()
	if _, err := s.store.PCByID(ctx, id); err != nil {
		return err
	}
	ch, err := s.pcChart(ctx, id, c.QueryParam("range"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.PCChartSection(ch))
}

// roomChartPage is a room's day chart alone, for its refresh every minute.
func (s *Server) roomChartPage(c echo.Context) error {
	ctx := c.Request().Context()
	room := c.QueryParam("room")
	pcs, err := s.roomPCs(ctx, room)
	if err != nil {
		return err
	}
	ch, err := s.roomDay(ctx, room, pcs)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.RoomChartSection(*ch))
}

// roomDays keeps each room's day chart until the next minute, when new history is written: at
// a day's end the query reads 72,000 minutes for a room of 50 PCs (BenchmarkRoomDay), for every
// view of the room page. Only rooms that exist get here (roomPage answers 404 first), so it
// holds one entry per room at most.
type roomDays struct {
	mu sync.Mutex
	m  map[string]roomDayEntry
}

// minuteWritten is how long after a minute's end its history is surely written (a minute of
// 10,000 PCs takes 56 ms, BenchmarkSaveMinutes).
const minuteWritten = 5 * time.Second

type roomDayEntry struct {
	until time.Time // a little after the next minute's end
	pcs   string    // the room's PCs the chart counts
	chart *views.RoomChart
}

// roomDay is a room's day so far, in the server's time zone, by 10 minutes.
func (s *Server) roomDay(ctx context.Context, room string, pcs []models.PCView) (*views.RoomChart, error) {
	now := time.Now()
	ids := make([]int64, len(pcs))
	var key strings.Builder
	for i, p := range pcs {
		ids[i] = p.ID
		key.WriteString(strconv.FormatInt(p.ID, 10) + ",")
	}
	s.roomDays.mu.Lock()
	e, ok := s.roomDays.m[room]
	s.roomDays.mu.Unlock()
	if ok && now.Before(e.until) && e.pcs == key.String() {
		return e.chart, nil
	}
	y, m, d := now.Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	sp := models.Span{From: from, To: from.AddDate(0, 0, 1), Step: 10 * time.Minute}
	pts, err := s.store.RoomHistory(ctx, ids, sp)
	if err != nil {
		return nil, err
	}
	chart := &views.RoomChart{Room: room, PCs: len(pcs), Span: sp, Points: pts}
	s.roomDays.mu.Lock()
	if s.roomDays.m == nil {
		s.roomDays.m = map[string]roomDayEntry{}
	}
	s.roomDays.m[room] = roomDayEntry{until: now.Truncate(time.Minute).Add(time.Minute + minuteWritten), pcs: key.String(), chart: chart}
	s.roomDays.mu.Unlock()
	return chart, nil
}
