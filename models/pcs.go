package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Enrolment says how a registration with a valid PIN ended.
type Enrolment int

const (
	// Enrolled: a new PC.
	Enrolled Enrolment = iota + 1
	// Reenrolled: a known PC that never used its token, re-keyed by the PIN (legacy clients).
	Reenrolled
	// ApprovalNeeded: a known PC; the caller's request now waits for an operator (Reenrolment).
	ApprovalNeeded
)

// Enrol is a registration with a PIN.
type Enrol struct {
	PINHash string
	// PC is what the agent reported; AgentTokenHash is the hash of the token it will get.
	PC    *PC
	Disks []Disk // fixed disks; when given they replace the stored set
	From  string // the caller's address
	// PINRekeysTokenless lets a PIN re-key a known PC whose agent never used its token: the
	// published clients re-register that way. A PC that used its token is never re-keyed by a PIN.
	PINRekeysTokenless bool
}

// Register spends one use of the PIN, then creates the PC, or for a known machine_id either
// re-keys it (see Enrol.PINRekeysTokenless) or files a re-enrolment request for an operator,
// replacing an earlier one of that PC. e.PC gets the PC's id either way.
func (s *Store) Register(ctx context.Context, e Enrol, now time.Time) (Enrolment, error) {
	now = now.UTC()
	pc := e.PC
	var out Enrolment
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t := new(RegistrationToken)
		err := tx.NewSelect().Model(t).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", e.PINHash, now).
			Order("id DESC").Limit(1).Scan(ctx)
		if err != nil {
			if noRows(err) {
				return ErrPINInvalid
			}
			return err
		}
		if !t.Live(now) {
			return ErrPINUsed
		}
		if _, err := tx.NewUpdate().Model(t).Set("used_count = used_count + 1").WherePK().Exec(ctx); err != nil {
			return err
		}

		old := new(PC)
		err = tx.NewSelect().Model(old).Where("machine_id = ?", pc.MachineID).Scan(ctx)
		switch {
		case err == nil && (old.TokenUsed || !e.PINRekeysTokenless):
			out, pc.ID = ApprovalNeeded, old.ID
			if err := addPCEvent(ctx, tx, EventReenrolRequested, pc, pinBy(t), now); err != nil {
				return err
			}
			return fileReenrolment(ctx, tx, old, e, now)
		case err == nil:
			out = Reenrolled
			if err := updateEnrolled(ctx, tx, old, pc, e.Disks, now); err != nil {
				return err
			}
			return addPCEvent(ctx, tx, EventReenrolled, pc, pinBy(t), now)
		case noRows(err):
			out = Enrolled
			pc.IsVerified, pc.CreatedAt, pc.UpdatedAt = true, now, now
			if _, err := tx.NewInsert().Model(pc).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewInsert().Model(&PCState{PCID: pc.ID}).Exec(ctx); err != nil {
				return err
			}
			if err := addPCEvent(ctx, tx, EventRegistered, pc, pinBy(t), now); err != nil {
				return err
			}
			if pc.IPAddress != "" {
				if err := insertIPChange(ctx, tx, pc.ID, pc.IPAddress, now); err != nil {
					return err
				}
			}
			return replaceDisks(ctx, tx, pc.ID, e.Disks, now)
		default:
			return err
		}
	})
	if err != nil {
		if errors.Is(err, ErrPINInvalid) || errors.Is(err, ErrPINUsed) {
			return 0, err
		}
		return 0, fmt.Errorf("register %s: %w", pc.MachineID, err)
	}
	return out, nil
}

// Rekey re-registers PC pc.ID, whose agent proved its current token: what it reports replaces
// the stored facts, pc.AgentTokenHash becomes its token, and a pending re-enrolment request of
// the PC is dropped (the PC's own agent is alive and well).
func (s *Store) Rekey(ctx context.Context, pc *PC, disks []Disk, now time.Time) error {
	now = now.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		old := new(PC)
		if err := tx.NewSelect().Model(old).Where("id = ?", pc.ID).Scan(ctx); err != nil {
			return notFound("PC", err)
		}
		pc.TokenUsed = true
		if err := updateEnrolled(ctx, tx, old, pc, disks, now); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model((*Reenrolment)(nil)).Where("pc_id = ?", pc.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("re-key PC %d: %w", pc.ID, err)
	}
	return nil
}

// updateEnrolled stores a re-registration of old: the reported facts and the new token hash;
// seat, online state and history stay.
func updateEnrolled(ctx context.Context, tx bun.Tx, old, pc *PC, disks []Disk, now time.Time) error {
	pc.ID, pc.RoomID, pc.SeatRow, pc.SeatCol = old.ID, old.RoomID, old.SeatRow, old.SeatCol
	pc.IsOnline, pc.LastSeen, pc.CreatedAt = old.IsOnline, old.LastSeen, old.CreatedAt
	if pc.IPAddress == "" {
		pc.IPAddress = old.IPAddress
	}
	pc.IsVerified, pc.UpdatedAt = true, now
	if _, err := tx.NewUpdate().Model(pc).WherePK().
		Column("hostname", "mac_address", "ip_address", "is_verified", "agent_token_hash", "token_used", "cpu_model",
			"cpu_cores", "cpu_threads", "ram_total", "os_edition", "os_version", "updated_at").
		Exec(ctx); err != nil {
		return err
	}
	if pc.IPAddress != old.IPAddress {
		if err := insertIPChange(ctx, tx, pc.ID, pc.IPAddress, now); err != nil {
			return err
		}
	}
	return replaceDisks(ctx, tx, pc.ID, disks, now)
}

func replaceDisks(ctx context.Context, tx bun.Tx, pcID int64, disks []Disk, now time.Time) error {
	if len(disks) == 0 {
		return nil
	}
	mounts := make([]string, len(disks))
	for i := range disks {
		disks[i].PCID, disks[i].UpdatedAt = pcID, now
		mounts[i] = disks[i].Mount
	}
	if _, err := tx.NewDelete().Model((*Disk)(nil)).
		Where("pc_id = ? AND mount NOT IN (?)", pcID, bun.In(mounts)).Exec(ctx); err != nil {
		return err
	}
	_, err := tx.NewInsert().Model(&disks).On("CONFLICT (pc_id, mount) DO UPDATE").
		Set("total_gb = EXCLUDED.total_gb, fstype = EXCLUDED.fstype, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return err
}

// IPHistoryKept is how many IP changes are kept per PC, the newest: an agent that changes its
// address on every heartbeat cannot grow the table without end (issue 10).
const IPHistoryKept = 200

// insertIPChange records an IP change and drops the PC's changes older than the newest
// IPHistoryKept, in the caller's transaction.
func insertIPChange(ctx context.Context, db bun.IDB, pcID int64, ip string, now time.Time) error {
	if _, err := db.NewInsert().Model(&IPChange{PCID: pcID, IPAddress: ip, SeenAt: now}).Exec(ctx); err != nil {
		return err
	}
	// The id of the newest change past the kept ones, or NULL (nothing deleted) while fewer.
	oldest := db.NewSelect().Model((*IPChange)(nil)).Column("id").Where("pc_id = ?", pcID).
		Order("id DESC").Limit(1).Offset(IPHistoryKept)
	_, err := db.NewDelete().Model((*IPChange)(nil)).Where("pc_id = ?", pcID).Where("id <= (?)", oldest).Exec(ctx)
	return err
}

// PCByID returns one PC.
func (s *Store) PCByID(ctx context.Context, id int64) (*PC, error) {
	pc := new(PC)
	if err := s.r.NewSelect().Model(pc).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(fmt.Sprintf("PC %d", id), err)
	}
	return pc, nil
}

// PCRow is a PC with its room and latest stored state, as the fleet loads it.
type PCRow struct {
	PC `bun:",extend"`

	RoomName        *string  `bun:"room_name"`
	CPUUsage        *float64 `bun:"cpu_usage"`
	RAMUsagePercent *float64 `bun:"ram_usage_percent"`
	CurrentUser     *string  `bun:"logged_in_user"`
}

// PCView is a PC as every screen and the API show it: what is stored of it, with the latest
// live state. The fleet keeps one per PC, changes it with every heartbeat and admin action, and
// publishes it; it is a value, safe to share once made.
type PCView struct {
	ID              int64
	MachineID       string
	Hostname        string
	MACAddress      string
	IPAddress       string
	Online          bool
	Verified        bool
	Room            *string // nil: not placed
	SeatRow         *int
	SeatCol         *int
	CPUUsage        *float64
	RAMUsagePercent *float64
	CurrentUser     *string   // the console user of the last full heartbeat
	LastSeen        time.Time // zero: never seen
	AgentVersion    string    // PC.AgentVersion
	WakeMAC, Subnet string    // PC.WakeMAC, PC.Subnet
	Wake            Wake      // its last Wake-on-LAN
}

// RoomCount is how many of a room's PCs there are, and how many are online.
type RoomCount struct{ Online, Total int }

// InRoom tells whether the PC sits in room ("": is not placed).
func (v *PCView) InRoom(room string) bool {
	if v.Room == nil {
		return room == ""
	}
	return *v.Room == room
}

// ListPCs returns every PC (or those of ids) with its room and state, by room, seat and
// hostname; the fleet loads them at start, and reloads those another instance changed.
func (s *Store) ListPCs(ctx context.Context, ids ...int64) ([]PCRow, error) {
	return s.pcRows(ctx, func(q *bun.SelectQuery) *bun.SelectQuery {
		if len(ids) > 0 {
			q = q.Where("pc.id IN (?)", bun.In(ids))
		}
		return q
	})
}

// PCRowByMachine returns the PC of a machine id as ListPCs does: another instance may have
// registered it a moment ago.
func (s *Store) PCRowByMachine(ctx context.Context, machineID string) (*PCRow, error) {
	rows, err := s.pcRows(ctx, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("pc.machine_id = ?", machineID) })
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("machine %q: %w", machineID, ErrNotFound)
	}
	return &rows[0], nil
}

func (s *Store) pcRows(ctx context.Context, filter func(*bun.SelectQuery) *bun.SelectQuery) ([]PCRow, error) {
	var rows []PCRow
	q := s.r.NewSelect().Model(&rows).
		ColumnExpr("pc.*").
		ColumnExpr("r.name AS room_name").
		ColumnExpr("st.cpu_usage, st.ram_usage_percent, st.logged_in_user").
		Join("LEFT JOIN rooms AS r ON r.id = pc.room_id").
		Join("LEFT JOIN pc_state AS st ON st.pc_id = pc.id").
		OrderExpr("r.name IS NULL, r.name, pc.seat_row, pc.seat_col, pc.hostname, pc.id")
	if err := filter(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list PCs: %w", err)
	}
	return rows, nil
}

// PCDetail is everything stored about one PC.
type PCDetail struct {
	PCRow
	State     PCState
	Disks     []Disk
	IPHistory []IPChange
}

// PCDetail returns a PC in full: room, state, disks and its last 20 IP changes.
func (s *Store) PCDetail(ctx context.Context, id int64) (*PCDetail, error) {
	var rows []PCRow
	err := s.r.NewSelect().Model(&rows).ColumnExpr("pc.*").ColumnExpr("r.name AS room_name").
		Join("LEFT JOIN rooms AS r ON r.id = pc.room_id").Where("pc.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("PC %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("PC %d: %w", id, ErrNotFound)
	}
	d := &PCDetail{PCRow: rows[0]}
	if err := s.r.NewSelect().Model(&d.State).Where("pc_id = ?", id).Scan(ctx); err != nil && !noRows(err) {
		return nil, fmt.Errorf("PC %d state: %w", id, err)
	}
	d.CPUUsage, d.RAMUsagePercent, d.CurrentUser = d.State.CPUUsage, d.State.RAMUsagePercent, d.State.CurrentUser
	if err := s.r.NewSelect().Model(&d.Disks).Where("pc_id = ?", id).Order("mount").Scan(ctx); err != nil {
		return nil, fmt.Errorf("PC %d disks: %w", id, err)
	}
	if err := s.r.NewSelect().Model(&d.IPHistory).Where("pc_id = ?", id).Order("id DESC").Limit(20).Scan(ctx); err != nil {
		return nil, fmt.Errorf("PC %d IP history: %w", id, err)
	}
	return d, nil
}

// DeletePC removes a PC and, through ON DELETE CASCADE, everything about it but the event log's
// record that account by deleted it.
func (s *Store) DeletePC(ctx context.Context, id int64, by string, now time.Time) error {
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		pc := new(PC)
		if err := tx.NewSelect().Model(pc).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound("lookup", err)
		}
		if _, err := tx.NewDelete().Model(pc).WherePK().Exec(ctx); err != nil {
			return err
		}
		for _, table := range []string{MinutesTable, HoursTable} {
			if _, err := tx.NewDelete().TableExpr(table).Where("pc_id = ?", id).Exec(ctx); err != nil {
				return err
			}
		}
		return addPCEvent(ctx, tx, EventDeleted, pc, by, now)
	})
	if err != nil {
		return fmt.Errorf("delete PC %d: %w", id, err)
	}
	return nil
}

// SetVerified sets a PC's verified flag.
func (s *Store) SetVerified(ctx context.Context, id int64, verified bool, now time.Time) error {
	return s.updatePC(ctx, id, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("is_verified = ?", verified).Set("updated_at = ?", now)
	})
}

func (s *Store) updatePC(ctx context.Context, id int64, set func(*bun.UpdateQuery) *bun.UpdateQuery) error {
	res, err := set(s.w.NewUpdate().Model((*PC)(nil))).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update PC %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update PC %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetSeat places a PC on a seat of a room, moves it, or (room == "") unplaces it.
func (s *Store) SetSeat(ctx context.Context, pcID int64, room string, row, col int, now time.Time) error {
	if room == "" {
		return s.updatePC(ctx, pcID, func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Set("room_id = NULL, seat_row = NULL, seat_col = NULL").Set("updated_at = ?", now)
		})
	}
	return s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r := new(Room)
		if err := tx.NewSelect().Model(r).Where("name = ?", room).Scan(ctx); err != nil {
			return notFound("room "+room, err)
		}
		if row < 1 || col < 1 || row > r.Rows || col > r.Cols {
			return fmt.Errorf("seat %d,%d in %s (%dx%d): %w", row, col, room, r.Rows, r.Cols, ErrSeatOutOfRange)
		}
		taken, err := tx.NewSelect().Model((*PC)(nil)).
			Where("room_id = ? AND seat_row = ? AND seat_col = ? AND id <> ?", r.ID, row, col, pcID).Exists(ctx)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("seat %d,%d in %s: %w", row, col, room, ErrSeatTaken)
		}
		res, err := tx.NewUpdate().Model((*PC)(nil)).Set("room_id = ?, seat_row = ?, seat_col = ?", r.ID, row, col).
			Set("updated_at = ?", now).Where("id = ?", pcID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("PC %d: %w", pcID, ErrNotFound)
		}
		return nil
	})
}

// ComparePtr orders what a and b point at by by, and nil after every value, as SQL's
// "x IS NULL, x" does.
func ComparePtr[T any](a, b *T, by func(T, T) int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return by(*a, *b)
}

// CompareNatural orders hostnames as people read them: runs of digits by their value, so
// PC2 comes before PC10; letters compare without regard to case, and ties fall back to bytes.
func CompareNatural(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			na, nb := strings.TrimLeft(a[i:ei], "0"), strings.TrimLeft(b[j:ej], "0")
			// Without leading zeros, a longer run is a larger number; equal lengths compare as text.
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if c := cmp.Compare(lowerASCII(a[i]), lowerASCII(b[j])); c != 0 {
			return c
		}
		i, j = i+1, j+1
	}
	return cmp.Or(cmp.Compare(len(a)-i, len(b)-j), strings.Compare(a, b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
