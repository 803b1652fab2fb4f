package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/handlers/live"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
	"github.com/wcms-lab/wcms/wire"
)

// pageHistory is how many commands and outages a PC's page lists.
const pageHistory = 50

// pcPage shows one PC: specs, disks, live state, processes, commands and outages.
func (s *Server) pcPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, pc, err := s.pcDetail(ctx, id)
	if err != nil {
		return err
	}
	procs, err := processNames(d.State)
	if err != nil {
		return err
	}
	cmds, err := s.store.PCCommands(ctx, id, pageHistory)
	if err != nil {
		return err
	}
	outages, err := s.store.Outages(ctx, id, pageHistory)
	if err != nil {
		return err
	}
	v := views.PCDetail{Page: s.page(c, d.Hostname, "rooms"), Tile: live.TileOf(&pc), MachineID: d.MachineID,
		MAC: pc.MACAddress, CPUModel: d.CPUModel, CPUCores: d.CPUCores, CPUThreads: d.CPUThreads,
		RAMTotal: d.RAMTotal, RAMUsed: d.State.RAMUsed, OSEdition: d.OSEdition, OSVersion: d.OSVersion,
		SeatRow: pc.SeatRow, SeatCol: pc.SeatCol, Uptime: d.State.Uptime, Processes: countProcesses(procs),
		ProcessesAt: d.State.FullAt}
	if d.RoomName != nil {
		v.Room = *d.RoomName
	}
	for _, k := range d.Disks {
		v.Disks = append(v.Disks, views.PCDisk{Mount: k.Mount, FSType: k.FSType, TotalGB: k.TotalGB, UsedGB: k.UsedGB, Percent: k.Percent})
	}
	for i := range cmds {
		v.Commands = append(v.Commands, commandView(&cmds[i], d.Hostname))
	}
	for _, o := range outages {
		v.Outages = append(v.Outages, views.PCOutage{Start: o.StartedAt, End: o.EndedAt, Duration: o.DurationSeconds, Reason: o.Reason})
	}
	if v.Chart, err = s.pcChart(ctx, id, c.QueryParam("range")); err != nil {
		return err
	}
	return s.renderPage(c, views.PCDetailPage(v), views.PCDetailBody(v))
}

// processNames are the process names of a PC's last full heartbeat.
func processNames(st models.PCState) ([]string, error) {
	var names []string
	if st.Processes != nil {
		if err := json.Unmarshal([]byte(*st.Processes), &names); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// countProcesses lists each process name once, with how often it runs, by name.
func countProcesses(names []string) []views.PCProcess {
	n := map[string]int{}
	for _, name := range names {
		n[name]++
	}
	out := make([]views.PCProcess, 0, len(n))
	for name, count := range n {
		out = append(out, views.PCProcess{Name: name, Count: count})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		return a < b || (a == b && out[i].Name < out[j].Name)
	})
	return out
}

// deletePCPage deletes a PC and sends the browser home (its page no longer exists).
func (s *Server) deletePCPage(c echo.Context) error {
	if err := s.removePC(c); err != nil {
		return err
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", "/")
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// commandTargets reads whom a command form is for: pc_ids (repeated) or a room, never both.
func commandTargets(form url.Values) (ids []int64, room *string, err error) {
	for _, v := range form["pc_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, nil, badRequest(codeInvalidField, "고른 PC의 번호가 올바르지 않습니다 (%q)", "pc_ids must be PC ids, not %q", v)
		}
		ids = append(ids, id)
	}
	if r := form.Get("room"); r != "" {
		room = &r
	}
	switch {
	case ids != nil && room != nil:
		return nil, nil, badRequest(codeInvalidField, "PC와 강의실 중 하나만 고르세요", "send either pc_ids or room, not both")
	case ids == nil && room == nil:
		return nil, nil, badRequest(codeMissingField, "고른 PC가 없습니다: PC나 강의실을 고르세요", "no PC selected: choose PCs or a room")
	}
	return ids, room, nil
}

// formTargets reads the request's form and the PCs or room it names (commandTargets).
func formTargets(c echo.Context) (form url.Values, ids []int64, room *string, err error) {
	if form, err = readForm(c); err != nil {
		return nil, nil, nil, err
	}
	ids, room, err = commandTargets(form)
	return form, ids, room, err
}

// streamFor is the stream a stand-alone command page listens to: any stream carries every
// command's updates, so the room's, or the first PC's.
func streamFor(ids []int64, room *string) string {
	if room != nil {
		return "/stream?room=" + url.QueryEscape(*room)
	}
	return "/stream?pc=" + strconv.FormatInt(ids[0], 10)
}

// commandFormPage is the command form for the selected PCs or a room (?type= picks the type).
func (s *Server) commandFormPage(c echo.Context) error {
	q := c.QueryParams()
	typ := q.Get("type")
	if typ == "" {
		typ = wire.TypeMessage
	}
	t, ok := command.Lookup(typ)
	if !ok {
		return badRequest(codeInvalidField, "%q은(는) 명령 종류가 아닙니다. 다음 중 하나를 쓰세요: %s",
			"type %q is not a command type; use one of %s", typ, command.Names())
	}
	ids, room, err := commandTargets(q)
	if err != nil {
		return err
	}
	f := views.CommandForm{Type: t.Name}
	ctx := c.Request().Context()
	if room != nil {
		f.Room = *room
		rows, err := s.roomPCs(ctx, *room)
		if err != nil {
			return err
		}
		for _, r := range rows {
			f.PCs = append(f.PCs, views.CommandTarget{ID: r.ID, Hostname: r.Hostname})
		}
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		snap, ok := s.fleet.View(id)
		if !ok {
			return newError(http.StatusNotFound, codeNotFound, "PC %d이(가) 없습니다. 지워졌을 수 있으니 페이지를 새로 고치세요.", "PC %d not found", id)
		}
		if !seen[id] {
			seen[id] = true
			f.PCs = append(f.PCs, views.CommandTarget{ID: id, Hostname: snap.Hostname})
		}
	}
	if t.Name == wire.TypeKillProcess && room == nil && len(f.PCs) == 1 {
		d, err := s.store.PCDetail(ctx, f.PCs[0].ID)
		if err != nil {
			return err
		}
		procs, err := processNames(d.State)
		if err != nil {
			return err
		}
		for _, p := range countProcesses(procs) {
			f.Processes = append(f.Processes, p.Name)
		}
	}
	return s.renderCommandPanel(c, streamFor(ids, room), views.CommandFormPanel(f))
}

// renderCommandPanel answers a command panel: alone to htmx, else as a page of its own.
func (s *Server) renderCommandPanel(c echo.Context, stream string, panel templ.Component) error {
	p := s.page(c, views.T(c.Request().Context(), "명령 보내기", "Send a command"), "rooms")
	return s.renderPage(c, views.CommandsPage(p, stream, panel), panel)
}

// readForm returns the request's form. A NUL cannot be stored in a text column, so it is
// refused here as the JSON decoder refuses it.
func readForm(c echo.Context) (url.Values, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, badRequest(codeInvalidField, "보낸 양식을 읽을 수 없습니다 (%v). 페이지를 새로 고친 뒤 다시 하세요.", "cannot read the form: %v", err)
	}
	for name, vs := range form {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return nil, badRequest(codeInvalidField, "%[2]s에 NUL 문자를 넣을 수 없습니다", "%[1]s must not contain the NUL character", name, fieldKO(name))
			}
		}
	}
	return form, nil
}

// formSpec reads a command from a form into the request the JSON API takes, so both are
// validated by commandSpec.build. The parameter names come from the catalogue; a blank field is
// left out (it then gets its default, or is reported missing), and numbers stay text, which the
// catalogue reads as the agent would.
func formSpec(form url.Values) (commandSpec, error) {
	spec := commandSpec{Type: form.Get("type"), Parameters: map[string]any{}}
	for _, name := range paramNames(spec.Type) {
		if v := form.Get(name); strings.TrimSpace(v) != "" {
			spec.Parameters[name] = v
		}
	}
	var err error
	if spec.Priority, err = formInt(form, "priority"); err != nil {
		return spec, err
	}
	if spec.Timeout, err = formInt(form, "timeout"); err != nil {
		return spec, err
	}
	spec.ExpiresIn, err = formInt(form, "expires_in")
	return spec, err
}

// formInt reads an optional whole number from a form; nil when blank.
func formInt(form url.Values, name string) (*int, error) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, badRequest(codeInvalidField, "%[3]s은(는) 정수여야 합니다 (받은 값 %[2]q)", "%[1]s must be a whole number, not %[2]q", name, v, fieldKO(name))
	}
	return &n, nil
}

// isPower tells whether a command type turns PCs off or restarts them.
func isPower(typ string) bool { return typ == wire.TypeShutdown || typ == wire.TypeRestart }

// sendCommandsPage sends the form's command to its PCs, through the same validation and queue
// as POST /api/admin/commands/bulk, and answers the result matrix. A power command for a whole
// room is scheduled on the server instead, cancellable until the grace period ends
// (room_actions.go); the API's bulk command stays immediate for scripts.
func (s *Server) sendCommandsPage(c echo.Context) error {
	form, ids, room, err := formTargets(c)
	if err != nil {
		return err
	}
	spec, err := formSpec(form)
	if err != nil {
		return err
	}
	cmds, off, err := s.bulkCommands(c, bulkRequest{commandSpec: spec, pcTargets: pcTargets{PCIDs: ids, Room: room}})
	if err != nil {
		return err
	}
	switch {
	case len(cmds) == 0 && len(off) > 0:
		return errAllOff
	case len(cmds) == 0:
		return badRequest(codeInvalidField, "%q 강의실에 PC가 없어 아무것도 보내지 않았습니다", "room %q has no PCs: nothing was sent", *room)
	case room != nil && isPower(cmds[0].Type):
		return s.scheduleRoomPower(c, *room, cmds[0])
	}
	if err := s.enqueue(c, cmds); err != nil {
		return err
	}
	return s.renderResults(c, streamFor(ids, room), cmds, 0, off)
}

// errAllOff: a power command that may not wait, for PCs that are all off (Server.leftOff).
var errAllOff = newError(http.StatusConflict, codeConflict,
	"고른 PC가 모두 꺼져 있어 아무것도 보내지 않았습니다. 먼저 켜거나, '꺼진 PC 기다리기'에서 기다릴 시간을 고르세요.",
	"every PC chosen is off, so nothing was sent: wake them first, or choose how long to wait for PCs that are off")

// paramNames are the parameter names of a command type; none for an unknown one.
func paramNames(typ string) []string {
	t, ok := command.Lookup(typ)
	if !ok {
		return nil
	}
	names := make([]string, len(t.Params))
	for i, p := range t.Params {
		names[i] = p.Name
	}
	return names
}

// hostname is PC id's hostname; "" for a PC unknown (deleted meanwhile).
func (s *Server) hostname(id int64) string {
	v, _ := s.fleet.View(id)
	return v.Hostname
}

// hostnames are the hostnames of the PCs of ids that are known.
func (s *Server) hostnames(ids []int64) []string {
	var out []string
	for _, id := range ids {
		if h := s.hostname(id); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// renderResults answers the result matrix of queued commands; skipped counts failed commands not
// re-sent for their password, off are the PCs left out because they are off.
func (s *Server) renderResults(c echo.Context, stream string, cmds []models.Command, skipped int, off []int64) error {
	r := views.CommandResults{Retryable: true, Skipped: skipped, Off: s.hostnames(off)}
	for i := range cmds {
		r.Commands = append(r.Commands, commandView(&cmds[i], s.hostname(cmds[i].PCID)))
		// The store removes a password once delivered: such a command cannot be sent again.
		r.Retryable = r.Retryable && !command.HasSecret(cmds[i].Type)
	}
	return s.renderCommandPanel(c, stream, views.CommandResultsPanel(r))
}

// retryCommandsPage sends again, to the same PCs, the commands among command_ids that ended in
// error or timeout, and answers a new matrix. Commands with a password are not re-sent (the
// password is gone); the matrix says how many.
func (s *Server) retryCommandsPage(c echo.Context) error {
	form, err := readForm(c)
	if err != nil {
		return err
	}
	if len(form["command_ids"]) == 0 {
		return badRequest(codeMissingField, "다시 보낼 명령을 고르세요", "command_ids is required")
	}
	ctx := c.Request().Context()
	// Failed commands with the same type, parameters and options go out as one bulk request.
	var groups []bulkRequest
	index := map[string]int{}
	skipped := 0
	for _, v := range form["command_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return badRequest(codeInvalidField, "고른 명령의 번호가 올바르지 않습니다 (%q)", "command_ids must be command ids, not %q", v)
		}
		cmd, err := s.store.CommandByID(ctx, id)
		if err != nil {
			return err
		}
		if cmd.Status != wire.StatusError && cmd.Status != wire.StatusTimeout {
			continue
		}
		if command.HasSecret(cmd.Type) {
			skipped++
			continue
		}
		key := strings.Join([]string{cmd.Type, cmd.Parameters, strconv.Itoa(cmd.Priority), strconv.Itoa(cmd.Timeout)}, "\x00")
		i, ok := index[key]
		if !ok {
			var params map[string]any
			if err := json.Unmarshal([]byte(cmd.Parameters), &params); err != nil {
				return err
			}
			prio, timeout := cmd.Priority, cmd.Timeout
			i, index[key] = len(groups), len(groups)
			groups = append(groups, bulkRequest{commandSpec: commandSpec{Type: cmd.Type, Parameters: params,
				Priority: &prio, Timeout: &timeout}, pcTargets: pcTargets{PCIDs: []int64{}}})
		}
		groups[i].PCIDs = append(groups[i].PCIDs, cmd.PCID)
	}
	if len(groups) == 0 {
		if skipped > 0 {
			return badRequest(codeInvalidField, "실패한 명령에 있던 비밀번호는 전달 뒤 지워졌습니다: 새 명령으로 보내세요",
				"the failed commands carried a password, which was removed after delivery: send a new command")
		}
		return badRequest(codeInvalidField, "실패한 명령이 없어 다시 보낼 것이 없습니다", "none of these commands failed: nothing to retry")
	}
	var cmds []models.Command
	var off []int64
	for _, g := range groups {
		cs, o, err := s.bulkCommands(c, g)
		if err != nil {
			return err
		}
		cmds, off = append(cmds, cs...), append(off, o...)
	}
	if len(cmds) == 0 {
		return errAllOff
	}
	if err := s.enqueue(c, cmds); err != nil {
		return err
	}
	return s.renderResults(c, streamFor([]int64{cmds[0].PCID}, nil), cmds, skipped, off)
}
