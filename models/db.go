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

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
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
}

// Open opens the SQLite database at path (creating its folder) with WAL, synchronous=NORMAL
// (durable against a killed process, which is what "acknowledged" means here), a busy timeout and
// foreign keys on.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		return nil, errors.New("open database: PostgreSQL is not supported yet; use a SQLite file path")
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

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// scrubWAL folds the write-ahead log into the database and empties it, so that the page
// versions that still held a removed secret are gone from disk too. Best effort: a reader
// holding an old snapshot can keep the log until the next checkpoint.
func (s *Store) scrubWAL(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// SizeBytes reports the database's size on disk (pages in use times page size).
func (s *Store) SizeBytes(ctx context.Context) (int64, error) {
	var pages, size int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}
