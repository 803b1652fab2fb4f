package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
)

// pcJSON is a PC as the admin API lists it. Live values come from the fleet, the rest from the
// store.
type pcJSON struct {
	ID              int64      `json:"id"`
	MachineID       string     `json:"machine_id"`
	Hostname        string     `json:"hostname"`
	MACAddress      string     `json:"mac_address"`
	IPAddress       string     `json:"ip_address"`
	IsOnline        bool       `json:"is_online"`
	IsVerified      bool       `json:"is_verified"`
	RoomName        *string    `json:"room_name"`
	SeatRow         *int       `json:"seat_row"`
	SeatCol         *int       `json:"seat_col"`
	CPUUsage        *float64   `json:"cpu_usage"`
	RAMUsagePercent *float64   `json:"ram_usage_percent"`
	CurrentUser     *string    `json:"current_user"`
	LastSeen        *time.Time `json:"last_seen"`
}

func (s *Server) toPCJSON(stored *models.PCRow) pcJSON {
	r := s.withLive(*stored)
	return pcJSON{ID: r.ID, MachineID: r.MachineID, Hostname: r.Hostname, MACAddress: r.MACAddress,
		IPAddress: r.IPAddress, IsOnline: r.IsOnline, IsVerified: r.IsVerified, RoomName: r.RoomName,
		SeatRow: r.SeatRow, SeatCol: r.SeatCol, CPUUsage: r.CPUUsage, RAMUsagePercent: r.RAMUsagePercent,
		CurrentUser: r.CurrentUser, LastSeen: tsp(r.LastSeen)}
}

// withLive overlays a stored PC with the live state the fleet holds: the store gets light state
// in per-second batches, the fleet has it at once.
func (s *Server) withLive(r models.PCRow) models.PCRow {
	live, ok := s.fleet.Snapshot(r.ID)
	if !ok {
		return r
	}
	r.IPAddress, r.IsOnline = live.IPAddress, live.Online
	if live.CPUUsage != nil {
		r.CPUUsage = live.CPUUsage
	}
	if live.RAMUsagePercent != nil {
		r.RAMUsagePercent = live.RAMUsagePercent
	}
	if !live.LastSeen.IsZero() {
		r.LastSeen = &live.LastSeen
	}
	if live.CurrentUser != nil {
		r.CurrentUser = live.CurrentUser
	}
	return r
}

// listPCs lists PCs, optionally of one room (?room=) or by live state (?online=true|false).
func (s *Server) listPCs(c echo.Context) error {
	var online *bool
	switch o := c.QueryParam("online"); o {
	case "":
	case "true", "false":
		v := o == "true"
		online = &v
	default:
		return badRequest(codeInvalidField, "online must be true or false, not %q", o)
	}
	rows, err := s.store.ListPCs(c.Request().Context(), models.PCFilter{Room: c.QueryParam("room")})
	if err != nil {
		return err
	}
	out := make([]pcJSON, 0, len(rows))
	for i := range rows {
		// Filtered on the live state: the stored one can be a second behind.
		if p := s.toPCJSON(&rows[i]); online == nil || p.IsOnline == *online {
			out = append(out, p)
		}
	}
	return c.JSON(http.StatusOK, pcsAnswer{success, out})
}

// listUnverifiedPCs lists PCs not verified by a PIN or an admin.
func (s *Server) listUnverifiedPCs(c echo.Context) error {
	rows, err := s.store.ListPCs(c.Request().Context(), models.PCFilter{Unverified: true})
	if err != nil {
		return err
	}
	out := make([]unverifiedPCJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, unverifiedPCJSON{r.ID, r.Hostname, r.MachineID, r.IsVerified})
	}
	return c.JSON(http.StatusOK, unverifiedAnswer{success, out})
}

type unverifiedPCJSON struct {
	ID         int64  `json:"id"`
	Hostname   string `json:"hostname"`
	MachineID  string `json:"machine_id"`
	IsVerified bool   `json:"is_verified"`
}

type diskJSON struct {
	Mount   string   `json:"mount"`
	TotalGB *float64 `json:"total_gb"`
	FSType  string   `json:"fstype"`
	UsedGB  *float64 `json:"used_gb"`
	FreeGB  *float64 `json:"free_gb"`
	Percent *float64 `json:"percent"`
}

type ipJSON struct {
	IPAddress string    `json:"ip_address"`
	SeenAt    time.Time `json:"seen_at"`
}

// getPC returns one PC in full.
func (s *Server) getPC(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.store.PCDetail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	disks := make([]diskJSON, len(d.Disks))
	for i, k := range d.Disks {
		disks[i] = diskJSON{k.Mount, k.TotalGB, k.FSType, k.UsedGB, k.FreeGB, k.Percent}
	}
	ips := make([]ipJSON, len(d.IPHistory))
	for i, h := range d.IPHistory {
		ips[i] = ipJSON{h.IPAddress, ts(h.SeenAt)}
	}
	processes := []string{}
	if d.State.Processes != nil {
		if err := json.Unmarshal([]byte(*d.State.Processes), &processes); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, pcAnswer{success, pcDetailJSON{
		pcJSON: s.toPCJSON(&d.PCRow),
		Specs: specsJSON{CPUModel: d.CPUModel, CPUCores: d.CPUCores, CPUThreads: d.CPUThreads,
			RAMTotal: d.RAMTotal, OSEdition: d.OSEdition, OSVersion: d.OSVersion},
		Disks: disks, Processes: processes, RAMUsed: d.State.RAMUsed, Uptime: d.State.Uptime,
		FullUpdate: tsp(d.State.FullAt), IPHistory: ips, CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(d.UpdatedAt),
	}})
}

// pcDetailJSON is one PC with everything the server knows of it.
type pcDetailJSON struct {
	pcJSON
	Specs      specsJSON  `json:"specs"`
	Disks      []diskJSON `json:"disks"`
	Processes  []string   `json:"processes"`
	RAMUsed    *float64   `json:"ram_used"`
	Uptime     *int64     `json:"uptime"`
	FullUpdate *time.Time `json:"last_full_update"`
	IPHistory  []ipJSON   `json:"ip_history"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

type specsJSON struct {
	CPUModel   string  `json:"cpu_model"`
	CPUCores   int     `json:"cpu_cores"`
	CPUThreads int     `json:"cpu_threads"`
	RAMTotal   float64 `json:"ram_total"`
	OSEdition  string  `json:"os_edition"`
	OSVersion  string  `json:"os_version"`
}

// deletePC removes a PC and everything about it.
func (s *Server) deletePC(c echo.Context) error {
	if err := s.removePC(c); err != nil {
		return err
	}
	return done(c, "PC deleted successfully")
}

// removePC deletes the PC of the path's :id, for the API and the PC page alike.
func (s *Server) removePC(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.Delete(c.Request().Context(), id); err != nil {
		return err
	}
	s.live.Forget(id)
	s.log.Info("PC deleted", "pc_id", id, "by", currentAdmin(c).Username)
	return nil
}

// setVerified sets or clears a PC's verified flag.
func (s *Server) setVerified(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req struct {
		Verified *bool `json:"verified"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Verified == nil {
		return badRequest(codeMissingField, "verified is required")
	}
	if err := s.markVerified(c.Request().Context(), id, *req.Verified); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, verifiedAnswer{success, *req.Verified})
}

// setSeat places a PC on a seat ({room, row, col}), moves it, or unplaces it (room null).
func (s *Server) setSeat(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req struct {
		Room *string `json:"room"`
		Row  int     `json:"row"`
		Col  int     `json:"col"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	room := ""
	if req.Room != nil {
		if room = *req.Room; room == "" {
			return badRequest(codeInvalidField, "room must be a room name, or null to unplace the PC")
		}
	}
	if err := s.seatPC(c.Request().Context(), id, room, req.Row, req.Col); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, seatAnswer{success, req.Room, req.Row, req.Col})
}

// markVerified sets or clears a PC's verified flag and republishes the PC.
func (s *Server) markVerified(ctx context.Context, id int64, verified bool) error {
	if err := s.store.SetVerified(ctx, id, verified, time.Now()); err != nil {
		return err
	}
	s.fleet.Changed(id)
	return nil
}

// seatPC places a PC on a seat of room, moves it there, or (room "") unplaces it, and
// republishes the PC.
func (s *Server) seatPC(ctx context.Context, id int64, room string, row, col int) error {
	if err := s.store.SetSeat(ctx, id, room, row, col, time.Now()); err != nil {
		return err
	}
	s.fleet.Changed(id)
	return nil
}

// pcHistory returns a PC's online/offline history, newest first.
func (s *Server) pcHistory(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.store.PCByID(ctx, id); err != nil {
		return err
	}
	os, err := s.store.Outages(ctx, id, 500)
	if err != nil {
		return err
	}
	out := make([]outageJSON, len(os))
	for i, o := range os {
		out[i] = outageJSON{ts(o.StartedAt), tsp(o.EndedAt), o.DurationSeconds, o.Reason}
	}
	return c.JSON(http.StatusOK, historyAnswer{success, out})
}

type outageJSON struct {
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationSeconds *int64     `json:"duration_seconds"`
	Reason          string     `json:"reason"`
}
