package views

import (
	"net/url"
	"strconv"
	"time"
)

// The event log's tabs.
const (
	LogOutages  = "outages"
	LogCommands = "commands"
)

// LogNoRoom is LogFilter.Room for the PCs placed in no room.
const LogNoRoom = "none"

// LogFilter is the event log's filters as the address carries them; "" is no filter.
type LogFilter struct {
	Hostname  string // one PC
	CreatedBy string // commands: one account
	Room      string // a room's id, or LogNoRoom
	From, To  string // days, YYYY-MM-DD, both included
}

// values are f's query parameters.
func (f LogFilter) values(tab string) url.Values {
	vals := url.Values{"tab": {tab}}
	for name, v := range map[string]string{"pc": f.Hostname, "by": f.CreatedBy, "room": f.Room, "from": f.From, "to": f.To} {
		if v != "" {
			vals.Set(name, v)
		}
	}
	return vals
}

// Any tells whether any filter is set.
func (f LogFilter) Any() bool { return f != LogFilter{} }

// LogURL is the address of a page of the event log: a tab, its filters and the id the page
// starts before (0: the newest).
func LogURL(tab string, f LogFilter, before int64) string {
	vals := f.values(tab)
	if before != 0 {
		vals.Set("before", strconv.FormatInt(before, 10))
	}
	return "/log?" + vals.Encode()
}

// LogExportURL is the address of a tab's CSV export with its filters.
func LogExportURL(tab string, f LogFilter) string {
	return "/log/export?" + f.values(tab).Encode()
}

// LogRoom is a room the event log can be filtered by.
type LogRoom struct {
	ID   int64
	Name string
}

// OutageRow is one offline period of a PC in the event log.
type OutageRow struct {
	PCID     int64
	Hostname string
	Start    time.Time
	End      *time.Time    // nil while the PC is still offline
	Duration time.Duration // so far, while it lasts
	Reason   string
}

// CommandSend is the commands one send created, in the command audit: one row, the PCs'
// commands within.
type CommandSend struct {
	Commands []CommandView // newest first; never empty
	Room     string        // the room of every PC, "" when they are not all in one
}

// LogView is the event log page: one tab's page of entries, newest first.
type LogView struct {
	Page
	Tab     string // LogOutages or LogCommands
	Filter  LogFilter
	Rooms   []LogRoom
	Outages []OutageRow
	Sends   []CommandSend
	Older   string // the next page's URL; "" on the last page
	Newest  string // the first page's URL; "" on the first page
}
