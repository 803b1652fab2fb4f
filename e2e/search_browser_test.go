package e2e

import (
	"fmt"

	"testing"

	"github.com/chromedp/chromedp"
)

// TestFillAndFindInBrowser drives what app.js adds in chromium: shift-click selects a range of
// unplaced PCs, one click places them in natural order, and "/" opens the PC search, focused.
func TestFillAndFindInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	tab := browser(t)
	srv := startServer(t)
	pin := srv.newPIN("multi", 600)
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 2, "cols": 2})
	for _, host := range []string{"ENG301-PC10", "ENG301-PC2", "ENG301-PC1"} {
		srv.fakePC(pin, host)
	}
	desk := tab(1280, 900)
	login(t, desk, srv.URL)

	shiftClick := `(i) => document.querySelectorAll("[data-testid=unplaced-select]")[i].dispatchEvent(new MouseEvent("click", {bubbles: true, shiftKey: %s}))`
	run(t, desk, "select a range and place it",
		chromedp.Navigate(srv.URL+"/layout?room=ENG301"),
		chromedp.WaitVisible(`[data-testid=unplaced]`),
		eval(`(`+fmt.Sprintf(shiftClick, "false")+`)(0)`),
		eval(`(`+fmt.Sprintf(shiftClick, "true")+`)(2)`),
		poll(`[...document.querySelectorAll("[data-testid=unplaced-select]")].every(b => b.checked)`),
		chromedp.Click(`[data-testid=unplaced-fill]`),
		poll(`document.querySelector("[data-testid=layout-notice]")?.textContent.includes("3대 배치")`),
	)
	seats := value(t, desk, "read the seats", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("[data-testid=layout-seat-hostname]")].map(a => a.title)`))
	if want := []string{"ENG301-PC1", "ENG301-PC2", "ENG301-PC10"}; len(seats) != 3 || seats[0] != want[0] || seats[1] != want[1] || seats[2] != want[2] {
		t.Errorf("seats %q, want %q", seats, want)
	}
	// The seats show what tells them apart, the room's shared prefix cut (views.NamePrefix).
	shown := value(t, desk, "read the seats' names", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("[data-testid=layout-seat-hostname]")].map(a => a.textContent.trim())`))
	if len(shown) != 3 || shown[0] != "PC1" || shown[2] != "PC10" {
		t.Errorf("the layout's seats show %q, want PC1, PC2, PC10", shown)
	}

	run(t, desk, `"/" opens the search, focused, and typing filters`,
		eval(`document.activeElement.blur()`),
		chromedp.KeyEvent("/"),
		chromedp.WaitVisible(`[data-testid=pcs-table]`), // after the navigation, which a poll would not survive
		poll(`location.pathname === "/pcs" && document.activeElement?.id === "pcs-search"`),
		chromedp.SendKeys(`#pcs-search`, "pc1"),
		poll(`document.querySelectorAll("[data-testid=pcs-row]").length === 2 && location.search.includes("q=pc1")`),
	)
}
