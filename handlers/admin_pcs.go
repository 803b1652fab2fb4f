package handlers

import (
	"context"
	"encoding/json"
	"fmt"
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
	Wake            *wakeJSON  `json:"wake,omitempty"` // our addition: its last Wake-on-LAN
}

// wakeJSON is a PC's last wake: waking, awake (took_seconds) or failed.
type wakeJSON struct {
	State       string     `json:"state"`
	SentAt      *time.Time `json:"sent_at"`
	EndedAt     *time.Time `json:"ended_at"`
	TookSeconds *int64     `json:"took_seconds,omitempty"`
}

// toPCJSON is a PC as the API lists it.
func toPCJSON(v *models.PCView) pcJSON {
	j := pcJSON{ID: v.ID, MachineID: v.MachineID, Hostname: v.Hostname, MACAddress: v.MACAddress,
		IPAddress: v.IPAddress, IsOnline: v.Online, IsVerified: v.Verified, RoomName: v.Room,
		SeatRow: v.SeatRow, SeatCol: v.SeatCol, CPUUsage: v.CPUUsage, RAMUsagePercent: v.RAMUsagePercent,
		CurrentUser: v.CurrentUser}
	if !v.LastSeen.IsZero() {
		seen := ts(v.LastSeen)
		j.LastSeen = &seen
	}
	if w := v.Wake; w.State != "" {
		j.Wake = &wakeJSON{State: w.State, SentAt: tsp(w.SentAt), EndedAt: tsp(w.EndedAt)}
		if w.State == models.WakeAwake {
			secs := int64(w.Took().Round(time.Second) / time.Second)
			j.Wake.TookSeconds = &secs
		}
	}
	return j
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
		return badRequest(codeInvalidField, "online은 true나 false여야 합니다 (받은 값 %q)", "online must be true or false, not %q", o)
	}
	room := c.QueryParam("room")
	vs := s.fleet.Views(func(v *models.PCView) bool {
		return (room == "" || v.InRoom(room)) && (online == nil || v.Online == *online)
	})
	out := make([]pcJSON, len(vs))
	for i := range vs {
		out[i] = toPCJSON(&vs[i])
	}
	return c.JSON(http.StatusOK, pcsAnswer{success, out})
}

// listUnverifiedPCs lists PCs not verified by a PIN or an admin.
func (s *Server) listUnverifiedPCs(c echo.Context) error {
	vs := s.fleet.Views(func(v *models.PCView) bool { return !v.Verified })
	out := make([]unverifiedPCJSON, len(vs))
	for i, v := range vs {
		out[i] = unverifiedPCJSON{v.ID, v.Hostname, v.MachineID, v.Verified}
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
	d, v, err := s.pcDetail(c.Request().Context(), id)
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
		pcJSON: toPCJSON(&v),
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

// pcDetail reads what is stored of a PC, and its view from the fleet.
func (s *Server) pcDetail(ctx context.Context, id int64) (*models.PCDetail, models.PCView, error) {
	d, err := s.store.PCDetail(ctx, id)
	if err != nil {
		return nil, models.PCView{}, err
	}
	v, ok := s.fleet.View(id)
	if !ok { // deleted in between
		return nil, models.PCView{}, fmt.Errorf("PC %d: %w", id, models.ErrNotFound)
	}
	return d, v, nil
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
	by := currentAdmin(c).Username
	if err := s.fleet.Delete(c.Request().Context(), id, by); err != nil {
		return err
	}
	s.log.Info("PC deleted", "pc_id", id, "by", by)
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
		return badRequest(codeMissingField, "verified 값이 없습니다", "verified is required")
	}
	if err := s.fleet.SetVerified(c.Request().Context(), id, *req.Verified); err != nil {
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
			return badRequest(codeInvalidField, "강의실 이름을 쓰거나, 배치를 해제하려면 null을 보내세요",
				"room must be a room name, or null to unplace the PC")
		}
	}
	if err := s.fleet.SetSeat(c.Request().Context(), id, room, req.Row, req.Col); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, seatAnswer{success, req.Room, req.Row, req.Col})
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
