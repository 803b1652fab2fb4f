package views_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wcms-lab/wcms/views"
)

func pcI64(n int64) *int64 { return &n }
func pcInt(n int) *int     { return &n }

// hostilePC is a PC page with hostile text wherever an agent or admin can put some.
func hostilePC(role string) views.PCDetail {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := at.Add(3660 * time.Second)
	exit := 1
	return views.PCDetail{
		Page:      views.Page{Title: hostile, User: "op", Role: role, CSRF: "token", Nav: "rooms", Path: "/pc/7"},
		Tile:      views.Tile{ID: 7, Hostname: hostile, IP: "10.0.0.7", User: hostile, Online: true, CPU: ptr(12), RAM: ptr(40)},
		MachineID: hostile, MAC: "A1:B2:C3:D4:E5:F6", CPUModel: hostile, CPUCores: 6, CPUThreads: 12,
		RAMTotal: 16, RAMUsed: ptr(6.4), OSEdition: "Windows 11 Pro", OSVersion: "10.0.22631",
		Room: hostile, SeatRow: pcInt(2), SeatCol: pcInt(5), Uptime: pcI64(90061),
		Disks: []views.PCDisk{
			{Mount: `C:\`, FSType: "NTFS", TotalGB: ptr(237), UsedGB: ptr(100), Percent: ptr(42.2)},
			{Mount: hostile, FSType: hostile, TotalGB: ptr(100), UsedGB: ptr(95), Percent: ptr(95)},
		},
		Processes:   []views.PCProcess{{Name: "chrome.exe", Count: 3}, {Name: hostile, Count: 1}},
		ProcessesAt: &at,
		Commands: []views.CommandView{
			{ID: 12, PCID: 7, Hostname: hostile, Type: "execute", Summary: `{"command":"` + hostile + `"}`, Status: "error",
				Output: hostile, ErrorMessage: hostile, ExitCode: &exit, CreatedBy: hostile, CreatedAt: at},
			{ID: 11, PCID: 7, Hostname: hostile, Type: "message", Summary: `{"message":"hi"}`, Status: "completed", CreatedBy: "op", CreatedAt: at},
		},
		Outages: []views.PCOutage{
			{Start: end, Reason: "network_error"},
			{Start: at, End: &end, Duration: pcI64(3660), Reason: hostile},
		},
	}
}

func TestPCDetailPage(t *testing.T) {
	doc := render(t, views.PCDetailPage(hostilePC("operator")))
	checkCSP(t, doc)

	if got := text(byTestID(t, doc, "pc-hostname")); got != hostile {
		t.Errorf("hostname %q, want the text itself", got)
	}
	detail := byTestID(t, doc, "pc-detail")
	if attr(detail, "hx-ext") != "sse" || attr(detail, "sse-connect") != "/stream?pc=7" {
		t.Errorf("container: hx-ext %q sse-connect %q", attr(detail, "hx-ext"), attr(detail, "sse-connect"))
	}
	live := findAll(byTestID(t, doc, "pc-live"), func(n *html.Node) bool { return attr(n, "id") == "pc-7-live" })
	if len(live) != 1 || len(byTestIDAll(live[0], "tile-body")) != 1 {
		t.Fatal("no pc-7-live element holding the tile body")
	}
	if got := text(byTestIDAll(live[0], "tile-user")[0]); got != hostile {
		t.Errorf("live user %q", got)
	}

	specs := map[string]string{"spec-cpu": hostile, "spec-cores": "6코어 / 12스레드", "spec-os": "Windows 11 Pro 10.0.22631",
		"spec-mac": "A1:B2:C3:D4:E5:F6", "spec-machine-id": hostile, "spec-uptime": "1일 1시간", "ram-used": "6.4 GB",
		"ram-total": "16.0 GB", "ram-percent": "40%", "pc-seat": hostile + " · 2행 5열"}
	for id, want := range specs {
		if got := text(byTestID(t, doc, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := attr(byTestID(t, doc, "pc-seat"), "href"); got != "/?room=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" {
		t.Errorf("room link %q", got)
	}
	if got := attr(byTestID(t, doc, "ram-donut-arc"), "stroke-dasharray"); got != "40.0 60.0" {
		t.Errorf("RAM donut dasharray %q, want 40.0 60.0", got)
	}

	disks := byTestIDAll(doc, "disk")
	if len(disks) != 2 {
		t.Fatalf("%d disks, want 2", len(disks))
	}
	for i, want := range []struct{ mount, usage, width, class string }{
		{`C:\`, "100.0 GB / 237.0 GB (42%)", "42.2%", "fill-blue-600"},
		{hostile, "95.0 GB / 100.0 GB (95%)", "95.0%", "fill-red-600"},
	} {
		bar := byTestIDAll(disks[i], "disk-bar")[0]
		if text(byTestIDAll(disks[i], "disk-mount")[0]) != want.mount || text(byTestIDAll(disks[i], "disk-usage")[0]) != want.usage ||
			attr(bar, "width") != want.width || attr(bar, "class") != want.class {
			t.Errorf("disk %d: mount %q usage %q bar %q %q, want %+v", i, text(byTestIDAll(disks[i], "disk-mount")[0]),
				text(byTestIDAll(disks[i], "disk-usage")[0]), attr(bar, "width"), attr(bar, "class"), want)
		}
	}

	procs := byTestIDAll(doc, "process")
	if len(procs) != 2 {
		t.Fatalf("%d processes, want 2", len(procs))
	}
	if got := text(byTestIDAll(procs[0], "process-count")[0]); got != "×3" {
		t.Errorf("chrome.exe count %q, want ×3", got)
	}
	kill := byTestIDAll(procs[1], "process-kill")
	if len(kill) != 1 {
		t.Fatal("an operator has no kill button")
	}
	var vals map[string]string
	if err := json.Unmarshal([]byte(attr(kill[0], "hx-vals")), &vals); err != nil {
		t.Fatalf("hx-vals %q: %v", attr(kill[0], "hx-vals"), err)
	}
	if vals["pc_ids"] != "7" || vals["type"] != "kill_process" || vals["process_name"] != hostile || len(vals) != 3 {
		t.Errorf("kill button sends %v", vals)
	}
	if attr(kill[0], "hx-post") != "/commands" || attr(kill[0], "hx-target") != "#command-panel" ||
		!strings.Contains(attr(kill[0], "hx-confirm"), hostile) {
		t.Errorf("kill button: post %q target %q confirm %q", attr(kill[0], "hx-post"), attr(kill[0], "hx-target"), attr(kill[0], "hx-confirm"))
	}
	if text(byTestID(t, doc, "processes-at")) == "" {
		t.Error("no time of the last full report")
	}

	del := byTestID(t, doc, "pc-delete")
	if attr(del, "hx-delete") != "/pc/7" || !strings.Contains(attr(del, "hx-confirm"), hostile) {
		t.Errorf("delete button: hx-delete %q confirm %q", attr(del, "hx-delete"), attr(del, "hx-confirm"))
	}
	if got := attr(byTestID(t, doc, "pc-send-command"), "hx-get"); got != "/commands/new?pc_ids=7" {
		t.Errorf("send-command button gets %q", got)
	}
	byTestID(t, doc, "command-panel")

	rows := byTestIDAll(doc, "history-row")
	if len(rows) != 2 || attr(rows[0], "data-command-id") != "12" || attr(rows[1], "data-command-id") != "11" {
		t.Fatalf("history rows not in the given (newest first) order")
	}
	cell := byTestIDAll(rows[0], "command-live")
	if len(cell) != 1 || attr(cell[0], "id") != "cmd-12" {
		t.Fatal("a history row's status is not a live command cell")
	}
	for _, id := range []string{"command-output", "command-error"} {
		if got := text(byTestIDAll(rows[0], id)[0]); got != hostile {
			t.Errorf("%s %q, want the text itself", id, got)
		}
	}
	if got := text(byTestIDAll(rows[0], "history-by")[0]); got != hostile {
		t.Errorf("by %q", got)
	}

	outages := byTestIDAll(doc, "outage")
	if len(outages) != 2 {
		t.Fatalf("%d outages, want 2", len(outages))
	}
	if got := text(byTestIDAll(outages[0], "outage-end")[0]); got != "오프라인 중" {
		t.Errorf("an outage that lasts ends %q", got)
	}
	if got := text(byTestIDAll(outages[0], "outage-reason")[0]); got != "네트워크 끊김" {
		t.Errorf("reason %q", got)
	}
	if got := text(byTestIDAll(outages[1], "outage-duration")[0]); got != "1시간 1분" {
		t.Errorf("duration %q, want 1시간 1분", got)
	}
	if got := text(byTestIDAll(outages[1], "outage-reason")[0]); got != hostile {
		t.Errorf("unknown reason %q, want it as text", got)
	}
}

func TestPCDetailForViewer(t *testing.T) {
	doc := render(t, views.PCDetailPage(hostilePC("viewer")))
	for _, id := range []string{"process-kill", "pc-delete", "pc-send-command", "command-panel"} {
		if hasTestID(doc, id) {
			t.Errorf("a viewer sees %s", id)
		}
	}
	if n := len(byTestIDAll(doc, "process")); n != 2 {
		t.Errorf("a viewer sees %d processes, want 2", n)
	}
}

func TestPCDetailEmptyAndEnglish(t *testing.T) {
	v := views.PCDetail{Page: views.Page{Role: "operator"}, Tile: views.Tile{ID: 3, Hostname: "lab-03"}, RAMTotal: 8, RAMUsed: ptr(2)}
	doc := renderCtx(t, inEnglish, views.PCDetailBody(v))
	checkCSP(t, doc)
	for _, id := range []string{"disks-empty", "processes-empty", "commands-empty", "outages-empty"} {
		byTestID(t, doc, id)
	}
	if hasTestID(doc, "topbar") {
		t.Error("the body alone carries the page frame")
	}
	// No live RAM yet: the donut falls back to used/total.
	if got := attr(byTestID(t, doc, "ram-donut-arc"), "stroke-dasharray"); got != "25.0 75.0" {
		t.Errorf("dasharray %q, want 25.0 75.0", got)
	}
	for id, want := range map[string]string{"pc-seat": "Not placed", "spec-uptime": "–", "ram-percent": "25%"} {
		if got := text(byTestID(t, doc, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
}

func TestPCDetailSpans(t *testing.T) {
	tests := []struct {
		secs int64
		ko   string
		en   string
	}{
		{0, "0초", "0s"},
		{59, "59초", "59s"},
		{61, "1분 1초", "1m 1s"},
		{7325, "2시간 2분", "2h 2m"},
		{90061, "1일 1시간", "1d 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.en, func(t *testing.T) {
			v := views.PCDetail{Tile: views.Tile{ID: 1}, Uptime: &tt.secs}
			for lang, want := range map[views.Lang]string{views.Korean: tt.ko, views.English: tt.en} {
				doc := renderCtx(t, views.WithLang(context.Background(), lang), views.PCDetailBody(v))
				if got := text(byTestID(t, doc, "spec-uptime")); got != want {
					t.Errorf("%s: %q, want %q", lang, got, want)
				}
			}
		})
	}
}
