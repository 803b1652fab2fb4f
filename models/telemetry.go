package models

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Minute is one PC's minute of history, as the fleet rolls it up from the heartbeats
// (fleet/rollup.go). A metric's average and maximum are nil when no heartbeat of the minute
// carried it.
type Minute struct {
	bun.BaseModel `bun:"table:pc_minutes,alias:pc_minutes"`

	PCID          int64    `bun:"pc_id,pk"`
	Minute        int64    `bun:"minute,pk"` // Unix seconds of the minute's start
	Samples       int      `bun:"samples"`   // heartbeats received
	OnlineSeconds int      `bun:"online_seconds"`
	CPUAvg        *float64 `bun:"cpu_avg"`
	CPUMax        *float64 `bun:"cpu_max"`
	RAMAvg        *float64 `bun:"ram_avg"`
	RAMMax        *float64 `bun:"ram_max"`
	User          string   `bun:"user_name"` // console user while online; "" nobody
	IP            string   `bun:"ip_address"`
}

// minuteChunk rows go in one statement: 10 columns each, far below either engine's limit on
// bound parameters.
const minuteChunk = 500

// SaveMinutes stores minutes, a transaction per chunk so urgent writes get in between, and says
// how many it stored: on an error, the ones before it, which the caller must not send again. A
// minute stored already (the server stopped and came back within it) is merged with the new
// part: samples and online seconds add up, averages weigh by samples, maxima take the larger.
func (s *Store) SaveMinutes(ctx context.Context, ms []Minute) (saved int, err error) {
	for saved < len(ms) {
		chunk := ms[saved:min(len(ms), saved+minuteChunk)]
		s.yieldToUrgent(ctx)
		q := s.w.NewInsert().Model(&chunk).On("CONFLICT (pc_id, minute) DO UPDATE").
			Set("samples = pc_minutes.samples + EXCLUDED.samples").
			Set("online_seconds = CASE WHEN pc_minutes.online_seconds + EXCLUDED.online_seconds > 60 THEN 60 " +
				"ELSE pc_minutes.online_seconds + EXCLUDED.online_seconds END").
			Set("user_name = CASE WHEN EXCLUDED.user_name <> '' THEN EXCLUDED.user_name ELSE pc_minutes.user_name END").
			Set("ip_address = CASE WHEN EXCLUDED.ip_address <> '' THEN EXCLUDED.ip_address ELSE pc_minutes.ip_address END")
		for _, m := range []string{"cpu", "ram"} {
			q = q.Set(mergedAverage(m + "_avg")).Set(mergedMaximum(m + "_max"))
		}
		if _, err := q.Exec(ctx); err != nil {
			return saved, fmt.Errorf("save minutes: %w", err)
		}
		saved += len(chunk)
	}
	return saved, nil
}

// mergedAverage weighs the stored and the new average of col by their samples; one may be
// NULL (no heartbeat carried the metric).
func mergedAverage(col string) string {
	return fmt.Sprintf("%[1]s = CASE WHEN pc_minutes.%[1]s IS NULL THEN EXCLUDED.%[1]s "+
		"WHEN EXCLUDED.%[1]s IS NULL THEN pc_minutes.%[1]s "+
		"ELSE (pc_minutes.%[1]s * pc_minutes.samples + EXCLUDED.%[1]s * EXCLUDED.samples) / (pc_minutes.samples + EXCLUDED.samples) END", col)
}

// mergedMaximum is the larger of the stored and the new maximum of col, either of them NULL.
func mergedMaximum(col string) string {
	return fmt.Sprintf("%[1]s = CASE WHEN pc_minutes.%[1]s IS NULL OR EXCLUDED.%[1]s > pc_minutes.%[1]s "+
		"THEN EXCLUDED.%[1]s ELSE pc_minutes.%[1]s END", col)
}

// RollupHour computes the hour starting at hour (Unix seconds) from its minutes, for every PC
// that has some; run again, it replaces what it stored. The hour's user is the last one logged in.
func (s *Store) RollupHour(ctx context.Context, hour int64) error {
	s.yieldToUrgent(ctx)
	_, err := s.w.ExecContext(ctx, `INSERT INTO pc_hours
		(pc_id, hour, samples, online_seconds, cpu_avg, cpu_max, ram_avg, ram_max, in_use_minutes, user_name, ip_address)
		SELECT pc_id, ?, SUM(samples), SUM(online_seconds),
			`+weighted("cpu_avg", "samples")+`, MAX(cpu_max), `+weighted("ram_avg", "samples")+`, MAX(ram_max),
			SUM(CASE WHEN user_name <> '' THEN 1 ELSE 0 END),
			COALESCE((SELECT u.user_name FROM pc_minutes u WHERE u.pc_id = m.pc_id AND u.minute >= ? AND u.minute < ?
				AND u.user_name <> '' ORDER BY u.minute DESC LIMIT 1), ''),
			MAX(ip_address)
		FROM pc_minutes m WHERE minute >= ? AND minute < ? GROUP BY pc_id
		ON CONFLICT (pc_id, hour) DO UPDATE SET samples = EXCLUDED.samples, online_seconds = EXCLUDED.online_seconds,
			cpu_avg = EXCLUDED.cpu_avg, cpu_max = EXCLUDED.cpu_max, ram_avg = EXCLUDED.ram_avg, ram_max = EXCLUDED.ram_max,
			in_use_minutes = EXCLUDED.in_use_minutes, user_name = EXCLUDED.user_name, ip_address = EXCLUDED.ip_address`,
		hour, hour, hour+3600, hour, hour+3600)
	if err != nil {
		return fmt.Errorf("roll up hour %s: %w", time.Unix(hour, 0).UTC().Format(time.RFC3339), err)
	}
	return nil
}

// weighted is the average of col over rows, each weighing by its weight column, leaving out
// rows where col is NULL; NULL when none has it.
func weighted(col, weight string) string {
	return fmt.Sprintf("SUM(%[1]s * %[2]s) / NULLIF(SUM(CASE WHEN %[1]s IS NOT NULL THEN %[2]s ELSE 0 END), 0)", col, weight)
}

// History tables and their period columns, for pruning.
const (
	MinutesTable = "pc_minutes"
	HoursTable   = "pc_hours"
)

var periodColumn = map[string]string{MinutesTable: "minute", HoursTable: "hour"}

// PruneHistory deletes at most limit rows of table (MinutesTable or HoursTable) older than
// before, and says how many it deleted; the caller repeats it while it deletes limit, so each
// transaction stays short.
func (s *Store) PruneHistory(ctx context.Context, table string, before time.Time, limit int) (int, error) {
	col, ok := periodColumn[table]
	if !ok {
		return 0, fmt.Errorf("prune history: no table %q", table)
	}
	s.yieldToUrgent(ctx)
	res, err := s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE (pc_id, `+col+`) IN
		(SELECT pc_id, `+col+` FROM `+table+` WHERE `+col+` < ? LIMIT ?)`, before.Unix(), limit)
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Point is one step of a PC's history: heartbeats, seconds online, load average and maximum, and
// the minutes someone was logged in (the last of them in User).
type Point struct {
	At            time.Time
	Samples       int
	OnlineSeconds int
	CPUAvg        *float64
	CPUMax        *float64
	RAMAvg        *float64
	RAMMax        *float64
	InUseMinutes  int
	User          string
}

// RoomPoint is one step of a room's history: how many of its PCs were online or in use at some
// time in the step, their online time together, and their average load.
type RoomPoint struct {
	At            time.Time
	PCsOnline     int
	PCsInUse      int
	OnlineSeconds int
	CPUAvg        *float64
	RAMAvg        *float64
}

// Span is a range of history in steps: [From, To), From on a step. Steps of an hour or more
// read the hourly rollups, shorter ones the minutes.
type Span struct {
	From, To time.Time
	Step     time.Duration
}

// Steps is how many steps the span has; none without a step.
func (sp Span) Steps() int {
	if sp.Step <= 0 || !sp.From.Before(sp.To) {
		return 0
	}
	return int((sp.To.Sub(sp.From) + sp.Step - 1) / sp.Step)
}

// source is the table a span reads, its period column, and its in-use expression.
func (sp Span) source() (table, col, inUse string) {
	if sp.Step >= time.Hour {
		return HoursTable, "hour", "in_use_minutes"
	}
	return MinutesTable, "minute", "CASE WHEN user_name <> '' THEN 1 ELSE 0 END"
}

// bucket selects the rows of the span, grouped by step: the step's index is column b.
func (s *Store) bucket(sp Span, cols string) *bun.SelectQuery {
	table, col, _ := sp.source()
	from, step := sp.From.Unix(), int64(sp.Step/time.Second)
	return s.r.NewSelect().TableExpr(table).
		ColumnExpr("("+col+" - ?) / ? AS b", from, step).ColumnExpr(cols).
		Where(col+" >= ? AND "+col+" < ?", from, sp.To.Unix()).
		GroupExpr("b").OrderExpr("b")
}

// PCHistory is a PC's history over the span, one Point per step that has data.
func (s *Store) PCHistory(ctx context.Context, pcID int64, sp Span) ([]Point, error) {
	_, _, inUse := sp.source()
	var rows []struct {
		B                      int64
		Samples, Online, InUse int
		CPUAvg, CPUMax         *float64
		RAMAvg, RAMMax         *float64
		LastUser               string
	}
	err := s.bucket(sp, "SUM(samples) AS samples, SUM(online_seconds) AS online, "+
		weighted("cpu_avg", "samples")+" AS cpu_avg, MAX(cpu_max) AS cpu_max, "+
		weighted("ram_avg", "samples")+" AS ram_avg, MAX(ram_max) AS ram_max, "+
		"SUM("+inUse+") AS in_use, MAX(user_name) AS last_user").
		Where("pc_id = ?", pcID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("history of PC %d: %w", pcID, err)
	}
	out := make([]Point, len(rows))
	for i, r := range rows {
		out[i] = Point{At: sp.From.Add(time.Duration(r.B) * sp.Step), Samples: r.Samples, OnlineSeconds: r.Online,
			CPUAvg: r.CPUAvg, CPUMax: r.CPUMax, RAMAvg: r.RAMAvg, RAMMax: r.RAMMax, InUseMinutes: r.InUse, User: r.LastUser}
	}
	return out, nil
}

// RoomHistory is the history of the PCs pcIDs (a room's) over the span, one RoomPoint per step
// that has data.
func (s *Store) RoomHistory(ctx context.Context, pcIDs []int64, sp Span) ([]RoomPoint, error) {
	if len(pcIDs) == 0 {
		return nil, nil
	}
	_, _, inUse := sp.source()
	var rows []struct {
		B                      int64
		Online, InUse, Seconds int
		CPUAvg, RAMAvg         *float64
	}
	err := s.bucket(sp, "COUNT(DISTINCT CASE WHEN online_seconds > 0 THEN pc_id END) AS online, "+
		"COUNT(DISTINCT CASE WHEN "+inUse+" > 0 THEN pc_id END) AS in_use, SUM(online_seconds) AS seconds, "+
		weighted("cpu_avg", "samples")+" AS cpu_avg, "+weighted("ram_avg", "samples")+" AS ram_avg").
		Where("pc_id IN (?)", bun.In(pcIDs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("room history: %w", err)
	}
	out := make([]RoomPoint, len(rows))
	for i, r := range rows {
		out[i] = RoomPoint{At: sp.From.Add(time.Duration(r.B) * sp.Step), PCsOnline: r.Online, PCsInUse: r.InUse,
			OnlineSeconds: r.Seconds, CPUAvg: r.CPUAvg, RAMAvg: r.RAMAvg}
	}
	return out, nil
}
