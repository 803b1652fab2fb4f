package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
	"github.com/wcms-lab/wcms/wire"
)

// relayAnswer is one subnet's wake: the PCs that send the packets, for whom, and their commands.
type relayAnswer struct {
	Subnet     string  `json:"subnet"`
	Broadcast  string  `json:"broadcast"`
	Via        []int64 `json:"via"`
	Targets    []int64 `json:"targets"`
	CommandIDs []int64 `json:"command_ids"`
}

// wakeAnswer says what a wake did: the relays' commands, the PCs no one could wake, those on.
type wakeAnswer struct {
	ok
	Relays  []relayAnswer `json:"relays"`
	NoRelay []int64       `json:"no_relay"`
	Online  []int64       `json:"already_online"`
}

// wakePCs wakes PCs that are off (our addition, docs/API.md): {pc_ids} or {room}.
func (s *Server) wakePCs(c echo.Context) error {
	var req pcTargets
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	answer, err := s.wake(c, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answer)
}

// wakePage wakes the selected PCs or a room from the dashboard and answers what it did, PC by
// PC; the tiles then show each one waking, then awake or failed, live.
func (s *Server) wakePage(c echo.Context) error {
	form, err := readForm(c)
	if err != nil {
		return err
	}
	ids, room, err := commandTargets(form)
	if err != nil {
		return err
	}
	a, err := s.wake(c, pcTargets{PCIDs: ids, Room: room})
	if err != nil {
		return err
	}
	v := views.WakeResult{}
	if room != nil {
		v.Room = *room
	}
	name := func(id int64) string {
		if p, ok := s.fleet.View(id); ok {
			return p.Hostname
		}
		return ""
	}
	for _, r := range a.Relays {
		vr := views.WakeRelay{Subnet: r.Subnet}
		for _, id := range r.Via {
			vr.Via = append(vr.Via, name(id))
		}
		for _, id := range r.Targets {
			vr.Targets = append(vr.Targets, name(id))
		}
		v.Relays = append(v.Relays, vr)
	}
	for _, id := range a.NoRelay {
		v.NoRelay = append(v.NoRelay, name(id))
	}
	v.Online = len(a.Online)
	return s.renderCommandPanel(c, streamFor(ids, room), views.WakeResultPanel(v))
}

// wake has up to two PCs of ours that are on in each target's subnet send its magic packet
// (fleet.PlanWake, wire.TypeWakeOnLAN), and marks the targets waking (fleet.StartWake).
func (s *Server) wake(c echo.Context, req pcTargets) (wakeAnswer, error) {
	ctx := c.Request().Context()
	ids, err := s.targetIDs(ctx, req)
	if err != nil {
		return wakeAnswer{}, err
	}
	plan := s.fleet.PlanWake(ids)
	by := currentAdmin(c).Username
	var cmds []models.Command
	var spans [][2]int // each relay's commands in cmds
	var targets []int64
	answer := wakeAnswer{ok: success, Relays: []relayAnswer{}, NoRelay: nonNil(plan.NoRelay), Online: nonNil(plan.Online)}
	for _, r := range plan.Relays {
		batch, err := wakeCommands(r, by)
		if err != nil {
			return wakeAnswer{}, err
		}
		start := len(cmds)
		for _, via := range r.Via {
			for _, cmd := range batch {
				cmd.PCID = via
				cmds = append(cmds, cmd)
			}
		}
		spans = append(spans, [2]int{start, len(cmds)})
		targets = append(targets, r.Targets...)
		answer.Relays = append(answer.Relays, relayAnswer{Subnet: r.Subnet.String(), Broadcast: r.Broadcast.String(),
			Via: r.Via, Targets: r.Targets})
	}
	if len(cmds) == 0 {
		return answer, nil
	}
	if err := s.enqueue(c, cmds); err != nil {
		return wakeAnswer{}, err
	}
	if err := s.fleet.StartWake(ctx, targets, by); err != nil {
		return wakeAnswer{}, err
	}
	for k, span := range spans {
		for _, cmd := range cmds[span[0]:span[1]] {
			answer.Relays[k].CommandIDs = append(answer.Relays[k].CommandIDs, cmd.ID)
		}
	}
	return answer, nil
}

// wakeBatch is how many MACs one wake_on_lan command carries (the catalogue's bound).
const wakeBatch = 64

// wakeCommands are a relay's commands, wakeBatch MACs each, checked by the catalogue as any
// other.
func wakeCommands(r fleet.Relay, by string) ([]models.Command, error) {
	var out []models.Command
	for macs := range slices.Chunk(r.MACs, wakeBatch) {
		spec := commandSpec{Type: wire.TypeWakeOnLAN, Parameters: map[string]any{
			"macs": strings.Join(macs, ","), "broadcast": r.Broadcast.String()}}
		cmd, err := spec.build(by)
		if err != nil {
			return nil, err
		}
		out = append(out, cmd)
	}
	return out, nil
}
