package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// OutageEntry is an outage in the event log, with its PC's hostname.
type OutageEntry struct {
	Outage `bun:",extend"`

	Hostname string `bun:"hostname"`
}

// CommandEntry is a command in the audit log, with its PC's hostname and room.
type CommandEntry struct {
	Command `bun:",extend"`

	Hostname string `bun:"hostname"`
	RoomName string `bun:"room_name"` // "" when the PC is placed in no room
}

// NoRoom is LogQuery.RoomID for the PCs placed in no room.
const NoRoom = -1

// LogQuery selects one page of the event log, newest first. Pages follow each other by id
// (Before), so entries added meanwhile neither repeat nor skip a row as offsets would.
type LogQuery struct {
	Hostname  string // only this PC's entries (hostname in any case); "" every PC
	CreatedBy string // commands and fleet events only: by this account; "" anyone
	RoomID    int64  // only PCs of this room, NoRoom those in none; 0 any
	// From and To bound the entries' time: From <= t < To; a zero bound is open.
	From, To time.Time
	Before   int64 // only entries older than this id; 0 from the newest
	Limit    int
}

// filter applies q's conditions to a query whose rows have the alias alias, their time in
// column at, their hostname in column host, and are joined to their PC as pc.
func (q LogQuery) filter(sq *bun.SelectQuery, alias, at, host string) *bun.SelectQuery {
	if q.Hostname != "" {
		sq = sq.Where("LOWER(?) = LOWER(?)", bun.Safe(host), q.Hostname)
	}
	switch {
	case q.RoomID == NoRoom:
		sq = sq.Where("pc.room_id IS NULL")
	case q.RoomID != 0:
		sq = sq.Where("pc.room_id = ?", q.RoomID)
	}
	// Times are stored in UTC; compared in UTC too, they order as the instants do.
	if !q.From.IsZero() {
		sq = sq.Where("?.? >= ?", bun.Ident(alias), bun.Ident(at), q.From.UTC())
	}
	if !q.To.IsZero() {
		sq = sq.Where("?.? < ?", bun.Ident(alias), bun.Ident(at), q.To.UTC())
	}
	if q.Before > 0 {
		sq = sq.Where("?.id < ?", bun.Ident(alias), q.Before)
	}
	return sq.OrderExpr("?.id DESC", bun.Ident(alias)).Limit(int64(q.Limit))
}

// OutageLog returns the online/offline history across every PC.
func (s *Store) OutageLog(ctx context.Context, q LogQuery) ([]OutageEntry, error) {
	var rows []OutageEntry
	sq := s.r.NewSelect().Model(&rows).ColumnExpr("outage.*").ColumnExpr("pc.hostname").
		Join("JOIN pcs AS pc ON pc.id = outage.pc_id")
	if err := q.filter(sq, "outage", "started_at", "pc.hostname").Scan(ctx); err != nil {
		return nil, fmt.Errorf("outage log: %w", err)
	}
	return rows, nil
}

// CommandLog returns the commands sent to any PC: who sent what to which PC, and how it ended.
func (s *Store) CommandLog(ctx context.Context, q LogQuery) ([]CommandEntry, error) {
	var rows []CommandEntry
	sq := s.r.NewSelect().Model(&rows).ColumnExpr("command.*").ColumnExpr("pc.hostname").
		ColumnExpr("COALESCE(room.name, '') AS room_name").
		Join("JOIN pcs AS pc ON pc.id = command.pc_id").Join("LEFT JOIN rooms AS room ON room.id = pc.room_id")
	if q.CreatedBy != "" {
		sq = sq.Where("command.created_by = ?", q.CreatedBy)
	}
	if err := q.filter(sq, "command", "created_at", "pc.hostname").Scan(ctx); err != nil {
		return nil, fmt.Errorf("command log: %w", err)
	}
	return rows, nil
}

// sameSend tells whether two commands were created by one send: EnqueueCommands, the only
// writer of commands (models/commands.go), gives them one time, and a send has one type,
// account and set of parameters. Secrets leave a command's parameters when it is delivered, so
// the parameters are compared without them.
func sameSend(a, b *Command) bool {
	return a.CreatedAt.Equal(b.CreatedAt) && a.CreatedBy == b.CreatedBy && a.Type == b.Type &&
		StripSecrets(a.Parameters) == StripSecrets(b.Parameters)
}

// CommandSends returns a page of the command log grouped by send, newest first, and whether
// older commands follow. A page ends with a whole send: it holds q.Limit commands or more when
// the last send goes on past them, so a send is never split across pages. One send's commands
// have adjacent ids, as EnqueueCommands inserts them in one statement.
func (s *Store) CommandSends(ctx context.Context, q LogQuery) (sends [][]CommandEntry, more bool, err error) {
	page := q
	page.Limit = q.Limit + 1
	rows, err := s.CommandLog(ctx, page)
	if err != nil {
		return nil, false, err
	}
	more = len(rows) > q.Limit
	rows = rows[:min(len(rows), q.Limit)]
	for more {
		last := &rows[len(rows)-1]
		page.Before = last.ID
		next, err := s.CommandLog(ctx, page)
		if err != nil {
			return nil, false, err
		}
		n := 0
		for n < len(next) && sameSend(&next[n].Command, &last.Command) {
			n++
		}
		rows = append(rows, next[:n]...)
		if n < len(next) || len(next) < page.Limit {
			more = n < len(next)
			break
		}
		// the whole batch belonged to the send: read on for its end
	}
	for i := range rows {
		if i > 0 && sameSend(&rows[i].Command, &rows[i-1].Command) {
			sends[len(sends)-1] = append(sends[len(sends)-1], rows[i])
		} else {
			sends = append(sends, []CommandEntry{rows[i]})
		}
	}
	return sends, more, nil
}
