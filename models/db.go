package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL through database/sql
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/wcms-lab/wcms/internal/sqlq"
	_ "modernc.org/sqlite" // pure-Go SQLite: no cgo, so everything cross-builds
)

// Store runs every query of the server.
type Store struct {
	// w is the single writer: SQLite takes one writer at a time, and queueing writers in Go
	// instead of in SQLite's busy loop keeps latency flat under load.
	w *bun.DB
	// r serves reads; WAL lets them run beside the writer.
	r *bun.DB
	// prio counts writes someone is waiting on right now (priority.go).
	prio priority
	pg   bool // PostgreSQL rather than SQLite
	// keyLocks holds a slot for each read connection that holds a LockKey lock (PostgreSQL).
	keyLocks chan struct{}
}

// Open opens the SQLite database at path (creating its folder) with WAL, synchronous=NORMAL
// (durable against a killed process, which is what "acknowledged" means here), a busy timeout and
// foreign keys on.
func Open(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open database: create folder: %w", err)
		}
	}
	// secure_delete zeroes deleted content, so a command's removed password leaves no trace in
	// the file's free space.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	wdb, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// It holds password hashes: owner only. SQLite gives its -wal and -shm files the same mode.
	if err := os.Chmod(path, 0o600); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	rdb, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := min(2*runtime.NumCPU(), 8)
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	return &Store{
		w: bun.NewDB(wdb, sqlitedialect.New()),
		r: bun.NewDB(rdb, sqlitedialect.New()),
	}, nil
}

// Postgres tells whether the store is PostgreSQL, which several server instances may share.
func (s *Store) Postgres() bool { return s.pg }

// IsPostgres tells whether dsn names a PostgreSQL database rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens a PostgreSQL database through pgx (database/sql), which verifies TLS as the
// DSN's sslmode says. Writes still go through one connection, so the store's order of writes
// (urgent before batch, priority.go) is the same as on SQLite; reads use a pool.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	open := func(conns int) (*bun.DB, error) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return bun.NewDB(db, pgdialect.New()), nil
	}
	w, err := open(1)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	readConns := min(2*runtime.NumCPU(), 8)
	r, err := open(readConns)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &Store{w: w, r: r, pg: true, keyLocks: make(chan struct{}, max(readConns/2, 1))}, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// scrubWAL folds the write-ahead log into the database and empties it, so that the page
// versions that still held a removed secret are gone from disk too. Best effort: a reader
// holding an old snapshot can keep the log until the next checkpoint.
// PostgreSQL keeps its own write-ahead log and recycles it itself (docs/SECURITY.md).
func (s *Store) scrubWAL(ctx context.Context) error {
	if s.pg {
		return nil
	}
	_, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// SizeBytes reports the database's size on disk (pages in use times page size).
func (s *Store) SizeBytes(ctx context.Context) (int64, error) {
	if s.pg {
		var size int64
		err := s.r.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&size)
		return size, err
	}
	var pages, size int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// bind is a statement prepared outside bun (database/sql's own placeholders) in the dialect's
// form: PostgreSQL numbers them ($1, $2…) where SQLite takes ?.
func (s *Store) bind(query string) string {
	if !s.pg {
		return query
	}
	return sqlq.Numbered(query)
}
