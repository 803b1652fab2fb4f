package models

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"github.com/wcms-lab/wcms/migrations"
)

// schemaWords are the only places where the schema differs between SQLite and PostgreSQL; the
// migration files name them as template fields.
type schemaWords struct{ ID, Time, Bytes string }

var dialectWords = map[dialect.Name]schemaWords{
	dialect.SQLite: {ID: "INTEGER PRIMARY KEY AUTOINCREMENT", Time: "TIMESTAMP", Bytes: "BLOB"},
	dialect.PG:     {ID: "BIGSERIAL PRIMARY KEY", Time: "TIMESTAMPTZ", Bytes: "BYTEA"},
}

// Migrate applies every embedded migration not applied yet, in name order, each in its own
// transaction, and returns the names it applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	if s.pg {
		// Several instances may start at once: one migrates, the others wait for it and then find
		// nothing left to do. The lock is the writer's one connection's, so held across the run.
		if _, err := s.w.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrateLock); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		defer s.w.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrateLock)
	}
	m, err := s.migrator(ctx, func(ctx context.Context, tx bun.IConn, done *migrate.Migration) error {
		// A copy: bun/migrate marks done itself after the commit, and then finds this row by
		// name (WithUpsert) and updates it.
		row := *done
		_, err := s.w.NewInsert().Conn(tx).Model(&row).ModelTableExpr(migrationsTable).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var ran []string
	for _, mig := range group.Migrations {
		ran = append(ran, mig.String())
	}
	return ran, nil
}

// MigrateDown undoes the newest applied migration and returns its name, "" when none is left;
// used by tests and by operators rolling back.
func (s *Store) MigrateDown(ctx context.Context) (string, error) {
	m, err := s.migrator(ctx, func(ctx context.Context, tx bun.IConn, undone *migrate.Migration) error {
		_, err := s.w.NewDelete().Conn(tx).TableExpr(migrationsTable).Where("id = ?", undone.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return "", fmt.Errorf("migrate down: %w", err)
	}
	applied := ms.Applied() // newest first
	if len(applied) == 0 {
		return "", nil
	}
	last := applied[0]
	if err := last.Down(ctx, m, &last); err != nil {
		return "", fmt.Errorf("migrate down %s: %w", last, err)
	}
	if err := m.MarkUnapplied(ctx, &last); err != nil {
		return "", fmt.Errorf("migrate down %s: %w", last, err)
	}
	return last.String(), nil
}

// migrateLock is the PostgreSQL advisory lock the migrations run under ("WCMSMIGR").
const migrateLock int64 = 0x57434d534d494752

// migrationsTable is where bun/migrate records the applied migrations.
const migrationsTable = "bun_migrations"

// migrator is bun/migrate over the embedded migrations, its tables made, and the record of the
// runner this project had before it carried over. record runs inside each migration's
// transaction, after its SQL, and records the step there: bun/migrate's own record comes after
// the commit, and a process killed in between would otherwise leave a database whose next start
// runs the migration again and fails (table already exists), or never re-applies one undone.
func (s *Store) migrator(ctx context.Context, record migrate.MigrationHook) (*migrate.Migrator, error) {
	ms, err := embeddedMigrations()
	if err != nil {
		return nil, err
	}
	// Marked applied only once the migration's transaction committed: a failed one runs again.
	m := migrate.NewMigrator(s.w, ms, migrate.WithTableName(migrationsTable), migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithUpsert(true), migrate.AfterMigration(record),
		migrate.WithTemplateData(dialectWords[s.w.Dialect().Name()]))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := s.carryOverOldRecord(ctx, m); err != nil {
		return nil, fmt.Errorf("migrate: carry over schema_migrations: %w", err)
	}
	return m, nil
}

// embeddedMigrations are the migrations this binary carries.
func embeddedMigrations() (*migrate.Migrations, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrations.FS); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return ms, nil
}

// carryOverOldRecord marks as applied what the earlier runner recorded in schema_migrations
// (versions like "20261125000001_init"), then drops that table.
func (s *Store) carryOverOldRecord(ctx context.Context, m *migrate.Migrator) error {
	var done []string
	if _, err := s.w.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"); err != nil {
		return err
	}
	if err := s.w.NewSelect().Table("schema_migrations").Column("version").Scan(ctx, &done); err != nil {
		return err
	}
	if len(done) > 0 {
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		old := map[string]bool{}
		for _, v := range done {
			old[v] = true
		}
		for i := range ms {
			if mig := &ms[i]; old[mig.String()] && !mig.IsApplied() {
				mig.GroupID = 1
				if err := m.MarkApplied(ctx, mig); err != nil {
					return err
				}
			}
		}
	}
	_, err := s.w.ExecContext(ctx, "DROP TABLE schema_migrations")
	return err
}
