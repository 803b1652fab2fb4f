package handlers

import (
	"cmp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// pcsOrder compares two PCs by a column of the list, ascending; ties go to the hostname.
var pcsOrder = map[string]func(a, b *models.PCView) int{
	"hostname": func(a, b *models.PCView) int { return 0 }, // the tie-break is the hostname
	"room": func(a, b *models.PCView) int {
		return cmp.Or(models.ComparePtr(a.Room, b.Room, models.CompareNatural),
			models.ComparePtr(a.SeatRow, b.SeatRow, cmp.Compare[int]), models.ComparePtr(a.SeatCol, b.SeatCol, cmp.Compare[int]))
	},
	"state": func(a, b *models.PCView) int { return cmpUnset(!a.Online, !b.Online) }, // online first
	"user": func(a, b *models.PCView) int {
		return cmp.Or(cmpUnset(deref(a.CurrentUser) == "", deref(b.CurrentUser) == ""),
			strings.Compare(strings.ToLower(deref(a.CurrentUser)), strings.ToLower(deref(b.CurrentUser))))
	},
	"ip":  func(a, b *models.PCView) int { return models.CompareNatural(a.IPAddress, b.IPAddress) },
	"cpu": func(a, b *models.PCView) int { return models.ComparePtr(a.CPUUsage, b.CPUUsage, cmp.Compare[float64]) },
	"ram": func(a, b *models.PCView) int {
		return models.ComparePtr(a.RAMUsagePercent, b.RAMUsagePercent, cmp.Compare[float64])
	},
	"last_seen": func(a, b *models.PCView) int { return a.LastSeen.Compare(b.LastSeen) },
}

// pcsStates are the state filter's values ("" : every PC).
var pcsStates = map[string]func(v *models.PCView) bool{
	"":         everyPC,
	"all":      everyPC,
	"online":   func(v *models.PCView) bool { return v.Online },
	"offline":  func(v *models.PCView) bool { return !v.Online },
	"unplaced": func(v *models.PCView) bool { return v.Room == nil },
}

// cmpUnset puts false before true: called with "is unset", what is set comes first.
func cmpUnset(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func seatOf(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// pcsPage lists every PC of the fleet, from the fleet's memory: ?q= (a part of the hostname,
// user, IP or room, any case), ?state=, ?sort= (a column) and ?dir=asc|desc.
func (s *Server) pcsPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	v := views.PCsView{Page: s.page(c, views.T(ctx, "PC 찾기", "Find PC"), "pcs"),
		Query: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Sort: cmp.Or(q.Get("sort"), "hostname"), Focus: q.Has("focus")}
	order, ok := pcsOrder[v.Sort]
	if !ok {
		return badRequest(codeInvalidField, "정렬할 열을 알 수 없습니다: %s", "unknown sort column: %s", v.Sort)
	}
	switch q.Get("dir") {
	case "", "asc":
	case "desc":
		v.Desc = true
	default:
		return badRequest(codeInvalidField, "정렬 방향(dir)은 asc나 desc여야 합니다", "dir must be asc or desc")
	}
	state, ok := pcsStates[v.State]
	if !ok {
		return badRequest(codeInvalidField, "알 수 없는 상태입니다: %s", "unknown state: %s", v.State)
	}
	needle := strings.ToLower(v.Query)
	all := s.fleet.Views(everyPC)
	v.Total = len(all)
	found := slices.DeleteFunc(all, func(p models.PCView) bool { return !state(&p) || !pcMatches(&p, needle) })
	slices.SortFunc(found, func(a, b models.PCView) int {
		c := cmp.Or(order(&a, &b), models.CompareNatural(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
		if v.Desc {
			return -c
		}
		return c
	})
	v.Rows = make([]views.PCListRow, len(found))
	for i := range found {
		v.Rows[i] = pcListRow(&found[i])
	}
	return s.renderPage(c, views.PCsPage(v), views.PCsResults(v))
}

// pcMatches tells whether the lower-case needle is in the PC's hostname, user, IP or room.
func pcMatches(p *models.PCView, needle string) bool {
	if needle == "" {
		return true
	}
	for _, field := range []string{p.Hostname, deref(p.CurrentUser), p.IPAddress, deref(p.Room)} {
		if strings.Contains(strings.ToLower(field), needle) {
			return true
		}
	}
	return false
}

func pcListRow(p *models.PCView) views.PCListRow {
	r := views.PCListRow{ID: p.ID, Hostname: p.Hostname, Room: deref(p.Room), Online: p.Online, User: deref(p.CurrentUser),
		IP: p.IPAddress, CPU: p.CPUUsage, RAM: p.RAMUsagePercent, LastSeen: p.LastSeen}
	r.Row, r.Col = seatOf(p.SeatRow), seatOf(p.SeatCol)
	return r
}
