package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
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

// wakePCs wakes PCs that are off (our addition, docs/API.md): up to two PCs of ours that are on
// in each one's subnet send its magic packet (fleet.PlanWake, wire.TypeWakeOnLAN).
func (s *Server) wakePCs(c echo.Context) error {
	var req pcTargets
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	ids, err := s.targetIDs(c.Request().Context(), req)
	if err != nil {
		return err
	}
	plan := s.fleet.PlanWake(ids)
	var cmds []models.Command
	var spans [][2]int // each relay's commands in cmds
	answer := wakeAnswer{ok: success, Relays: []relayAnswer{}, NoRelay: nonNil(plan.NoRelay), Online: nonNil(plan.Online)}
	for _, r := range plan.Relays {
		batch, err := wakeCommands(r, currentAdmin(c).Username)
		if err != nil {
			return err
		}
		start := len(cmds)
		for _, via := range r.Via {
			for _, cmd := range batch {
				cmd.PCID = via
				cmds = append(cmds, cmd)
			}
		}
		spans = append(spans, [2]int{start, len(cmds)})
		answer.Relays = append(answer.Relays, relayAnswer{Subnet: r.Subnet.String(), Broadcast: r.Broadcast.String(),
			Via: r.Via, Targets: r.Targets})
	}
	if len(cmds) > 0 {
		if err := s.enqueue(c, cmds); err != nil {
			return err
		}
	}
	for k, span := range spans {
		for _, cmd := range cmds[span[0]:span[1]] {
			answer.Relays[k].CommandIDs = append(answer.Relays[k].CommandIDs, cmd.ID)
		}
	}
	return c.JSON(http.StatusOK, answer)
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
