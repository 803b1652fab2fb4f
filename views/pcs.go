package views

import (
	"net/url"
	"strconv"
	"time"
)

// PCListRow is one PC of the fleet-wide list.
type PCListRow struct {
	ID       int64
	Hostname string
	Room     string // "" : not placed
	Row, Col int
	Online   bool
	User     string
	IP       string
	CPU, RAM *float64
	LastSeen time.Time // zero: never seen
}

// PCsView is the fleet-wide PC list: the search, the state filter, the sort and the rows found.
type PCsView struct {
	Page
	Query string
	State string // "", online, offline or unplaced
	Sort  string // a PCsColumns key
	Desc  bool
	Total int // PCs in the fleet, before the filter
	Rows  []PCListRow
	Focus bool // the search box takes the focus (the / shortcut from another page)
}

// PCsColumn is a sortable column of the list.
type PCsColumn struct {
	Key, KO, EN string
}

// PCsColumns are the list's columns, in order; their keys are the ?sort= values.
var PCsColumns = []PCsColumn{
	{"hostname", "호스트 이름", "Hostname"},
	{"room", "강의실·자리", "Room and seat"},
	{"state", "상태", "State"},
	{"user", "사용자", "User"},
	{"ip", "IP", "IP"},
	{"cpu", "CPU", "CPU"},
	{"ram", "RAM", "RAM"},
	{"last_seen", "마지막 연결", "Last seen"},
}

// pcsURL is the list with v's search and filter, sorted by key (desc when desc).
func (v PCsView) pcsURL(key string, desc bool) string {
	q := url.Values{"q": {v.Query}, "state": {v.State}, "sort": {key}, "dir": {"asc"}}
	if desc {
		q.Set("dir", "desc")
	}
	return "/pcs?" + q.Encode()
}

// headerURL is the link of a column's header: ascending, or descending when already ascending.
func (v PCsView) headerURL(key string) string {
	return v.pcsURL(key, v.Sort == key && !v.Desc)
}

// ariaSort is a column's aria-sort: the sorted column says its direction, the others none.
func (v PCsView) ariaSort(key string) string {
	switch {
	case v.Sort != key:
		return "none"
	case v.Desc:
		return "descending"
	}
	return "ascending"
}

func (v PCsView) dir() string {
	if v.Desc {
		return "desc"
	}
	return "asc"
}

func (r PCListRow) seat() string {
	if r.Room == "" {
		return ""
	}
	if r.Row == 0 {
		return r.Room
	}
	return r.Room + " " + seatLabel(r.Row, r.Col)
}

func pcURL(id int64) string { return "/pc/" + strconv.FormatInt(id, 10) }
