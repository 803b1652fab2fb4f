package handlers_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestLayoutFillPage(t *testing.T) {
	f, _ := fillFixture(t, 5) // LAB-PC1 … LAB-PC5, an empty 2×2 room ENG301
	a := f.a

	// No PC is named ENG301-…, so the form offers the unplaced PCs' most common prefix.
	doc := htmlDoc(t, a.page("/layout?room=ENG301", false).must(t, 200))
	if got := attr(byTestID(t, doc, "fill-prefix"), "value"); got != "LAB-" {
		t.Errorf("prefix %q, want LAB-", got)
	}
	if got := textOf(byTestID(t, doc, "fill-count")); !strings.Contains(got, "5") || !strings.Contains(got, "4") {
		t.Errorf("count %q, want 5 matches and 4 empty seats", got)
	}
	// The preview follows the prefix and the order: the same seats the fill then takes.
	preview := htmlDoc(t, a.page("/layout/fill/preview?room=ENG301&prefix=LAB-&order=columns", true).must(t, 200))
	var planned []string
	for _, seat := range byTestIDAll(preview, "fill-preview-seat") {
		planned = append(planned, strings.TrimSpace(strings.ReplaceAll(textOf(seat), "\u00a0", "")))
	}
	if want := []string{"LAB-PC1", "LAB-PC3", "LAB-PC2", "LAB-PC4"}; !slices.Equal(planned, want) {
		t.Errorf("preview %q, want %q", planned, want)
	}
	if res := a.page("/layout/fill/preview?room=ENG301&prefix=LAB-&order=diagonal", true); res.Status != 400 {
		t.Errorf("bad order: %d", res.Status)
	}

	vals := url.Values{"room": {"ENG301"}, "prefix": {"LAB-"}, "order": {"columns"}}
	// A plain form without the CSRF token changes nothing.
	if res := a.sendForm("POST", "/layout/fill", vals); res.Status != 403 {
		t.Fatalf("no CSRF: %d", res.Status)
	}
	viewer := f.ts.account(a, "viewer1", "viewer")
	if res := viewer.form("POST", "/layout/fill", vals, true); res.Status != 403 {
		t.Fatalf("viewer: %d", res.Status)
	}
	if v, _ := f.ts.fleet.View(f.pcs[0].PCID); v.Room != nil {
		t.Fatal("a refused fill placed PCs")
	}

	vals.Set("csrf_token", a.csrf)
	doc = htmlDoc(t, a.sendForm("POST", "/layout/fill", vals).must(t, 200))
	if got := textOf(byTestID(t, doc, "layout-notice")); !strings.Contains(got, "4대 배치, 1대는 자리가 없어 남김") {
		t.Errorf("notice %q", got)
	}
	var seats []string
	for _, s := range byTestIDAll(doc, "layout-seat") {
		seats = append(seats, attr(s, "data-row")+"-"+attr(s, "data-col")+" "+attr(byTestID(t, s, "layout-seat-hostname"), "title"))
	}
	if want := []string{"1-1 LAB-PC1", "1-2 LAB-PC3", "2-1 LAB-PC2", "2-2 LAB-PC4"}; !slices.Equal(seats, want) {
		t.Errorf("seats %v, want %v", seats, want)
	}
	if got := textsOf(doc, "unplaced-hostname"); !slices.Equal(got, []string{"LAB-PC5"}) {
		t.Errorf("unplaced %v", got)
	}

	// Unplace two, then place the chosen ones back.
	pc1, pc2 := itoa(f.pcs[0].PCID), itoa(f.pcs[1].PCID)
	doc = htmlDoc(t, a.form("POST", "/layout/unplace", url.Values{"room": {"ENG301"}, "pc_ids": {pc1, pc2}}, true).must(t, 200))
	if got := textsOf(doc, "unplaced-hostname"); !slices.Equal(got, []string{"LAB-PC1", "LAB-PC2", "LAB-PC5"}) {
		t.Errorf("after unplace: %v", got)
	}
	doc = htmlDoc(t, a.form("POST", "/layout/fill", url.Values{"room": {"ENG301"}, "pc_ids": {pc2, pc1}}, true).must(t, 200))
	if got := textsOf(doc, "unplaced-hostname"); !slices.Equal(got, []string{"LAB-PC5"}) {
		t.Errorf("after placing the selected: %v", got)
	}
	admRefused(t, a.form("POST", "/layout/fill", url.Values{"room": {"ENG301"}}, true), 400, "PC")
	admRefused(t, a.form("POST", "/layout/fill", url.Values{"room": {"ENG301"}, "pc_ids": {"x"}}, true), 400, "PC의 번호가 올바르지 않습니다")
}
