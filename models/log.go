package models

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// OutageEntry is an outage in the event log, with its PC's hostname.
type OutageEntry struct {
	Outage `bun:",extend"`

	Hostname string `bun:"hostname"`
}

// CommandEntry is a command in the audit log, with its PC's hostname.
type CommandEntry struct {
	Command `bun:",extend"`

	Hostname string `bun:"hostname"`
}

// LogQuery selects one page of the event log, newest first. Pages follow each other by id
// (Before), so entries added meanwhile neither repeat nor skip a row as offsets would.
type LogQuery struct {
	Hostname  string // only this PC's entries (hostname in any case); "" every PC
	CreatedBy string // commands only: sent by this account; "" anyone
	Before    int64  // only entries older than this id; 0 from the newest
	Limit     int
}

// filter applies q's conditions to a query whose rows have the alias alias and are joined to
// their PC as pc.
func (q LogQuery) filter(sq *bun.SelectQuery, alias string) *bun.SelectQuery {
	if q.Hostname != "" {
		sq = sq.Where("LOWER(pc.hostname) = LOWER(?)", q.Hostname)
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
	if err := q.filter(sq, "outage").Scan(ctx); err != nil {
		return nil, fmt.Errorf("outage log: %w", err)
	}
	return rows, nil
}

// CommandLog returns the commands sent to any PC: who sent what to which PC, and how it ended.
func (s *Store) CommandLog(ctx context.Context, q LogQuery) ([]CommandEntry, error) {
	var rows []CommandEntry
	sq := s.r.NewSelect().Model(&rows).ColumnExpr("command.*").ColumnExpr("pc.hostname").
		Join("JOIN pcs AS pc ON pc.id = command.pc_id")
	if q.CreatedBy != "" {
		sq = sq.Where("command.created_by = ?", q.CreatedBy)
	}
	if err := q.filter(sq, "command").Scan(ctx); err != nil {
		return nil, fmt.Errorf("command log: %w", err)
	}
	return rows, nil
}
