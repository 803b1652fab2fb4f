package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/views"
)

type reenrolmentJSON struct {
	ID            int64      `json:"id"`
	PCID          int64      `json:"pc_id"`
	Hostname      string     `json:"hostname"`
	MACAddress    string     `json:"mac_address"`
	IPAddress     string     `json:"ip_address"`
	LastSeen      *time.Time `json:"last_seen"`
	NewHostname   string     `json:"new_hostname"`
	NewMACAddress string     `json:"new_mac_address"`
	NewIPAddress  string     `json:"new_ip_address"`
	FromAddr      string     `json:"from_addr"`
	RequestedAt   time.Time  `json:"requested_at"`
}

// listReenrolments lists the installs waiting for an operator, oldest first.
func (s *Server) listReenrolments(c echo.Context) error {
	rows, err := s.store.Reenrolments(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]reenrolmentJSON, len(rows))
	for i, r := range rows {
		out[i] = reenrolmentJSON{ID: r.ID, PCID: r.PCID, Hostname: r.OldHostname, MACAddress: r.OldMAC, IPAddress: r.OldIP,
			NewHostname: r.Hostname, NewMACAddress: r.MACAddress, NewIPAddress: r.IPAddress,
			FromAddr: r.FromAddr, RequestedAt: ts(r.CreatedAt)}
		if r.OldLastSeen != nil {
			seen := ts(*r.OldLastSeen)
			out[i].LastSeen = &seen
		}
	}
	return c.JSON(http.StatusOK, reenrolmentsAnswer{success, out})
}

// decideReenrolment approves (the new install takes over its PC, the old one is refused from
// now) or refuses (the PC keeps its agent) a request: POST …/{id}/approve or …/{id}/refuse.
func (s *Server) decideReenrolment(c echo.Context) error {
	decided, err := s.decide(c)
	if err != nil {
		return err
	}
	return done(c, "Re-enrolment "+decided)
}

// decideReenrolmentPage is decideReenrolment from the room page: it answers the alerts panel.
func (s *Server) decideReenrolmentPage(c echo.Context) error {
	if _, err := s.decide(c); err != nil {
		return err
	}
	return s.alertsPanel(c)
}

// decide carries out the path's decision on the path's request and says what was done.
func (s *Server) decide(c echo.Context) (string, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return "", err
	}
	ctx, by := c.Request().Context(), currentAdmin(c).Username
	switch c.Param("decision") {
	case "approve":
		err = s.fleet.ApproveReenrolment(ctx, id, by)
	case "refuse":
		err = s.store.RefuseReenrolment(ctx, id, by, time.Now())
	default:
		return "", newError(http.StatusNotFound, codeNotFound, "%q은(는) 결정이 아닙니다: approve(승인)나 refuse(거부)만 됩니다",
			"no such decision %q: approve or refuse", c.Param("decision"))
	}
	if err != nil {
		return "", err
	}
	decided := c.Param("decision") + "d"
	s.log.Info("re-enrolment "+decided, "reenrolment_id", id, "by", by)
	return decided, nil
}

type cloneJSON struct {
	PCID      int64      `json:"pc_id"`
	MachineID string     `json:"machine_id"`
	Hostname  string     `json:"hostname"`
	Copies    []copyJSON `json:"copies"`
}

type copyJSON struct {
	InstanceID string    `json:"instance_id"`
	Addr       string    `json:"addr"`
	LastSeen   time.Time `json:"last_seen"`
}

// listClones lists the PCs whose identity several machines seem to share.
func (s *Server) listClones(c echo.Context) error {
	out := []cloneJSON{}
	for _, cs := range s.fleet.CloneSuspects() {
		j := cloneJSON{PCID: cs.PCID, MachineID: cs.MachineID, Hostname: cs.Hostname}
		for _, cp := range cs.Copies {
			j.Copies = append(j.Copies, copyJSON{InstanceID: cp.Instance, Addr: cp.Addr, LastSeen: ts(cp.At)})
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, clonesAnswer{success, out})
}

// identityAlerts gathers what the room page's alerts panel shows.
func (s *Server) identityAlerts(ctx context.Context, canOperate bool) (views.IdentityAlerts, error) {
	a := views.IdentityAlerts{CanOperate: canOperate}
	rows, err := s.store.Reenrolments(ctx)
	if err != nil {
		return a, err
	}
	for _, r := range rows {
		a.Reenrolments = append(a.Reenrolments, views.ReenrolmentRequest{ID: r.ID, PCID: r.PCID,
			Old: views.Identity{Hostname: r.OldHostname, MAC: r.OldMAC, IP: r.OldIP},
			New: views.Identity{Hostname: r.Hostname, MAC: r.MACAddress, IP: r.IPAddress}, FromAddr: r.FromAddr, RequestedAt: r.CreatedAt})
	}
	for _, cs := range s.fleet.CloneSuspects() {
		v := views.CloneSuspect{PCID: cs.PCID, Hostname: cs.Hostname}
		for _, cp := range cs.Copies {
			v.Copies = append(v.Copies, views.CloneCopy{Instance: cp.Instance, Addr: cp.Addr, LastSeen: cp.At})
		}
		a.Clones = append(a.Clones, v)
	}
	return a, nil
}

// alertsPanel is the room page's alerts panel alone, as it fetches itself.
func (s *Server) alertsPanel(c echo.Context) error {
	a, err := s.identityAlerts(c.Request().Context(), s.page(c, "", "").CanOperate())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.IdentityAlertsPanel(a))
}
