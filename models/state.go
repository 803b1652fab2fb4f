package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// timeLayout is how bun writes times to SQLite; raw statements use it too so stored times stay
// comparable as text.
const timeLayout = "2006-01-02 15:04:05.999999-07:00"

func dbTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// LightState is the latest light heartbeat of one PC, written in batches.
type LightState struct {
	PCID            int64
	CPUUsage        *float64
	RAMUsagePercent *float64
	At              time.Time
}

// Online says a PC came back online at At.
type Online struct {
	PCID int64
	At   time.Time
}

// SaveLive writes a batch of light states (with last_seen) and of PCs that came back online, with
// prepared statements: this runs every second with up to one row per online PC, and 500 PCs
// booting at once cost one commit, not 500. It commits every liveChunk states, so the one writer
// is free between chunks: an admin's command or an agent's result waits for a chunk (a few ms),
// not for the whole flush (30 ms and more at 5,000 polls/s).
func (s *Store) SaveLive(ctx context.Context, states []LightState, online []Online) error {
	for {
		chunk := states[:min(len(states), liveChunk)]
		states = states[len(chunk):]
		if err := s.saveLive(ctx, chunk, online); err != nil {
			return err
		}
		if online = nil; len(states) == 0 {
			return nil
		}
	}
}

const liveChunk = 100

func (s *Store) saveLive(ctx context.Context, states []LightState, online []Online) error {
	if len(states) == 0 && len(online) == 0 {
		return nil
	}
	s.yieldToUrgent(ctx)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, o := range online {
			if err := setOnline(ctx, tx, o.PCID, o.At.UTC()); err != nil {
				return err
			}
		}
		if len(states) == 0 {
			return nil
		}
		st, err := tx.PrepareContext(ctx, s.bind(`UPDATE pc_state SET
			cpu_usage = COALESCE(?, cpu_usage), ram_usage_percent = COALESCE(?, ram_usage_percent), light_at = ?
			WHERE pc_id = ?`))
		if err != nil {
			return err
		}
		defer st.Close()
		seen, err := tx.PrepareContext(ctx, s.bind(`UPDATE pcs SET last_seen = ? WHERE id = ?`))
		if err != nil {
			return err
		}
		defer seen.Close()
		for _, l := range states {
			at := dbTime(l.At)
			if _, err := st.ExecContext(ctx, nullFloat(l.CPUUsage), nullFloat(l.RAMUsagePercent), at, l.PCID); err != nil {
				return err
			}
			if _, err := seen.ExecContext(ctx, at, l.PCID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save live state: %w", err)
	}
	return nil
}

func nullFloat(f *float64) sql.NullFloat64 {
	if f == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *f, Valid: true}
}

// FullState is a full heartbeat. Nil fields were not sent and keep their stored value.
type FullState struct {
	CPUUsage        *float64
	RAMUsed         *float64
	RAMUsagePercent *float64
	CurrentUser     *string
	Uptime          *int64
	Processes       *string // JSON array
	Disks           []Disk  // usage; upserted by mount
	AgentVersion    string  // "": unknown, keep the stored one
	// WakeMAC and Subnet are the interface that reaches the server (wire.SystemInfo); "": keep.
	WakeMAC, Subnet string
	At              time.Time
}

// SaveFullState stores a full heartbeat durably: state, disk usage and last_seen.
func (s *Store) SaveFullState(ctx context.Context, pcID int64, f FullState) error {
	at := f.At.UTC()
	s.yieldToUrgent(ctx)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*PCState)(nil)).Where("pc_id = ?", pcID).
			Set("full_at = ?", at).Set("light_at = ?", at)
		set := func(col string, v any, ok bool) {
			if ok {
				q = q.Set(col+" = ?", v)
			}
		}
		set("cpu_usage", f.CPUUsage, f.CPUUsage != nil)
		set("ram_used", f.RAMUsed, f.RAMUsed != nil)
		set("ram_usage_percent", f.RAMUsagePercent, f.RAMUsagePercent != nil)
		set("logged_in_user", f.CurrentUser, f.CurrentUser != nil)
		set("uptime", f.Uptime, f.Uptime != nil)
		set("processes", f.Processes, f.Processes != nil)
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		pq := tx.NewUpdate().Model((*PC)(nil)).Set("last_seen = ?", at).Where("id = ?", pcID)
		if f.AgentVersion != "" {
			pq = pq.Set("agent_version = ?", f.AgentVersion)
		}
		if f.WakeMAC != "" {
			pq = pq.Set("wake_mac = ?", f.WakeMAC)
		}
		if f.Subnet != "" {
			pq = pq.Set("subnet = ?", f.Subnet)
		}
		if _, err := pq.Exec(ctx); err != nil {
			return err
		}
		if len(f.Disks) == 0 {
			return nil
		}
		for i := range f.Disks {
			f.Disks[i].PCID, f.Disks[i].UpdatedAt = pcID, at
		}
		_, err = tx.NewInsert().Model(&f.Disks).On("CONFLICT (pc_id, mount) DO UPDATE").
			Set("used_gb = EXCLUDED.used_gb, free_gb = EXCLUDED.free_gb, percent = EXCLUDED.percent, updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("save full state of PC %d: %w", pcID, err)
	}
	return nil
}

// RecordIP stores a PC's new IP address and adds it to the IP history.
func (s *Store) RecordIP(ctx context.Context, pcID int64, ip string, now time.Time) error {
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*PC)(nil)).Set("ip_address = ?", ip).Where("id = ?", pcID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return insertIPChange(ctx, tx, pcID, ip, now.UTC())
	})
	if err != nil {
		return fmt.Errorf("record IP of PC %d: %w", pcID, err)
	}
	return nil
}

// SetOnline marks a PC online and closes its open outage, if any.
func (s *Store) SetOnline(ctx context.Context, pcID int64, now time.Time) error {
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return setOnline(ctx, tx, pcID, now.UTC())
	})
	if err != nil {
		return fmt.Errorf("set PC %d online: %w", pcID, err)
	}
	return nil
}

func setOnline(ctx context.Context, tx bun.Tx, pcID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*PC)(nil)).Set("is_online = ?", true).Set("last_seen = ?", now).
		Where("id = ?", pcID).Exec(ctx); err != nil {
		return err
	}
	var open []Outage
	if err := tx.NewSelect().Model(&open).Where("pc_id = ? AND ended_at IS NULL", pcID).Scan(ctx); err != nil {
		return err
	}
	for _, o := range open {
		secs := int64(now.Sub(o.StartedAt).Seconds())
		if _, err := tx.NewUpdate().Model((*Outage)(nil)).Set("ended_at = ?", now).
			Set("duration_seconds = ?", secs).Where("id = ?", o.ID).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// SetOffline marks a PC offline and opens an outage that started at since.
func (s *Store) SetOffline(ctx context.Context, pcID int64, since time.Time, reason string) error {
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*PC)(nil)).Set("is_online = ?", false).Where("id = ?", pcID).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&Outage{PCID: pcID, StartedAt: since.UTC(), Reason: reason}).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("set PC %d offline: %w", pcID, err)
	}
	return nil
}

// Outages returns a PC's online/offline history, newest first.
func (s *Store) Outages(ctx context.Context, pcID int64, limit int) ([]Outage, error) {
	var os []Outage
	if err := s.r.NewSelect().Model(&os).Where("pc_id = ?", pcID).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("outages of PC %d: %w", pcID, err)
	}
	return os, nil
}
