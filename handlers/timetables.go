package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/timetable"
	"github.com/wcms-lab/wcms/views"
	"github.com/wcms-lab/wcms/wire"
)

// Room timetables (fleet/timetables.go) on the pages and in the admin API: a room's weekly
// entries and the dates that change them, and what the plan will do in the next day, PC by PC.

// previewSpan is how far the preview looks: tonight, and tomorrow morning's wake.
const previewSpan = 24 * time.Hour

// entryRequest is a timetable entry as the API and the form send it.
type entryRequest struct {
	Days         string `json:"days"`   // "mon-fri", timetable.ParseWeekdays
	Action       string `json:"action"` // wake or shutdown
	At           string `json:"at"`     // "22:00"
	WarnMinutes  int    `json:"warn_minutes"`
	Message      string `json:"message"`
	RetryMinutes int    `json:"retry_minutes"`
	FinalAt      string `json:"final_at"` // "23:30"; "" no retries
	Force        bool   `json:"force"`
}

// timetableError is a timetable check's "한국어 / English" error as an answer.
func timetableError(err error) error {
	ko, en, ok := strings.Cut(err.Error(), " / ")
	if !ok {
		ko, en = err.Error(), err.Error()
	}
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidField, Korean: ko, Message: en}
}

// entry checks the request and returns the entry to store for roomID.
func (r entryRequest) entry(roomID int64, by string) (*models.TimetableEntry, error) {
	days, err := timetable.ParseWeekdays(r.Days)
	if err != nil {
		return nil, timetableError(err)
	}
	at, err := timetable.ParseClock(r.At)
	if err != nil {
		return nil, timetableError(err)
	}
	final := at
	if r.FinalAt != "" {
		if final, err = timetable.ParseClock(r.FinalAt); err != nil {
			return nil, timetableError(err)
		}
	}
	e := timetable.Entry{Days: days, Action: r.Action, At: at, WarnBefore: time.Duration(r.WarnMinutes) * time.Minute,
		RetryEvery: time.Duration(r.RetryMinutes) * time.Minute, FinalAt: final, Force: r.Force}
	if err := e.Check(); err != nil {
		return nil, timetableError(err)
	}
	if r.Message != "" {
		if r.Action != timetable.Shutdown || r.WarnMinutes == 0 {
			return nil, badRequest(codeInvalidField, "경고 메시지는 경고 시간이 있는 종료 항목에만 씁니다",
				"a message goes with a shutdown entry that warns (warn_minutes)")
		}
		// The warning goes out as a message command: the catalogue bounds its text.
		if _, err := command.Validate(wire.TypeMessage, map[string]any{"message": r.Message}); err != nil {
			return nil, paramError(err)
		}
	}
	return &models.TimetableEntry{RoomID: roomID, Days: int(days), Action: r.Action, AtMinute: int(at),
		WarnMinutes: r.WarnMinutes, Message: r.Message, RetryMinutes: r.RetryMinutes, FinalMinute: int(final),
		Force: r.Force, CreatedBy: by}, nil
}

// exceptionRequest is a date that changes the plan, as the API and the form send it.
type exceptionRequest struct {
	Date     string `json:"date"` // 2026-12-25
	Skip     string `json:"skip"` // all, shutdown or wake
	Note     string `json:"note"`
	AllRooms bool   `json:"all_rooms"`
}

// exception checks the request and returns the exception to store for roomID.
func (r exceptionRequest) exception(roomID int64, by string) (*models.TimetableException, error) {
	if err := (timetable.Exception{Date: r.Date, Skip: r.Skip, Note: r.Note}).Check(); err != nil {
		return nil, timetableError(err)
	}
	x := &models.TimetableException{Day: r.Date, Skip: r.Skip, Note: r.Note, CreatedBy: by}
	if !r.AllRooms {
		x.RoomID = &roomID
	}
	return x, nil
}

// timetableRoom is the room named by the path (API) or the query (pages); an unknown one is a 404.
func (s *Server) timetableRoom(c echo.Context) (*models.Room, error) {
	name := c.Param("name")
	if name == "" {
		name = c.QueryParam("room")
	}
	if name == "" {
		return nil, badRequest(codeMissingField, "강의실을 고르세요", "room is required")
	}
	r, err := s.store.RoomByName(c.Request().Context(), name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", name)
	}
	return r, err
}

// addEntry stores a checked entry and logs it.
func (s *Server) addEntry(c echo.Context, room *models.Room, req entryRequest) error {
	e, err := req.entry(room.ID, currentAdmin(c).Username)
	if err != nil {
		return err
	}
	if err := s.store.AddTimetableEntry(c.Request().Context(), e, time.Now()); err != nil {
		return err
	}
	s.log.Info("timetable entry added", "room", room.Name, "entry_id", e.ID, "action", e.Action, "days", req.Days,
		"at", req.At, "by", e.CreatedBy)
	return nil
}

// addException stores a checked exception and logs it.
func (s *Server) addException(c echo.Context, room *models.Room, req exceptionRequest) error {
	x, err := req.exception(room.ID, currentAdmin(c).Username)
	if err != nil {
		return err
	}
	if err := s.store.AddTimetableException(c.Request().Context(), x, time.Now()); err != nil {
		return err
	}
	s.log.Info("timetable exception added", "room", room.Name, "exception_id", x.ID, "date", x.Day, "skip", x.Skip,
		"all_rooms", x.RoomID == nil, "by", x.CreatedBy)
	return nil
}

// timetableView is a room's timetable and its preview from now, in the timetable's zone; the
// preview's steps too, for the API.
func (s *Server) timetableView(ctx context.Context, room *models.Room) (views.Timetable, []fleet.PlannedStep, error) {
	loc := s.fleet.Location()
	v := views.Timetable{Room: room.Name, Zone: loc.String(), Now: time.Now().In(loc)}
	es, err := s.store.TimetableEntries(ctx, room.ID)
	if err != nil {
		return v, nil, err
	}
	for _, e := range es {
		v.Entries = append(v.Entries, views.TimetableEntry{ID: e.ID, Days: timetable.Weekdays(e.Days).String(),
			Action: e.Action, At: timetable.Clock(e.AtMinute).String(), WarnMinutes: e.WarnMinutes, Message: e.Message,
			RetryMinutes: e.RetryMinutes, FinalAt: timetable.Clock(e.FinalMinute).String(), Force: e.Force})
	}
	xs, err := s.store.TimetableExceptions(ctx, room.ID)
	if err != nil {
		return v, nil, err
	}
	for _, x := range xs {
		v.Exceptions = append(v.Exceptions, views.TimetableException{ID: x.ID, Date: x.Day, Skip: x.Skip, Note: x.Note,
			AllRooms: x.RoomID == nil})
	}
	steps := s.fleet.TimetablePreview(room.Name, es, xs, v.Now, v.Now.Add(previewSpan))
	v.Steps, v.PCs = previewRows(steps, loc)
	return v, steps, nil
}

// previewRows shapes the planned steps for the page: the steps, and what they do to each PC, a
// run of the same outcome in consecutive steps as one item, and PCs whose plans are the same in
// one row (a room that is off is one row, not 48).
func previewRows(steps []fleet.PlannedStep, loc *time.Location) ([]views.PlanStep, []views.PCPlan) {
	var out []views.PlanStep
	var pcs []views.PCPlan
	index := map[int64]int{}
	for _, ps := range steps {
		at := ps.Step.At.In(loc)
		out = append(out, views.PlanStep{At: at, Kind: ps.Step.Kind, N: ps.Step.N, Force: ps.Step.Force})
		for _, o := range ps.Outcomes {
			k, ok := index[o.PCID]
			if !ok {
				k = len(pcs)
				index[o.PCID] = k
				pcs = append(pcs, views.PCPlan{Hostnames: []string{o.Hostname}})
			}
			items := pcs[k].Items
			if n := len(items); n > 0 && items[n-1].Outcome == o.Outcome && items[n-1].User == o.User {
				items[n-1].To, items[n-1].Count = at, items[n-1].Count+1
				continue
			}
			pcs[k].Items = append(items, views.PlanItem{From: at, To: at, Outcome: o.Outcome, User: o.User, Count: 1})
		}
	}
	var rows []views.PCPlan
	row := map[string]int{}
	for _, p := range pcs {
		var key strings.Builder
		for _, it := range p.Items {
			fmt.Fprintf(&key, "%s|%s|%d|%d|%d;", it.Outcome, it.User, it.From.Unix(), it.To.Unix(), it.Count)
		}
		if k, ok := row[key.String()]; ok {
			rows[k].Hostnames = append(rows[k].Hostnames, p.Hostnames...)
			continue
		}
		row[key.String()] = len(rows)
		rows = append(rows, p)
	}
	return out, rows
}

// timetablePage shows a room's timetable, the preview of the next day and, to operators, the
// forms that change it.
func (s *Server) timetablePage(c echo.Context) error {
	room, err := s.timetableRoom(c)
	if err != nil {
		return err
	}
	return s.renderTimetable(c, room)
}

// renderTimetable answers the timetable page, or its panel to an htmx request that changed it.
func (s *Server) renderTimetable(c echo.Context, room *models.Room) error {
	v, _, err := s.timetableView(c.Request().Context(), room)
	if err != nil {
		return err
	}
	v.Page = s.page(c, views.T(c.Request().Context(), "시간표 · ", "Timetable · ")+room.Name, "rooms")
	return s.renderPage(c, views.TimetablePage(v), views.PanelUpdate(views.TimetablePanel(v)))
}

// changedTimetable answers a change made from the page: the panel to htmx, else the page.
func (s *Server) changedTimetable(c echo.Context, room *models.Room) error {
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/timetable?room="+url.QueryEscape(room.Name))
	}
	return s.renderTimetable(c, room)
}

// entryForm is the entry the page's form asks for: days as boxes, numbers as text.
func entryForm(form url.Values) (entryRequest, error) {
	req := entryRequest{Days: strings.Join(form["days"], ","), Action: form.Get("action"), At: form.Get("at"),
		Message: form.Get("message"), FinalAt: form.Get("final_at"), Force: form.Get("force") != ""}
	for name, dst := range map[string]*int{"warn_minutes": &req.WarnMinutes, "retry_minutes": &req.RetryMinutes} {
		n, err := formInt(form, name)
		if err != nil {
			return req, err
		}
		if n != nil {
			*dst = *n
		}
	}
	return req, nil
}

// exceptionForm is the exception the page's form asks for.
func exceptionForm(form url.Values) (exceptionRequest, error) {
	return exceptionRequest{Date: form.Get("date"), Skip: form.Get("skip"), Note: form.Get("note"),
		AllRooms: form.Get("all_rooms") != ""}, nil
}

// stepJSON is a planned step with what it would do to each PC.
type stepJSON struct {
	At       time.Time            `json:"at"`
	Kind     string               `json:"kind"`
	N        int                  `json:"n,omitempty"`
	Force    bool                 `json:"force,omitempty"`
	Outcomes []models.StepOutcome `json:"outcomes"`
}

// timetableAnswer is a room's timetable, and what it will do in the next day.
type timetableAnswer struct {
	ok
	Room       string                     `json:"room"`
	TimeZone   string                     `json:"time_zone"`
	Entries    []views.TimetableEntry     `json:"entries"`
	Exceptions []views.TimetableException `json:"exceptions"`
	Preview    []stepJSON                 `json:"preview"`
}

// getTimetable answers a room's timetable with the preview of the next day.
func (s *Server) getTimetable(c echo.Context) error {
	room, err := s.timetableRoom(c)
	if err != nil {
		return err
	}
	v, steps, err := s.timetableView(c.Request().Context(), room)
	if err != nil {
		return err
	}
	a := timetableAnswer{ok: success, Room: room.Name, TimeZone: v.Zone, Entries: nonNil(v.Entries),
		Exceptions: nonNil(v.Exceptions), Preview: []stepJSON{}}
	for _, ps := range steps {
		a.Preview = append(a.Preview, stepJSON{At: ts(ps.Step.At), Kind: ps.Step.Kind, N: ps.Step.N, Force: ps.Step.Force,
			Outcomes: nonNil(ps.Outcomes)})
	}
	return c.JSON(http.StatusOK, a)
}

// timetableChange does something to a room's timetable for the request c (an entry or exception
// added or deleted), or answers it.
type timetableChange func(c echo.Context, room *models.Room) error

// The routes that change a room's timetable: the API's (the path's room), the page's (the
// query's room).
func (s *Server) addEntryAPI(c echo.Context) error { return s.changeAPI(c, fromJSON(s.addEntry)) }
func (s *Server) addExceptionAPI(c echo.Context) error {
	return s.changeAPI(c, fromJSON(s.addException))
}
func (s *Server) deleteEntryAPI(c echo.Context) error {
	return s.changeAPI(c, s.deleting("entry", s.store.DeleteTimetableEntry))
}
func (s *Server) deleteExceptionAPI(c echo.Context) error {
	return s.changeAPI(c, s.deleting("exception", s.store.DeleteTimetableException))
}
func (s *Server) addEntryPage(c echo.Context) error {
	return s.changePage(c, fromForm(entryForm, s.addEntry))
}
func (s *Server) addExceptionPage(c echo.Context) error {
	return s.changePage(c, fromForm(exceptionForm, s.addException))
}
func (s *Server) deleteEntryPage(c echo.Context) error {
	return s.changePage(c, s.deleting("entry", s.store.DeleteTimetableEntry))
}
func (s *Server) deleteExceptionPage(c echo.Context) error {
	return s.changePage(c, s.deleting("exception", s.store.DeleteTimetableException))
}

// changeAPI makes change to the path's room and answers {status}.
func (s *Server) changeAPI(c echo.Context, change timetableChange) error {
	return s.changeTimetable(c, change, func(c echo.Context, _ *models.Room) error { return c.JSON(http.StatusOK, success) })
}

// changePage makes change to the query's room and answers the page's panel.
func (s *Server) changePage(c echo.Context, change timetableChange) error {
	return s.changeTimetable(c, change, s.changedTimetable)
}

// changeTimetable makes change to the request's room, then answers with answer.
func (s *Server) changeTimetable(c echo.Context, change, answer timetableChange) error {
	room, err := s.timetableRoom(c)
	if err == nil {
		err = change(c, room)
	}
	if err != nil {
		return err
	}
	return answer(c, room)
}

// fromJSON is the change add makes with the request of type R the body holds.
func fromJSON[R any](add func(echo.Context, *models.Room, R) error) timetableChange {
	return func(c echo.Context, room *models.Room) error {
		var req R
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		return add(c, room, req)
	}
}

// fromForm is the change add makes with the request of type R read from the page's form.
func fromForm[R any](read func(url.Values) (R, error), add func(echo.Context, *models.Room, R) error) timetableChange {
	return func(c echo.Context, room *models.Room) error {
		form, err := readForm(c)
		if err != nil {
			return err
		}
		req, err := read(form)
		if err != nil {
			return err
		}
		return add(c, room, req)
	}
}

// deleting is the change that deletes the room's entry or exception (what) of the path's id
// with del (models.Store's).
func (s *Server) deleting(what string, del func(ctx context.Context, roomID, id int64) error) timetableChange {
	return func(c echo.Context, room *models.Room) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := del(c.Request().Context(), room.ID, id); err != nil {
			return err
		}
		s.log.Info("timetable "+what+" deleted", "room", room.Name, "id", id, "by", currentAdmin(c).Username)
		return nil
	}
}
