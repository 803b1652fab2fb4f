package views

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// PCDetail is one PC's page: its specs, disks, live state, processes, commands and outages.
type PCDetail struct {
	Page
	Tile       Tile // the live part: CPU, RAM, IP, user, online
	MachineID  string
	MAC        string
	CPUModel   string
	CPUCores   int
	CPUThreads int
	RAMTotal   float64  // GB, from registration
	RAMUsed    *float64 // GB, from the last full heartbeat
	OSEdition  string
	OSVersion  string
	Room       string // "" when the PC is not placed
	SeatRow    *int
	SeatCol    *int
	Uptime     *int64 // seconds
	Disks      []PCDisk
	Processes  []PCProcess
	// ProcessesAt is when the processes were reported (the last full heartbeat).
	ProcessesAt *time.Time
	Commands    []CommandView // newest first
	Outages     []PCOutage    // newest first
	Chart       PCChart
}

// PCDisk is one fixed disk of a PC.
type PCDisk struct {
	Mount   string
	FSType  string
	TotalGB *float64
	UsedGB  *float64
	Percent *float64
}

// PCProcess is a process name and how many processes run under it.
type PCProcess struct {
	Name  string
	Count int
}

// PCOutage is one offline period; End is nil while it lasts.
type PCOutage struct {
	Start    time.Time
	End      *time.Time
	Duration *int64 // seconds, once ended
	Reason   string
}

// streamURL is where the page's live updates come from: the PC's tile and every command.
func (v PCDetail) streamURL() string { return "/stream?pc=" + itoa64(v.Tile.ID) }

// killVals are the form values of a kill button: kill_process of that name, on this PC.
func (v PCDetail) killVals(name string) string {
	return jsonObject(map[string]string{"pc_ids": itoa64(v.Tile.ID), "type": "kill_process", "process_name": name})
}

// seatText is where the PC sits, e.g. "3F Lab · 2-5".
func (v PCDetail) seatText(ctx context.Context) string {
	if v.Room == "" {
		return T(ctx, "배치 안 됨", "Not placed")
	}
	if v.SeatRow == nil || v.SeatCol == nil {
		return v.Room
	}
	return v.Room + " · " + T(ctx, strconv.Itoa(*v.SeatRow)+"행 "+strconv.Itoa(*v.SeatCol)+"열",
		"row "+strconv.Itoa(*v.SeatRow)+", seat "+strconv.Itoa(*v.SeatCol))
}

// ramPercent is the RAM in use as a percentage: the live value, else used/total.
func (v PCDetail) ramPercent() *float64 {
	if v.Tile.RAM != nil {
		return v.Tile.RAM
	}
	if v.RAMUsed != nil && v.RAMTotal > 0 {
		p := *v.RAMUsed / v.RAMTotal * 100
		return &p
	}
	return nil
}

// donutDash is an SVG stroke-dasharray drawing pct of a circle whose pathLength is 100.
func donutDash(pct *float64) string {
	if pct == nil {
		return "0 100"
	}
	p := max(0, min(100, *pct))
	return fmt.Sprintf("%.1f %.1f", p, 100-p)
}

func gbText(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f GB", *v)
}

// clockText is a moment in the server's time zone, to the second.
func clockText(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// spanText is a number of seconds as days, hours, minutes and seconds, largest two units only.
func spanText(ctx context.Context, secs int64) string {
	d, h, m, s := secs/86400, secs%86400/3600, secs%3600/60, secs%60
	unit := func(n int64, ko, en string) string { return strconv.FormatInt(n, 10) + T(ctx, ko, en) }
	switch {
	case d > 0:
		return unit(d, "일 ", "d ") + unit(h, "시간", "h")
	case h > 0:
		return unit(h, "시간 ", "h ") + unit(m, "분", "m")
	case m > 0:
		return unit(m, "분 ", "m ") + unit(s, "초", "s")
	}
	return unit(s, "초", "s")
}

// reasonText names an outage reason in the page language.
func reasonText(ctx context.Context, reason string) string {
	switch reason {
	case "shutdown":
		return T(ctx, "종료", "shut down")
	case "network_error":
		return T(ctx, "네트워크 끊김", "network lost")
	case "timeout":
		return T(ctx, "응답 없음", "no heartbeat")
	case "admin_shutdown":
		return T(ctx, "관리자가 종료", "shut down by an admin")
	case "admin_restart":
		return T(ctx, "관리자가 재시작", "restarted by an admin")
	}
	return reason
}

// diskBarClass colours a disk's bar: red when nearly full, amber when filling up.
func diskBarClass(pct *float64) string {
	switch {
	case pct != nil && *pct >= 90:
		return "fill-red-600"
	case pct != nil && *pct >= 75:
		return "fill-amber-500"
	}
	return "fill-blue-600"
}
