package models

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/wcms-lab/wcms/migrations"
)

// dialectTokens are the only places where the schema differs between SQLite and PostgreSQL.
var dialectTokens = map[dialect.Name]*strings.Replacer{
	dialect.SQLite: strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{time}}", "TIMESTAMP"),
	dialect.PG:     strings.NewReplacer("{{id}}", "BIGSERIAL PRIMARY KEY", "{{time}}", "TIMESTAMPTZ"),
}

// Migrate applies every embedded .up.sql not applied yet, in name order, each in its own
// transaction, and returns the names it applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	return s.migrate(ctx, ".up.sql")
}

// MigrateDown undoes the newest applied migration; used by tests and by operators rolling back.
func (s *Store) MigrateDown(ctx context.Context) (string, error) {
	applied, err := s.appliedMigrations(ctx)
	if err != nil || len(applied) == 0 {
		return "", err
	}
	last := applied[len(applied)-1]
	body, err := fs.ReadFile(migrations.FS, last+".down.sql")
	if err != nil {
		return "", fmt.Errorf("migrate down %s: %w", last, err)
	}
	err = s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, s.expand(body)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = ?", last)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("migrate down %s: %w", last, err)
	}
	return last, nil
}

func (s *Store) migrate(ctx context.Context, suffix string) ([]string, error) {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	names, err := fs.Glob(migrations.FS, "*"+suffix)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ran []string
	for _, name := range names {
		version := strings.TrimSuffix(name, suffix)
		if done[version] {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return ran, err
		}
		err = s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, s.expand(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
				version, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return ran, fmt.Errorf("migrate %s: %w", name, err)
		}
		ran = append(ran, version)
	}
	return ran, nil
}

func (s *Store) appliedMigrations(ctx context.Context) ([]string, error) {
	var versions []string
	err := s.w.NewSelect().Table("schema_migrations").Column("version").Order("version").Scan(ctx, &versions)
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied: %w", err)
	}
	return versions, nil
}

func (s *Store) expand(body []byte) string {
	return dialectTokens[s.w.Dialect().Name()].Replace(string(body))
}
