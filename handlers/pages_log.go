package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/timetable"
	"github.com/wcms-lab/wcms/views"
)

const (
	// logPageSize is how many entries one page of the event log shows.
	logPageSize = 50
	// exportBatch is how many rows a CSV export reads at a time, so its memory stays bounded
	// however long the log.
	exportBatch = 1000
)

// logBadRequest is a 400 for a bad filter of the event log, which quotes the value: the address
// may come from a bookmark or a colleague.
func logBadRequest(ko, en string, value string) error {
	return badRequest(codeInvalidField, ko+": %q", en+": %q", value)
}

// logRequest is what the address asks of the event log.
type logRequest struct {
	tab    string
	filter views.LogFilter // as the address has it, for the page's links
	query  models.LogQuery // as the store takes it
	rooms  []views.LogRoom // every room, for the room filter
}

// readLogRequest reads the event log's tab and filters (?tab, pc, by, room, from, to, before)
// from the address; the page and its export take the same.
func (s *Server) readLogRequest(c echo.Context) (logRequest, error) {
	var q models.LogQuery
	tab := c.QueryParam("tab")
	switch tab {
	case "":
		tab = views.LogOutages
	case views.LogOutages, views.LogCommands, views.LogEvents, views.LogActions, views.LogRuns:
	default:
		return logRequest{}, logBadRequest("기록 종류는 outages, commands, registrations, room-actions, timetable 중 하나입니다",
			"tab must be outages, commands, registrations, room-actions or timetable", tab)
	}
	f := views.LogFilter{Hostname: strings.TrimSpace(c.QueryParam("pc")), CreatedBy: strings.TrimSpace(c.QueryParam("by")),
		Room: c.QueryParam("room"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	q.Hostname = f.Hostname
	if tab != views.LogOutages {
		q.CreatedBy = f.CreatedBy
	}
	var err error
	if q.From, err = logDay(f.From, "시작 날짜", "from"); err != nil {
		return logRequest{}, err
	}
	if q.To, err = logDay(f.To, "끝 날짜", "to"); err != nil {
		return logRequest{}, err
	}
	if !q.To.IsZero() {
		if q.To.Before(q.From) {
			return logRequest{}, logBadRequest("끝 날짜가 시작 날짜보다 앞섭니다", "to is before from", f.To)
		}
		q.To = q.To.AddDate(0, 0, 1) // the whole of the last day
	}
	rows, err := s.store.ListRooms(c.Request().Context())
	if err != nil {
		return logRequest{}, err
	}
	rooms := make([]views.LogRoom, len(rows))
	for i, r := range rows {
		rooms[i] = views.LogRoom{ID: r.ID, Name: r.Name}
		if f.Room == strconv.FormatInt(r.ID, 10) {
			q.RoomID = r.ID
		}
	}
	switch {
	case f.Room == views.LogNoRoom:
		q.RoomID = models.NoRoom
	case f.Room != "" && q.RoomID == 0:
		return logRequest{}, logBadRequest("없는 강의실입니다", "no such room", f.Room)
	}
	if before := c.QueryParam("before"); before != "" {
		q.Before, err = strconv.ParseInt(before, 10, 64)
		if err != nil || q.Before <= 0 {
			return logRequest{}, logBadRequest("페이지 위치(before)는 양의 정수여야 합니다", "before must be a positive integer", before)
		}
	}
	return logRequest{tab: tab, filter: f, query: q, rooms: rooms}, nil
}

// logDay is the start of day (YYYY-MM-DD) in the server's time zone; zero for "". ko and en
// name the field in the error.
func logDay(day, ko, en string) (time.Time, error) {
	if day == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, day, time.Local)
	if err != nil {
		return t, logBadRequest(ko+"는 YYYY-MM-DD 형식이어야 합니다", en+" must be a date YYYY-MM-DD", day)
	}
	return t, nil
}

// logPage shows the event log: ?tab=outages (default), commands or registrations, filtered, a page at a time
// from ?before= (an entry id).
func (s *Server) logPage(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := s.readLogRequest(c)
	if err != nil {
		return err
	}
	tab, f, q := r.tab, r.filter, r.query
	q.Limit = logPageSize
	v := views.LogView{Page: s.page(c, views.T(ctx, "기록", "Event log"), "log"), Tab: tab, Filter: f, Rooms: r.rooms}
	var oldest int64 // the id the next page starts before; 0 when there is none
	switch tab {
	case views.LogCommands:
		sends, more, err := s.store.CommandSends(ctx, q)
		if err != nil {
			return err
		}
		for _, send := range sends {
			vs := views.CommandSend{Room: send[0].RoomName}
			for i := range send {
				vs.Commands = append(vs.Commands, commandView(&send[i].Command, send[i].Hostname))
				if send[i].RoomName != vs.Room {
					vs.Room = ""
				}
			}
			v.Sends = append(v.Sends, vs)
		}
		if more {
			last := sends[len(sends)-1]
			oldest = last[len(last)-1].ID
		}
	case views.LogEvents:
		q.Limit++ // one more tells whether an older page exists
		events, err := s.store.PCEventLog(ctx, q)
		if err != nil {
			return err
		}
		events, oldest = onePage(events, func(e models.PCEvent) int64 { return e.ID })
		for _, e := range events {
			v.Events = append(v.Events, views.EventRow{Kind: e.Kind, PCID: e.PCID, Hostname: e.Hostname,
				MachineID: e.MachineID, IP: e.IPAddress, By: e.By, Detail: e.Detail, At: e.CreatedAt})
		}
	case views.LogActions:
		q.Limit++
		as, err := s.store.RoomActionLog(ctx, q)
		if err != nil {
			return err
		}
		as, oldest = onePage(as, func(a models.RoomAction) int64 { return a.ID })
		now := time.Now()
		for _, a := range as {
			v.Actions = append(v.Actions, views.LoggedAction{RoomAction: s.roomActionView(a, now), Room: a.RoomName, CreatedAt: a.CreatedAt})
		}
	case views.LogRuns:
		q.Limit++
		rs, err := s.store.TimetableRunLog(ctx, q)
		if err != nil {
			return err
		}
		rs, oldest = onePage(rs, func(r models.TimetableRun) int64 { return r.ID })
		for _, r := range rs {
			lr, err := loggedRun(r)
			if err != nil {
				return err
			}
			v.Runs = append(v.Runs, lr)
		}
	default:
		q.Limit++
		outages, err := s.store.OutageLog(ctx, q)
		if err != nil {
			return err
		}
		outages, oldest = onePage(outages, func(o models.OutageEntry) int64 { return o.ID })
		now := time.Now()
		for _, o := range outages {
			v.Outages = append(v.Outages, outageRow(o, now))
		}
	}
	if oldest != 0 {
		v.Older = views.LogURL(tab, f, oldest)
	}
	if q.Before != 0 {
		v.Newest = views.LogURL(tab, f, 0)
	}
	return s.renderPage(c, views.LogPage(v), views.LogBody(v))
}

// onePage keeps one page of rows read with one more than a page, and says where the next page
// starts: the id of its last row, 0 when nothing older was read.
func onePage[T any](rows []T, idOf func(T) int64) ([]T, int64) {
	if len(rows) <= logPageSize {
		return rows, 0
	}
	return rows[:logPageSize], idOf(rows[logPageSize-1])
}

func outageRow(o models.OutageEntry, now time.Time) views.OutageRow {
	row := views.OutageRow{PCID: o.PCID, Hostname: o.Hostname, Start: o.StartedAt, End: o.EndedAt,
		Duration: now.Sub(o.StartedAt), Reason: o.Reason}
	if o.DurationSeconds != nil {
		row.Duration = time.Duration(*o.DurationSeconds) * time.Second
	}
	return row
}

// exportBatchFunc reads the batch of the log older than id before (0: the newest) as CSV
// records, and the id of its oldest entry.
type exportBatchFunc func(before int64) (records [][]string, oldest int64, err error)

// exportLog sends the event log's tab, with the page's filters, as a CSV file. It is read a
// batch at a time and written as it goes, so a long log costs neither memory nor a timeout.
func (s *Server) exportLog(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := s.readLogRequest(c)
	if err != nil {
		return err
	}
	tab, q := r.tab, r.query
	q.Limit = exportBatch
	var header []string
	var read exportBatchFunc
	switch tab {
	case views.LogCommands:
		header = []string{"id", "created_at", "created_by", "pc_id", "hostname", "room", "type", "parameters",
			"status", "exit_code", "error_message", "output", "completed_at"}
		read = batches(ctx, q, s.store.CommandLog, func(r models.CommandEntry) (int64, []string) {
			exit := ""
			if r.ExitCode != nil {
				exit = strconv.Itoa(*r.ExitCode)
			}
			return r.ID, []string{id(r.ID), csvTime(&r.CreatedAt), r.CreatedBy, id(r.PCID), r.Hostname,
				r.RoomName, r.Type, views.ParamsText(ctx, r.Type, models.StripSecrets(r.Parameters)),
				r.Status, exit, r.ErrorMessage, r.Output, csvTime(r.CompletedAt)}
		})
	case views.LogEvents:
		header = []string{"id", "created_at", "kind", "pc_id", "hostname", "machine_id", "ip_address", "by", "detail"}
		read = batches(ctx, q, s.store.PCEventLog, func(r models.PCEvent) (int64, []string) {
			return r.ID, []string{id(r.ID), csvTime(&r.CreatedAt), r.Kind, id(r.PCID), r.Hostname, r.MachineID, r.IPAddress, r.By, r.Detail}
		})
	case views.LogActions:
		header = []string{"id", "created_at", "created_by", "room", "type", "state", "send_at", "ended_at", "ended_by", "sent_count"}
		read = batches(ctx, q, s.store.RoomActionLog, func(r models.RoomAction) (int64, []string) {
			return r.ID, []string{id(r.ID), csvTime(&r.CreatedAt), r.CreatedBy, r.RoomName, r.Type, r.State,
				csvTime(&r.SendAt), csvTime(r.EndedAt), r.EndedBy, strconv.Itoa(r.SentCount)}
		})
	case views.LogRuns:
		// The outcomes as stored: a JSON list of {pc_id, hostname, outcome, user}.
		header = []string{"id", "ran_at", "planned_at", "room", "step", "outcomes"}
		read = batches(ctx, q, s.store.TimetableRunLog, func(r models.TimetableRun) (int64, []string) {
			return r.ID, []string{id(r.ID), csvTime(&r.RanAt), csvTime(&r.PlannedAt), r.RoomName, r.StepKey, r.Outcomes}
		})
	default:
		header = []string{"id", "pc_id", "hostname", "started_at", "ended_at", "duration_seconds", "reason"}
		read = batches(ctx, q, s.store.OutageLog, func(r models.OutageEntry) (int64, []string) {
			secs := ""
			if r.DurationSeconds != nil {
				secs = strconv.FormatInt(*r.DurationSeconds, 10)
			}
			return r.ID, []string{id(r.ID), id(r.PCID), r.Hostname, csvTime(&r.StartedAt), csvTime(r.EndedAt), secs, r.Reason}
		})
	}
	return s.writeCSV(c, tab, header, read)
}

// batches reads a log for export a batch at a time: list reads q's entries older than the
// batch before, record gives an entry's id and CSV record.
func batches[T any](ctx context.Context, q models.LogQuery, list func(context.Context, models.LogQuery) ([]T, error),
	record func(T) (int64, []string)) exportBatchFunc {
	return func(before int64) ([][]string, int64, error) {
		q.Before = before
		rows, err := list(ctx, q)
		records := make([][]string, len(rows))
		var oldest int64
		for i, r := range rows {
			oldest, records[i] = record(r)
		}
		return records, oldest, err
	}
}

// writeCSV writes the header and the batches read until none is left or the cap is reached.
func (s *Server) writeCSV(c echo.Context, tab string, header []string, read exportBatchFunc) error {
	records, oldest, err := read(0)
	if err != nil {
		return err // nothing sent yet: a clean error page
	}
	w := csvAnswer(c, fmt.Sprintf("wcms-log-%s-%s", tab, time.Now().Format(time.DateOnly)))
	if w == nil {
		return nil // the client is gone
	}
	_ = w.Write(header)
	written := 0
	for len(records) > 0 {
		for _, r := range records {
			if written == s.cfg.MaxExportRows {
				_ = w.Write([]string{fmt.Sprintf("# %d행까지만 내보냈습니다. 필터로 범위를 좁히세요. · Cut at %d rows: narrow the filters.",
					written, written)})
				w.Flush()
				return nil
			}
			_ = w.Write(neutralise(r))
			written++
		}
		w.Flush()
		if w.Error() != nil {
			return nil // the client is gone
		}
		if records, oldest, err = read(oldest); err != nil {
			// The status is sent: the file ends short, and the log says why.
			s.log.Error("log export", "tab", tab, "rows", written, "err", err)
			return nil
		}
	}
	w.Flush()
	return nil
}

// csvAnswer starts answering a CSV file named name.csv and returns its writer; nil when the
// client is gone. The byte order mark makes Excel read the file as UTF-8, so Hangul shows as
// written.
func csvAnswer(c echo.Context, name string) *csv.Writer {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, "attachment; filename="+name+".csv")
	res.WriteHeader(http.StatusOK)
	if _, err := res.Write([]byte("\uFEFF")); err != nil {
		return nil
	}
	return csv.NewWriter(res)
}

// neutralise keeps a spreadsheet from running a cell as a formula: hostnames and outputs come
// from PCs that students use, so a cell may start with =, +, -, @, a tab or a carriage return.
func neutralise(record []string) []string {
	for i, cell := range record {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			record[i] = "'" + cell
		}
	}
	return record
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// csvTime is a time in RFC 3339, "" for none.
func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// loggedRun is a stored timetable run as the log shows it, a retry's number read back from its
// key (timetable.ParseKey); whether a final step forced shows in its PCs' outcomes.
func loggedRun(r models.TimetableRun) (views.LoggedRun, error) {
	var outcomes []models.StepOutcome
	if err := json.Unmarshal([]byte(r.Outcomes), &outcomes); err != nil {
		return views.LoggedRun{}, fmt.Errorf("timetable run %d: %w", r.ID, err)
	}
	st, err := timetable.ParseKey(r.StepKey)
	if err != nil {
		return views.LoggedRun{}, fmt.Errorf("timetable run %d: %w", r.ID, err)
	}
	lr := views.LoggedRun{ID: r.ID, Room: r.RoomName, RanAt: r.RanAt, Step: views.PlanStep{At: r.PlannedAt, Kind: st.Kind, N: st.N}}
	for _, o := range outcomes {
		lr.PCs = append(lr.PCs, views.RunPC{Hostname: o.Hostname, Outcome: o.Outcome, User: o.User})
	}
	return lr, nil
}
