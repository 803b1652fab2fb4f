package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/wire"
)

// resultGrace is how long past its timeout an executing command waits for the agent's result
// (the agent kills the process at the timeout, then still has to report).
const resultGrace = time.Minute

// StripSecrets returns the JSON object params without its secret parameters (params itself when
// it has none).
func StripSecrets(params string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(params), &m) != nil {
		return "{}"
	}
	found := false
	// Secrets are removed from a command once it is delivered or ends undelivered.
	for _, k := range command.SecretNames() {
		if _, ok := m[k]; ok {
			delete(m, k)
			found = true
		}
	}
	if !found {
		return params
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// The priority and timeout (seconds) of a command that names none (the published API's).
const (
	DefaultPriority = 5
	DefaultTimeout  = 300
)

// NewCommand is a command of type typ (a name or alias the catalogue knows) sent by by, with
// params as the catalogue checks them: their values, and no key the type does not have (a
// *command.Error says which). It has the default priority and timeout; PCID unset.
func NewCommand(typ string, params map[string]any, by string) (Command, error) {
	t, ok := command.Lookup(typ)
	if !ok {
		return Command{}, fmt.Errorf("%w %q", command.ErrUnknownType, typ)
	}
	checked, err := t.Validate(params)
	if err == nil {
		err = t.CheckKeys(params)
	}
	if err != nil {
		return Command{}, err
	}
	b, err := json.Marshal(checked)
	if err != nil {
		return Command{}, err
	}
	return Command{Type: t.Name, Parameters: string(b), Priority: DefaultPriority, Timeout: DefaultTimeout, CreatedBy: by}, nil
}

// EnqueueCommands queues commands, all or none, and fills in their ids. ErrNotFound names the
// first PC that does not exist.
func (s *Store) EnqueueCommands(ctx context.Context, cmds []Command, now time.Time) error {
	defer s.urgentWrite()()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return insertCommands(ctx, tx, cmds, now)
	})
	if err != nil {
		return fmt.Errorf("enqueue commands: %w", err)
	}
	return nil
}

// insertCommands queues commands inside tx as pending from now, once every PC they name is
// found; EnqueueCommands and SendRoomAction both queue through it.
func insertCommands(ctx context.Context, tx bun.Tx, cmds []Command, now time.Time) error {
	now = now.UTC()
	ids := make([]int64, len(cmds))
	for i := range cmds {
		c := &cmds[i]
		c.Status, c.CreatedAt = wire.StatusPending, now
		c.DeadlineAt = now.Add(time.Duration(c.Timeout) * time.Second)
		if c.ExpiresAt != nil {
			c.DeadlineAt = c.ExpiresAt.UTC()
		}
		ids[i] = c.PCID
	}
	var found []int64
	if err := tx.NewSelect().Model((*PC)(nil)).Column("id").Where("id IN (?)", bun.In(ids)).Scan(ctx, &found); err != nil {
		return err
	}
	have := make(map[int64]bool, len(found))
	for _, id := range found {
		have[id] = true
	}
	for _, id := range ids {
		if !have[id] {
			return fmt.Errorf("PC %d: %w", id, ErrNotFound)
		}
	}
	_, err := tx.NewInsert().Model(&cmds).Exec(ctx)
	return err
}

// NextCommand hands out the PC's most urgent pending command (priority, then age): it becomes
// executing and its stored parameters lose their secrets, while the returned copy keeps them for
// this one delivery. It returns nil when nothing is pending.
func (s *Store) NextCommand(ctx context.Context, pcID int64, addr string, now time.Time) (*Command, error) {
	defer s.urgentWrite()()
	now = now.UTC()
	var c *Command
	scrub := false
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Another server instance may take the same row between the select and the update
		// (PostgreSQL, docs/SCALING.md): the update then finds it no longer pending and the next
		// one is tried, so no command is delivered twice.
		for {
			var cs []Command
			err := tx.NewSelect().Model(&cs).Where("pc_id = ? AND status = ?", pcID, wire.StatusPending).
				Order("priority", "id").Limit(1).Scan(ctx)
			if err != nil || len(cs) == 0 {
				c = nil
				return err
			}
			c = &cs[0]
			c.Status, c.StartedAt, c.DeliveredTo = wire.StatusExecuting, &now, addr
			c.DeadlineAt = now.Add(time.Duration(c.Timeout)*time.Second + resultGrace)
			stripped := StripSecrets(c.Parameters)
			scrub = stripped != c.Parameters
			res, err := tx.NewUpdate().Model((*Command)(nil)).
				Set("status = ?, started_at = ?, deadline_at = ?, parameters = ?, delivered_to = ?", c.Status, now, c.DeadlineAt, stripped, addr).
				Where("id = ? AND status = ?", c.ID, wire.StatusPending).Exec(ctx)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				return err
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("next command of PC %d: %w", pcID, err)
	}
	if c != nil && scrub {
		if err := s.scrubWAL(ctx); err != nil {
			return nil, fmt.Errorf("next command of PC %d: scrub: %w", pcID, err)
		}
	}
	return c, nil
}

// Result is what an agent reports for a command.
type Result struct {
	Status       string // wire.ResultSuccess, ResultError or ResultTimeout
	Output       string
	ErrorMessage string
	ExitCode     *int
}

// finalStatus maps a reported result status to the command's final state.
func finalStatus(result string) string {
	switch result {
	case wire.ResultSuccess:
		return wire.StatusCompleted
	case wire.ResultTimeout:
		return wire.StatusTimeout
	}
	return wire.StatusError
}

// Reporter is who sends a result: the PC its agent token names, or for a tokenless (published)
// client no PC (0) and only its address.
type Reporter struct {
	PCID int64
	Addr string
}

// ReportResult records a command's result. The reporter must be the PC the command went to: by
// its token, or without one only for a PC whose agent never used its token and only from the
// address the command was handed to (ErrWrongPC, ErrTokenRequired). A result is taken once: for
// an executing command, or for a delivered command that the server timed out before its result
// arrived (a result spooled by the agent through a server outage is not lost). Anything else is
// ErrAlreadyReported or ErrNotDelivered and changes nothing.
func (s *Store) ReportResult(ctx context.Context, id int64, rep Reporter, r Result, now time.Time) (*Command, error) {
	defer s.urgentWrite()()
	now = now.UTC()
	c := new(Command)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound("command", err)
		}
		if rep.PCID == 0 {
			var used bool
			if err := tx.NewSelect().Model((*PC)(nil)).Column("token_used").Where("id = ?", c.PCID).Scan(ctx, &used); err != nil {
				return err
			}
			if used {
				return ErrTokenRequired
			}
		}
		switch {
		case rep.PCID != 0 && c.PCID != rep.PCID, rep.PCID == 0 && c.StartedAt != nil && c.DeliveredTo != rep.Addr:
			return ErrWrongPC
		case c.ResultAt != nil:
			return ErrAlreadyReported
		case c.StartedAt == nil:
			if c.Status == wire.StatusPending {
				return ErrNotDelivered
			}
			return ErrAlreadyReported // ended undelivered: timed out or cancelled
		case c.Status != wire.StatusExecuting && c.Status != wire.StatusTimeout:
			return ErrAlreadyReported
		}
		c.Status, c.Output, c.ErrorMessage, c.ExitCode = finalStatus(r.Status), r.Output, r.ErrorMessage, r.ExitCode
		c.CompletedAt, c.ResultAt = &now, &now
		_, err := tx.NewUpdate().Model(c).WherePK().
			Column("status", "output", "error_message", "exit_code", "completed_at", "result_at").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("result of command %d: %w", id, err)
	}
	return c, nil
}

// Commands returns the commands of ids that exist, by id.
func (s *Store) Commands(ctx context.Context, ids []int64) ([]Command, error) {
	var cs []Command
	if err := s.r.NewSelect().Model(&cs).Where("id IN (?)", bun.In(ids)).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	return cs, nil
}

// CommandByID returns one command.
func (s *Store) CommandByID(ctx context.Context, id int64) (*Command, error) {
	c := new(Command)
	if err := s.r.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(fmt.Sprintf("command %d", id), err)
	}
	return c, nil
}

// PCCommands returns a PC's commands, newest first.
func (s *Store) PCCommands(ctx context.Context, pcID int64, limit int) ([]Command, error) {
	var cs []Command
	if err := s.r.NewSelect().Model(&cs).Where("pc_id = ?", pcID).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("commands of PC %d: %w", pcID, err)
	}
	return cs, nil
}

// CancelPending ends every undelivered command of a PC as an error saying who cancelled it, and
// returns them.
func (s *Store) CancelPending(ctx context.Context, pcID int64, by string, now time.Time) ([]Command, error) {
	return s.endCommands(ctx, now, "cancel pending commands",
		func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("pc_id = ? AND status = ?", pcID, wire.StatusPending)
		},
		func(Command) ending { return ending{status: wire.StatusError, message: "cancelled by " + by} })
}

// ExpireCommands ends as timeout every executing command past its deadline, and every pending
// one past it whose PC has not polled within its timeout; a pending one with an expiry ends as
// expired at that time. It returns them with their new status. lastPoll is when a PC last polled
// (the fleet knows, to the poll; nil: never). A pending command of a PC that keeps polling waits
// its turn however deep the queue, its timeout counting again from its delivery (NextCommand),
// as the contract's "does not poll within its timeout" says: its deadline moves to the PC's last
// poll plus its timeout, so it is looked at again only then, not at every sweep.
func (s *Store) ExpireCommands(ctx context.Context, now time.Time, lastPoll func(pcID int64) time.Time) ([]Command, error) {
	return s.endCommands(ctx, now, "expire commands",
		func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("status IN (?) AND deadline_at <= ?", bun.In([]string{wire.StatusPending, wire.StatusExecuting}), now.UTC())
		},
		func(c Command) ending {
			switch {
			case c.Status != wire.StatusPending:
				return ending{status: wire.StatusTimeout, message: "no result within the timeout"}
			case c.ExpiresAt != nil:
				return ending{status: wire.StatusExpired, message: "not delivered: the PC did not poll before the command expired"}
			}
			if lastPoll != nil {
				if until := lastPoll(c.PCID).Add(time.Duration(c.Timeout) * time.Second); until.After(now) {
					return ending{until: until}
				}
			}
			return ending{status: wire.StatusTimeout, message: "not delivered: the PC did not poll within the timeout"}
		})
}

// ending is how endCommands ends a command: in status with message, or, when until is set, not
// yet: its deadline moves there.
type ending struct {
	status, message string
	until           time.Time
}

// endCommands ends the selected unfinished commands as end says, removing secrets, each only if
// its status has not changed meanwhile.
func (s *Store) endCommands(ctx context.Context, now time.Time, op string,
	where func(*bun.SelectQuery) *bun.SelectQuery, end func(Command) ending) ([]Command, error) {
	now = now.UTC()
	var ended []Command
	scrub := false
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cs []Command
		if err := where(tx.NewSelect().Model(&cs)).Order("id").Scan(ctx); err != nil {
			return err
		}
		for _, c := range cs {
			e := end(c)
			if !e.until.IsZero() {
				_, err := tx.NewUpdate().Model((*Command)(nil)).Set("deadline_at = ?", e.until.UTC()).
					Where("id = ? AND status = ?", c.ID, c.Status).Exec(ctx)
				if err != nil {
					return err
				}
				continue
			}
			stripped := StripSecrets(c.Parameters)
			scrub = scrub || stripped != c.Parameters
			res, err := tx.NewUpdate().Model((*Command)(nil)).
				Set("status = ?, error_message = ?, completed_at = ?, parameters = ?", e.status, e.message, now, stripped).
				Where("id = ? AND status = ?", c.ID, c.Status).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				c.Status, c.ErrorMessage, c.CompletedAt = e.status, e.message, &now
				ended = append(ended, c)
			}
		}
		return nil
	})
	if err == nil && scrub {
		err = s.scrubWAL(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return ended, nil
}

// PendingCounts returns how many commands wait for each PC that has any.
func (s *Store) PendingCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		PCID int64 `bun:"pc_id"`
		N    int   `bun:"n"`
	}
	err := s.r.NewSelect().Model((*Command)(nil)).ColumnExpr("pc_id, COUNT(*) AS n").
		Where("status = ?", wire.StatusPending).Group("pc_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("pending counts: %w", err)
	}
	m := make(map[int64]int, len(rows))
	for _, r := range rows {
		m[r.PCID] = r.N
	}
	return m, nil
}
