package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// A room's timetable through the API and the page: entries are checked (bad ones change
// nothing), the preview says what each PC's night will be as the PCs are now, an exception
// removes a day, and the event log shows a run PC by PC.
func TestTimetablePageAndAPI(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(_ *handlers.Config, f *fleet.Config) { f.Location = seoul })
	a := ts.admin()
	viewer := ts.account(a, "watcher", "viewer")
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 1, "cols": 2}).must(t, 200)
	pin := ts.pin(a, "multi")
	for i, m := range []string{"KIM", "FREE"} {
		ag := ts.register(pin, m)
		user := map[string]any{"KIM": "kim", "FREE": ""}[m]
		ag.do("POST", "/api/client/heartbeat", map[string]any{"machine_id": m, "full_update": true,
			"system_info": map[string]any{"current_user": user}}).must(t, 200)
		a.do("PUT", "/api/admin/pc/"+itoa(ag.PCID)+"/seat", map[string]any{"room": "Lab 1", "row": 1, "col": i + 1}).must(t, 200)
	}
	base := "/api/admin/room/" + url.PathEscape("Lab 1") + "/timetable"
	// Two hours from now, to the minute, and its final an hour later: inside the preview's day.
	at := time.Now().In(seoul).Add(2 * time.Hour).Truncate(time.Minute)
	entry := map[string]any{"days": "mon-sun", "action": "shutdown", "at": at.Format("15:04"), "warn_minutes": 10,
		"retry_minutes": 30, "final_at": at.Add(time.Hour).Format("15:04"), "force": true}

	for name, bad := range map[string]map[string]any{
		"unknown days":            {"days": "xyz"},
		"no time":                 {"at": "25:00"},
		"unknown action":          {"action": "explode"},
		"warning on a wake":       {"action": "wake", "retry_minutes": 0, "force": false},
		"message with no warning": {"warn_minutes": 0, "message": "bye"},
		"endless message":         {"message": strings.Repeat("가", 5000)},
		"a retry every second":    {"retry_minutes": 0, "final_at": "", "warn_minutes": 999},
	} {
		body := map[string]any{}
		for k, v := range entry {
			body[k] = v
		}
		for k, v := range bad {
			body[k] = v
		}
		if res := a.do("POST", base+"/entries", body); res.Status != 400 {
			t.Errorf("%s: %d %s", name, res.Status, res.Raw)
		}
	}
	checkEnvelope(t, a.do("POST", "/api/admin/room/nowhere/timetable/entries", entry), 404, "NOT_FOUND")
	if res := viewer.do("POST", base+"/entries", entry); res.Status != 403 {
		t.Errorf("a viewer added an entry: %d", res.Status)
	}
	if got := a.do("GET", base, nil).must(t, 200).get("entries").([]any); len(got) != 0 {
		t.Fatalf("refused entries were stored: %v", got)
	}

	a.do("POST", base+"/entries", entry).must(t, 200)
	res := a.do("GET", base, nil).must(t, 200)
	if res.get("time_zone") != "Asia/Seoul" {
		t.Errorf("time zone %v", res.get("time_zone"))
	}
	outcomes := map[string]map[string]string{} // step kind → machine → outcome
	for _, st := range res.get("preview").([]any) {
		st := st.(map[string]any)
		kind := st["kind"].(string)
		if outcomes[kind] == nil {
			outcomes[kind] = map[string]string{}
		}
		for _, o := range st["outcomes"].([]any) {
			o := o.(map[string]any)
			outcomes[kind][o["hostname"].(string)] = o["outcome"].(string)
		}
	}
	want := map[string]map[string]string{ // the harness names PC M "LAB-M"
		"warn":     {"LAB-KIM": fleet.OutcomeWarned, "LAB-FREE": fleet.OutcomeNobody},
		"shutdown": {"LAB-KIM": fleet.OutcomeSkipped, "LAB-FREE": fleet.OutcomeShutDown},
		// FREE, shut down at the first attempt, is off for the rest of the night.
		"retry": {"LAB-KIM": fleet.OutcomeSkipped, "LAB-FREE": fleet.OutcomeOff},
		"final": {"LAB-KIM": fleet.OutcomeForced, "LAB-FREE": fleet.OutcomeOff},
	}
	for kind, w := range want {
		for m, o := range w {
			if outcomes[kind][m] != o {
				t.Errorf("preview %s %s: %q, want %q (%s)", kind, m, outcomes[kind][m], o, res.Raw)
			}
		}
	}

	// The page: the same plan PC by PC, for a viewer too.
	doc := parseHTML(t, viewer.page("/timetable?room="+url.QueryEscape("Lab 1"), false).must(t, 200).Raw)
	plans := map[string][]string{}
	for _, pc := range byTestIDAll(doc, "plan-pc") {
		for _, it := range byTestIDAll(pc, "plan-item") {
			plans[attr(pc, "data-hostnames")] = append(plans[attr(pc, "data-hostnames")], attr(it, "data-outcome"))
		}
	}
	// FREE is off once shut down: its retries and final find it off.
	if strings.Join(plans["LAB-KIM"], ",") != "warned,skipped,forced" || strings.Join(plans["LAB-FREE"], ",") != "nobody,shut down,off" {
		t.Errorf("the page's plan: %v", plans)
	}
	if len(byTestIDAll(doc, "entry-form")) != 0 {
		t.Error("a viewer is offered the entry form")
	}

	// An exam day on the plan day, added from the page's form: nothing to shut down that day.
	r := a.form("POST", "/timetable/exceptions?room="+url.QueryEscape("Lab 1"), url.Values{"date": {at.Format(time.DateOnly)},
		"skip": {"shutdown"}, "note": {"기말고사"}}, true).must(t, 200)
	if got := byTestIDAll(parseHTML(t, r.Raw), "plan-step"); len(got) != 0 {
		t.Errorf("the exam day still plans %d steps", len(got))
	}
	a.form("POST", "/timetable/exceptions?room="+url.QueryEscape("Lab 1"), url.Values{"date": {"2026-02-30"}, "skip": {"all"}}, true).must(t, 400)

	// The log shows a run PC by PC.
	room, err := ts.store.RoomByName(context.Background(), "Lab 1")
	if err != nil {
		t.Fatal(err)
	}
	run := models.TimetableRun{StepKey: "1/2026-12-07/shutdown", RoomID: room.ID, RoomName: "Lab 1", EntryID: 1, Kind: "shutdown",
		PlannedAt: time.Now(), Outcomes: `[{"pc_id":1,"hostname":"KIM","outcome":"skipped","user":"kim"},{"pc_id":2,"hostname":"FREE","outcome":"shut down"}]`}
	if err := ts.store.RunTimetableStep(context.Background(), &run, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	logDoc := parseHTML(t, viewer.page("/log?tab="+views.LogRuns, false).must(t, 200).Raw)
	if rows := byTestIDAll(logDoc, "logged-run-pc"); len(rows) != 2 || attr(rows[0], "data-outcome") != "skipped" ||
		!strings.Contains(textOf(byTestID(t, logDoc, "logged-run-summary")), "Lab 1") {
		t.Errorf("the timetable log: %d PCs", len(rows))
	}

	// Deleting the entry from the page empties the plan.
	id := int64(a.do("GET", base, nil).must(t, 200).get("entries").([]any)[0].(map[string]any)["id"].(float64))
	r = a.htmx("DELETE", "/timetable/entries/"+itoa(id)+"?room="+url.QueryEscape("Lab 1")).must(t, 200)
	if got := byTestIDAll(parseHTML(t, r.Raw), "timetable-entry"); len(got) != 0 {
		t.Errorf("%d entries after the delete", len(got))
	}

	// The scheduler reads every entry every few seconds: a room holds at most 50.
	for range models.MaxTimetableEntries {
		a.do("POST", base+"/entries", entry).must(t, 200)
	}
	checkEnvelope(t, a.do("POST", base+"/entries", entry), 409, "CONFLICT")
}
