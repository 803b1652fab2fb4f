package handlers_test

import (
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/models"
)

// hostileHost is a hostname a student can give a PC: a spreadsheet formula.
const hostileHost = `=cmd|' /C calc'!A0`

// logFixture is a fleet with a log: M1 and M2 in room "강의실 301" shut down by one send, an
// unplaced PC with a hostile name sent a message.
type logFixture struct {
	ts            *testServer
	viewer        *admin
	roomID        string
	m1, m2, stray *agent
}

func newLogFixture(t *testing.T, opts ...serverOption) *logFixture {
	ts := newTestServer(t, opts...)
	owner := ts.admin()
	f := &logFixture{ts: ts, viewer: ts.account(owner, "watcher", models.RoleViewer)}
	pin := ts.pin(owner, models.PINMulti)
	f.m1, f.m2 = ts.register(pin, "M1"), ts.register(pin, "M2")
	f.stray = ts.registerWith(map[string]any{"machine_id": "M3", "pin": pin, "hostname": hostileHost,
		"mac_address": "A1:B2:C3:D4:E5:F7", "ip_address": "192.168.1.103"})
	owner.do("POST", "/api/admin/rooms", map[string]any{"name": "강의실 301", "rows": 2, "cols": 2}).must(t, 200)
	for i, pc := range []*agent{f.m1, f.m2} {
		owner.do("PUT", "/api/admin/pc/"+itoa(pc.PCID)+"/seat", map[string]any{"room": "강의실 301", "row": 1, "col": i + 1}).must(t, 200)
	}
	room, err := ts.store.RoomByName(context.Background(), "강의실 301")
	if err != nil {
		t.Fatal(err)
	}
	f.roomID = strconv.FormatInt(room.ID, 10)
	f.m1.poll(nil).must(t, 200) // on: a shutdown is not queued for a PC that is off
	f.m2.poll(nil).must(t, 200)
	owner.do("POST", "/api/admin/commands/bulk", map[string]any{"pc_ids": []int64{f.m1.PCID, f.m2.PCID}, "type": "shutdown",
		"parameters": map[string]any{"delay": 60, "message": "점검"}}).must(t, 200)
	owner.do("POST", "/api/admin/pc/"+itoa(f.stray.PCID)+"/command", map[string]any{"type": "message",
		"parameters": map[string]any{"message": "안녕"}}).must(t, 200)
	return f
}

func TestLogPageFilters(t *testing.T) {
	f := newLogFixture(t)
	today := time.Now().Format(time.DateOnly)
	tomorrow := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)

	t.Run("a send to a room is one row", func(t *testing.T) {
		doc := htmlDoc(t, f.viewer.htmx("GET", "/log?tab=commands&room="+f.roomID).must(t, 200))
		sends := byTestIDAll(doc, "audit-send")
		if len(sends) != 1 || attr(sends[0], "data-count") != "2" {
			t.Fatalf("%d sends, want one of 2 PCs", len(sends))
		}
		if got := textOf(byTestID(t, sends[0], "audit-send-summary")); got != "종료 · 강의실 강의실 301 · PC 2대 · 완료 0 · 실패 0 · 대기 2" {
			t.Errorf("summary %q", got)
		}
		if got := textOf(byTestID(t, sends[0], "audit-params")); got != "지연(초): 60, 알림 메시지: “점검”" {
			t.Errorf("parameters %q", got)
		}
		if got := textsOf(sends[0], "audit-pc"); !slices.Equal(got, []string{"LAB-M2", "LAB-M1"}) {
			t.Errorf("PCs %v", got)
		}
		for _, cell := range byTestIDAll(sends[0], "command-live") {
			if attr(cell, "id") != "cmd-"+attr(cell, "data-command-id") {
				t.Errorf("live cell %v", cell.Attr)
			}
		}
	})

	filters := []struct {
		query string
		pcs   []string // audit-pc of the page, in order
	}{
		{"tab=commands", []string{hostileHost, "LAB-M2", "LAB-M1"}},
		{"tab=commands&room=none", []string{hostileHost}},
		{"tab=commands&room=ROOM&pc=lab-m1", []string{"LAB-M1"}},
		{"tab=commands&from=" + today + "&to=" + today, []string{hostileHost, "LAB-M2", "LAB-M1"}},
		{"tab=commands&from=" + tomorrow, nil},
		{"tab=commands&to=" + today + "&room=none&by=admin", []string{hostileHost}},
		{"tab=commands&room=none&by=nobody", nil},
	}
	for _, tt := range filters {
		t.Run(tt.query, func(t *testing.T) {
			query := strings.ReplaceAll(tt.query, "ROOM", f.roomID)
			doc := htmlDoc(t, f.viewer.htmx("GET", "/log?"+query).must(t, 200))
			if got := textsOf(doc, "audit-pc"); !slices.Equal(got, tt.pcs) {
				t.Errorf("PCs %v, want %v", got, tt.pcs)
			}
			// The other tabs and the export carry the same filters.
			want, _ := url.ParseQuery(query)
			for _, id := range []string{"log-tab-outages", "log-tab-registrations", "log-export"} {
				u, _ := url.Parse(attr(byTestID(t, doc, id), "href"))
				got := u.Query()
				got.Del("tab")
				want.Del("tab")
				if got.Encode() != want.Encode() {
					t.Errorf("%s carries %v, want %v", id, got, want)
				}
			}
		})
	}

	t.Run("registrations", func(t *testing.T) {
		doc := htmlDoc(t, f.viewer.do("GET", "/log?tab=registrations", nil).must(t, 200))
		if got := textsOf(doc, "pc-event-pc"); !slices.Equal(got, []string{hostileHost, "LAB-M2", "LAB-M1"}) {
			t.Fatalf("registrations of %v", got)
		}
		for _, e := range byTestIDAll(doc, "pc-event") {
			if attr(e, "data-kind") != models.EventRegistered || !strings.HasPrefix(textOf(byTestID(t, e, "pc-event-by")), "PIN #") {
				t.Errorf("event %v by %q", e.Attr, textOf(byTestID(t, e, "pc-event-by")))
			}
		}
		doc = htmlDoc(t, f.viewer.htmx("GET", "/log?tab=registrations&room="+f.roomID).must(t, 200))
		if got := textsOf(doc, "pc-event-pc"); !slices.Equal(got, []string{"LAB-M2", "LAB-M1"}) {
			t.Errorf("registrations in the room: %v", got)
		}
	})

	bad := []struct{ query, ko, en string }{
		{"from=2026-13-40", "시작 날짜는 YYYY-MM-DD", "from must be a date"},
		{"to=yesterday", "끝 날짜는 YYYY-MM-DD", "to must be a date"},
		{"from=2026-03-02&to=2026-03-01", "끝 날짜가 시작 날짜보다 앞섭니다", "to is before from"},
		{"room=99999", "없는 강의실", "no such room"},
		{"room=abc", "없는 강의실", "no such room"},
		{"tab=all", "기록 종류", "tab must be"},
	}
	for _, b := range bad {
		for _, path := range []string{"/log?", "/log/export?"} {
			t.Run("bad "+path+b.query, func(t *testing.T) {
				// Each page language gets the error in its own words, and only those.
				ko := f.viewer.do("GET", path+b.query, nil)
				en := f.ts.do(f.viewer.client, "GET", path+b.query, nil, "Accept-Language", "en")
				if ko.Status != 400 || !strings.Contains(ko.Raw, b.ko) || strings.Contains(ko.Raw, b.en) {
					t.Errorf("Korean: got %d, want 400 saying %q, not %q: %.300s", ko.Status, b.ko, b.en, ko.Raw)
				}
				if en.Status != 400 || !strings.Contains(en.Raw, b.en) || strings.Contains(en.Raw, b.ko) {
					t.Errorf("English: got %d, want 400 saying %q, not %q: %.300s", en.Status, b.en, b.ko, en.Raw)
				}
			})
		}
	}
}

// readCSV checks an export's headers and byte order mark and returns its records.
func readCSV(t *testing.T, r response, tab string) [][]string {
	t.Helper()
	r.must(t, 200)
	if got := r.Header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	want := "attachment; filename=wcms-log-" + tab + "-" + time.Now().Format(time.DateOnly) + ".csv"
	if got := r.Header.Get("Content-Disposition"); got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	body, ok := strings.CutPrefix(r.Raw, "\uFEFF")
	if !ok {
		t.Fatal("no byte order mark: Excel would read Hangul as another encoding")
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

func TestLogExport(t *testing.T) {
	f := newLogFixture(t, func(h *handlers.Config, _ *fleet.Config) { h.MaxExportRows = 2 })

	t.Run("commands, cut at the cap", func(t *testing.T) {
		records := readCSV(t, f.viewer.do("GET", "/log/export?tab=commands", nil), "commands")
		if len(records) != 4 || records[0][0] != "id" || records[0][4] != "hostname" {
			t.Fatalf("records %q, want the header, 2 rows and the cut line", records)
		}
		if last := records[3][0]; !strings.Contains(last, "2행까지만") || !strings.Contains(last, "Cut at 2 rows") {
			t.Errorf("last line %q does not say the file was cut", last)
		}
		if _, err := time.Parse(time.RFC3339, records[1][1]); err != nil {
			t.Errorf("created_at %q is not RFC 3339", records[1][1])
		}
		if records[2][7] != "지연(초): 60, 알림 메시지: “점검”" || records[2][5] != "강의실 301" || records[2][4] != "LAB-M2" {
			t.Errorf("row %q", records[2])
		}
	})
	t.Run("commands, filtered, hostile hostname", func(t *testing.T) {
		records := readCSV(t, f.viewer.do("GET", "/log/export?tab=commands&room=none", nil), "commands")
		if len(records) != 2 {
			t.Fatalf("records %q, want the header and the unplaced PC's command", records)
		}
		if got := records[1][4]; got != "'"+hostileHost {
			t.Errorf("hostname %q: a spreadsheet would run it as a formula", got)
		}
		if got := records[1][7]; got != "메시지: “안녕”, 표시 시간(초): 10" {
			t.Errorf("parameters %q", got)
		}
	})
	t.Run("registrations of a room", func(t *testing.T) {
		records := readCSV(t, f.viewer.do("GET", "/log/export?tab=registrations&room="+f.roomID, nil), "registrations")
		if len(records) != 3 || records[1][2] != models.EventRegistered || records[1][4] != "LAB-M2" || records[2][4] != "LAB-M1" {
			t.Fatalf("records %q", records)
		}
	})
	t.Run("outages", func(t *testing.T) {
		records := readCSV(t, f.viewer.do("GET", "/log/export", nil), "outages")
		if len(records) != 1 || records[0][0] != "id" {
			t.Fatalf("records %q, want the header alone", records)
		}
	})
}

// An export longer than one batch of the store's reads comes whole, each row once, newest first.
func TestLogExportAcrossBatches(t *testing.T) {
	ts := newTestServer(t)
	owner := ts.admin()
	pc := ts.register(ts.pin(owner, models.PINMulti), "M1")
	const n = 2500 // over two batches
	cmds := make([]models.Command, n)
	for i := range cmds {
		cmds[i] = models.Command{PCID: pc.PCID, Type: "message", Parameters: `{"message":"` + strconv.Itoa(i) + `"}`,
			Priority: 5, Timeout: 600, CreatedBy: "bulk"}
	}
	if err := ts.store.EnqueueCommands(context.Background(), cmds, time.Now()); err != nil {
		t.Fatal(err)
	}
	records := readCSV(t, owner.do("GET", "/log/export?tab=commands", nil), "commands")
	if len(records) != n+1 {
		t.Fatalf("%d records, want the header and %d rows", len(records), n)
	}
	for i, r := range records[1:] {
		if want := strconv.FormatInt(cmds[n-1-i].ID, 10); r[0] != want {
			t.Fatalf("row %d is command %s, want %s", i, r[0], want)
		}
	}
}
