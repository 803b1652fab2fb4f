package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// maxBulk bounds one bulk request; a lab fleet is far smaller.
const maxBulk = 20_000

// commandJSON is a command as the admin API shows it; secrets are never shown.
type commandJSON struct {
	ID           int64          `json:"id"`
	PCID         int64          `json:"pc_id"`
	Type         string         `json:"type"`
	Parameters   map[string]any `json:"parameters"`
	Status       string         `json:"status"`
	Output       string         `json:"output"`
	ErrorMessage string         `json:"error_message"`
	ExitCode     *int           `json:"exit_code"`
	Priority     int            `json:"priority"`
	Timeout      int            `json:"timeout"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	StartedAt    *time.Time     `json:"started_at"`
	CompletedAt  *time.Time     `json:"completed_at"`
	ExpiresAt    *time.Time     `json:"expires_at,omitempty"` // our addition: it waits for its PC until then
}

func toCommandJSON(c *models.Command) (commandJSON, error) {
	var params map[string]any
	if err := json.Unmarshal([]byte(models.StripSecrets(c.Parameters)), &params); err != nil {
		return commandJSON{}, err
	}
	return commandJSON{ID: c.ID, PCID: c.PCID, Type: c.Type, Parameters: params, Status: c.Status, Output: c.Output,
		ErrorMessage: c.ErrorMessage, ExitCode: c.ExitCode, Priority: c.Priority, Timeout: c.Timeout,
		CreatedBy: c.CreatedBy, CreatedAt: ts(c.CreatedAt), StartedAt: tsp(c.StartedAt), CompletedAt: tsp(c.CompletedAt),
		ExpiresAt: tsp(c.ExpiresAt)}, nil
}

// enqueueOne queues a validated command for one PC and answers with its id.
func (s *Server) enqueueOne(c echo.Context, spec commandSpec) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cmd, err := spec.build(currentAdmin(c).Username)
	if err != nil {
		return err
	}
	if s.leftOff(cmd, id) {
		return newError(http.StatusConflict, codeConflict,
			"PC가 꺼져 있어 보내지 않았습니다. 켜진 뒤 받게 하려면 기다릴 시간(expires_in)을 함께 보내거나, 먼저 켜세요(Wake-on-LAN).",
			"the PC is off, so nothing was sent: to have it delivered when the PC is back, send expires_in with it, or wake the PC first")
	}
	cmd.PCID = id
	cmds := []models.Command{cmd}
	if err := s.enqueue(c, cmds); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, commandIDAnswer{success, cmds[0].ID})
}

// enqueue queues validated commands, all or none, and logs each.
func (s *Server) enqueue(c echo.Context, cmds []models.Command) error {
	if err := s.fleet.Enqueue(c.Request().Context(), cmds); err != nil {
		return err
	}
	s.logQueued(c, cmds)
	return nil
}

// logQueued counts and logs commands queued for the signed-in admin.
func (s *Server) logQueued(c echo.Context, cmds []models.Command) {
	for _, cmd := range cmds {
		s.metrics.commands.WithLabelValues(cmd.Type).Inc()
		// Parameters are not logged: they may hold passwords.
		s.log.Info("command queued", "command_id", cmd.ID, "pc_id", cmd.PCID, "type", cmd.Type,
			"by", currentAdmin(c).Username)
	}
}

// decodeOptional decodes a body that may be absent.
func decodeOptional(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// powerCommand is the documented shutdown/reboot route; the body ({delay, message}) is optional.
func (s *Server) powerCommand(c echo.Context, typ string) error {
	params := map[string]any{}
	if err := decodeOptional(c, &params); err != nil {
		return err
	}
	return s.enqueueOne(c, commandSpec{Type: typ, Parameters: params})
}

// shutdownPC queues a shutdown.
func (s *Server) shutdownPC(c echo.Context) error { return s.powerCommand(c, wire.TypeShutdown) }

// rebootPC queues a restart (the API's "reboot", docs/API.md).
func (s *Server) rebootPC(c echo.Context) error { return s.powerCommand(c, wire.TypeRestart) }

// executeOnPC queues a shell command: {command}.
func (s *Server) executeOnPC(c echo.Context) error {
	params := map[string]any{}
	if err := decodeJSON(c, &params); err != nil {
		return err
	}
	return s.enqueueOne(c, commandSpec{Type: wire.TypeExecute, Parameters: params})
}

// sendCommand queues any command type: {type, parameters, priority?, timeout?}.
func (s *Server) sendCommand(c echo.Context) error {
	var spec commandSpec
	if err := decodeJSON(c, &spec); err != nil {
		return err
	}
	return s.enqueueOne(c, spec)
}

// pcTargets are a list of PCs or every PC of a room, as bulk commands and wakes name them.
type pcTargets struct {
	PCIDs []int64 `json:"pc_ids"`
	Room  *string `json:"room"`
}

// check refuses both or neither.
func (t pcTargets) check() error {
	if (t.PCIDs == nil) == (t.Room == nil) {
		return badRequest(codeInvalidField, "PC 목록(pc_ids)과 강의실(room) 중 하나만 보내세요", "send either pc_ids or room")
	}
	return nil
}

// ids are the PCs named, at most maxBulk; a room's as it is now.
func (s *Server) targetIDs(ctx context.Context, t pcTargets) ([]int64, error) {
	ids := t.PCIDs
	if t.Room != nil {
		rows, err := s.roomPCs(ctx, *t.Room)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) > maxBulk {
		return nil, badRequest(codeInvalidField, "한 번에 PC %d대까지입니다", "at most %d PCs at once", maxBulk)
	}
	return ids, nil
}

// bulkRequest is one command for a list of PCs or for every PC of a room.
type bulkRequest struct {
	commandSpec
	pcTargets
}

// bulkCommands validates a bulk request and returns one command per PC, not yet queued, and the
// PCs left out because they are off (leftOff). The JSON API and the dashboard's command form
// both send through it.
func (s *Server) bulkCommands(c echo.Context, req bulkRequest) (cmds []models.Command, off []int64, err error) {
	if err := req.check(); err != nil {
		return nil, nil, err
	}
	cmd, err := req.build(currentAdmin(c).Username)
	if err != nil {
		return nil, nil, err
	}
	ids, err := s.targetIDs(c.Request().Context(), req.pcTargets)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[int64]bool, len(ids))
	cmds = make([]models.Command, 0, len(ids))
	for _, id := range ids {
		switch {
		case seen[id]:
		case s.leftOff(cmd, id):
			off = append(off, id)
		default:
			cmd.PCID = id
			cmds = append(cmds, cmd)
		}
		seen[id] = true
	}
	return cmds, off, nil
}

// leftOff tells whether cmd is not queued for PC id: a shutdown or restart for a PC that is off
// would run whenever it next starts, maybe in the middle of a class, so it is only queued when
// the admin chose how long it may wait (expires_in).
func (s *Server) leftOff(cmd models.Command, id int64) bool {
	if !isPower(cmd.Type) || cmd.ExpiresAt != nil {
		return false
	}
	return s.fleet.IsOff(id)
}

// roomPCs lists the PCs of a room: an unknown room is a 404, an empty one has none.
func (s *Server) roomPCs(ctx context.Context, room string) ([]models.PCView, error) {
	if room == "" {
		// "" stands for the PCs not placed, not a room.
		return nil, badRequest(codeInvalidField, "강의실을 고르세요", "room must be a room name")
	}
	rows := s.fleet.Views(inRoom(room))
	if len(rows) == 0 {
		_, err := s.store.RoomByName(ctx, room)
		if errors.Is(err, models.ErrNotFound) {
			return nil, newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", room)
		}
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// sendBulk queues one command per PC, for a list of PCs or a whole room, all or none.
func (s *Server) sendBulk(c echo.Context) error {
	var req bulkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cmds, off, err := s.bulkCommands(c, req)
	if err != nil {
		return err
	}
	if len(cmds) > 0 {
		if err := s.enqueue(c, cmds); err != nil {
			return err
		}
	}
	out := make(map[string]int64, len(cmds))
	for _, cmd := range cmds {
		out[strconv.FormatInt(cmd.PCID, 10)] = cmd.ID
	}
	return c.JSON(http.StatusOK, commandIDsAnswer{success, out, off})
}

// getCommand returns a command's status and result.
func (s *Server) getCommand(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cmd, err := s.store.CommandByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out, err := toCommandJSON(cmd)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, commandAnswer{success, out})
}

// listPCCommands returns a PC's command history, newest first (?limit=, default 100).
func (s *Server) listPCCommands(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			return badRequest(codeInvalidField, "limit은 1부터 1000까지입니다 (받은 값 %q)", "limit must be from 1 to 1000, not %q", l)
		}
	}
	ctx := c.Request().Context()
	if _, err := s.store.PCByID(ctx, id); err != nil {
		return err
	}
	cs, err := s.store.PCCommands(ctx, id, limit)
	if err != nil {
		return err
	}
	return s.commandsJSON(c, cs)
}

func (s *Server) commandsJSON(c echo.Context, cs []models.Command) error {
	out := make([]commandJSON, len(cs))
	for i := range cs {
		var err error
		if out[i], err = toCommandJSON(&cs[i]); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, commandsAnswer{success, out})
}

// cancelPending cancels every undelivered command of a PC.
func (s *Server) cancelPending(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cs, err := s.fleet.CancelPending(c.Request().Context(), id, currentAdmin(c).Username)
	if err != nil {
		return err
	}
	s.log.Info("pending commands cancelled", "pc_id", id, "count", len(cs), "by", currentAdmin(c).Username)
	return s.commandsJSON(c, cs)
}
