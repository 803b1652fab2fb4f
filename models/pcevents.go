package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The kinds of PCEvent.
const (
	EventRegistered       = "registered"             // a new PC enrolled with a PIN
	EventReenrolled       = "re-enrolled"            // a PIN re-keyed a known PC (legacy clients)
	EventReenrolRequested = "re-enrolment requested" // a new install asked for a known PC's identity
	EventReenrolApproved  = "re-enrolment approved"
	EventReenrolRefused   = "re-enrolment refused"
	EventDeleted          = "deleted"
	EventWakeSent         = "wake sent" // its Wake-on-LAN went out (models/wake.go)
	EventWoke             = "woke"      // its first heartbeat after a wake; Detail: how long it took
	EventWakeFailed       = "wake failed"
)

// PCEvent is a change of the fleet's membership, or a PC's wake, for the event log. It is written in the
// transaction of the change it records.
type PCEvent struct {
	bun.BaseModel `bun:"table:pc_events"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Kind      string    `bun:"kind"`
	PCID      int64     `bun:"pc_id"` // the PC may be gone since
	Hostname  string    `bun:"hostname"`
	MachineID string    `bun:"machine_id"`
	IPAddress string    `bun:"ip_address"`
	By        string    `bun:"actor"`  // the operator; for a registration, the PIN's id and maker
	Detail    string    `bun:"detail"` // more about it: how long a wake took
	CreatedAt time.Time `bun:"created_at"`
}

// pinBy names the PIN a registration used, never its value: "PIN #12 (admin)".
func pinBy(t *RegistrationToken) string {
	return fmt.Sprintf("PIN #%d (%s)", t.ID, t.CreatedBy)
}

// pcEvent is kind about pc, by by, at now.
func pcEvent(kind string, pc *PC, by string, now time.Time) PCEvent {
	return PCEvent{Kind: kind, PCID: pc.ID, Hostname: pc.Hostname, MachineID: pc.MachineID, IPAddress: pc.IPAddress,
		By: by, CreatedAt: now.UTC()}
}

// addPCEvent records kind about pc within tx.
func addPCEvent(ctx context.Context, tx bun.IDB, kind string, pc *PC, by string, now time.Time) error {
	ev := pcEvent(kind, pc, by, now)
	_, err := tx.NewInsert().Model(&ev).Exec(ctx)
	return err
}

// PCEventLog returns the fleet's events. The filters look at the PC as it is now: a deleted PC
// is in no room; its hostname is the one the event recorded.
func (s *Store) PCEventLog(ctx context.Context, q LogQuery) ([]PCEvent, error) {
	var rows []PCEvent
	sq := s.r.NewSelect().Model(&rows).ColumnExpr("pc_event.*").
		Join("LEFT JOIN pcs AS pc ON pc.id = pc_event.pc_id")
	if q.CreatedBy != "" {
		sq = sq.Where("pc_event.actor = ?", q.CreatedBy)
	}
	if err := q.filter(sq, "pc_event", "created_at", "pc_event.hostname").Scan(ctx); err != nil {
		return nil, fmt.Errorf("PC event log: %w", err)
	}
	return rows, nil
}
