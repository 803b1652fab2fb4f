package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// fileReenrolment records e's caller as asking to take over PC old; an earlier request of the
// PC, pending or refused, gives way to it (one row per PC, so requests cannot pile up).
func fileReenrolment(ctx context.Context, tx bun.Tx, old *PC, e Enrol, now time.Time) error {
	if _, err := tx.NewDelete().Model((*Reenrolment)(nil)).Where("pc_id = ?", old.ID).Exec(ctx); err != nil {
		return err
	}
	_, err := tx.NewInsert().Model(&Reenrolment{PCID: old.ID, TokenHash: e.PC.AgentTokenHash, Hostname: e.PC.Hostname,
		MACAddress: e.PC.MACAddress, IPAddress: e.PC.IPAddress, FromAddr: e.From, CreatedAt: now}).Exec(ctx)
	return err
}

// ReenrolmentByToken returns the request whose pending token hashes to tokenHash.
func (s *Store) ReenrolmentByToken(ctx context.Context, tokenHash string) (*Reenrolment, error) {
	r := new(Reenrolment)
	if err := s.r.NewSelect().Model(r).Where("token_hash = ?", tokenHash).Scan(ctx); err != nil {
		return nil, notFound("re-enrolment", err)
	}
	return r, nil
}

// ReenrolmentRow is a pending request beside the PC it asks to take over.
type ReenrolmentRow struct {
	Reenrolment `bun:",extend"`

	OldHostname string     `bun:"old_hostname"`
	OldMAC      string     `bun:"old_mac"`
	OldIP       string     `bun:"old_ip"`
	OldLastSeen *time.Time `bun:"old_last_seen"`
}

// Reenrolments lists the requests waiting for an operator, oldest first.
func (s *Store) Reenrolments(ctx context.Context) ([]ReenrolmentRow, error) {
	var rows []ReenrolmentRow
	err := s.r.NewSelect().Model(&rows).ColumnExpr("reenrolment.*").
		ColumnExpr("pc.hostname AS old_hostname, pc.mac_address AS old_mac, pc.ip_address AS old_ip, pc.last_seen AS old_last_seen").
		Join("JOIN pcs AS pc ON pc.id = reenrolment.pc_id").
		Where("reenrolment.refused_at IS NULL").Order("reenrolment.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("re-enrolments: %w", err)
	}
	return rows, nil
}

// ApproveReenrolment gives the PC the request's token, name and addresses, and removes the
// request. The PC's old agent is refused from then on.
func (s *Store) ApproveReenrolment(ctx context.Context, id int64, by string, now time.Time) (*Reenrolment, error) {
	r := new(Reenrolment)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(r).Where("id = ? AND refused_at IS NULL", id).Scan(ctx); err != nil {
			return notFound(fmt.Sprintf("re-enrolment %d", id), err)
		}
		old := new(PC)
		if err := tx.NewSelect().Model(old).Where("id = ?", r.PCID).Scan(ctx); err != nil {
			return err
		}
		ip := old.IPAddress
		if r.IPAddress != "" {
			ip = r.IPAddress
		}
		if _, err := tx.NewUpdate().Model((*PC)(nil)).Where("id = ?", r.PCID).
			Set("agent_token_hash = ?, token_used = ?, hostname = ?, mac_address = ?, ip_address = ?, updated_at = ?",
				r.TokenHash, true, r.Hostname, r.MACAddress, ip, now.UTC()).Exec(ctx); err != nil {
			return err
		}
		if ip != old.IPAddress {
			if err := insertIPChange(ctx, tx, r.PCID, ip, now.UTC()); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model(r).WherePK().Exec(ctx); err != nil {
			return err
		}
		return addPCEvent(ctx, tx, EventReenrolApproved, &PC{ID: r.PCID, Hostname: r.Hostname, MachineID: old.MachineID, IPAddress: ip}, by, now)
	})
	if err != nil {
		return nil, fmt.Errorf("approve re-enrolment %d: %w", id, err)
	}
	return r, nil
}

// RefuseReenrolment marks the request refused; it is kept so the install asking can be told.
func (s *Store) RefuseReenrolment(ctx context.Context, id int64, by string, now time.Time) error {
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r := new(Reenrolment)
		if err := tx.NewSelect().Model(r).Where("id = ? AND refused_at IS NULL", id).Scan(ctx); err != nil {
			return notFound("lookup", err)
		}
		if _, err := tx.NewUpdate().Model(r).Set("refused_at = ?, refused_by = ?", now.UTC(), by).WherePK().Exec(ctx); err != nil {
			return err
		}
		var machineID string
		if err := tx.NewSelect().Model((*PC)(nil)).Column("machine_id").Where("id = ?", r.PCID).Scan(ctx, &machineID); err != nil {
			return err
		}
		return addPCEvent(ctx, tx, EventReenrolRefused, &PC{ID: r.PCID, Hostname: r.Hostname, MachineID: machineID, IPAddress: r.IPAddress}, by, now)
	})
	if err != nil {
		return fmt.Errorf("refuse re-enrolment %d: %w", id, err)
	}
	return nil
}

// MarkTokenUsed records that PC id's agent called with its token: from now on it is served only
// with it, and a PIN cannot re-key it.
func (s *Store) MarkTokenUsed(ctx context.Context, id int64) error {
	return s.updatePC(ctx, id, func(q *bun.UpdateQuery) *bun.UpdateQuery { return q.Set("token_used = ?", true) })
}
