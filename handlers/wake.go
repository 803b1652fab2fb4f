package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/views"
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
	_, ids, room, err := formTargets(c)
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
	for _, r := range a.Relays {
		v.Relays = append(v.Relays, views.WakeRelay{Subnet: r.Subnet, Via: s.hostnames(r.Via), Targets: s.hostnames(r.Targets)})
	}
	v.NoRelay, v.Online = s.hostnames(a.NoRelay), len(a.Online)
	return s.renderCommandPanel(c, streamFor(ids, room), views.WakeResultPanel(v))
}

// wake has up to two PCs of ours that are on in each target's subnet send its magic packet
// (fleet.Wake, wire.TypeWakeOnLAN), and says what it did.
func (s *Server) wake(c echo.Context, req pcTargets) (wakeAnswer, error) {
	ctx := c.Request().Context()
	ids, err := s.targetIDs(ctx, req)
	if err != nil {
		return wakeAnswer{}, err
	}
	by := currentAdmin(c).Username
	plan, cmds, err := s.fleet.Wake(ctx, ids, by)
	if err != nil {
		return wakeAnswer{}, err
	}
	answer := wakeAnswer{ok: success, Relays: []relayAnswer{}, NoRelay: nonNil(plan.NoRelay), Online: nonNil(plan.Online)}
	for k, r := range plan.Relays {
		ra := relayAnswer{Subnet: r.Subnet.String(), Broadcast: r.Broadcast.String(), Via: r.Via, Targets: r.Targets}
		for _, cmd := range cmds[k] {
			ra.CommandIDs = append(ra.CommandIDs, cmd.ID)
		}
		s.logQueued(c, cmds[k])
		answer.Relays = append(answer.Relays, ra)
	}
	return answer, nil
}
