// Package testdb gives each test a fresh database: a SQLite file in the test's temporary folder
// or, with WCMS_TEST_POSTGRES set to a PostgreSQL URL, a schema of its own in that database,
// dropped after the test. .ci/run sets it, so the store's tests run on both engines.
package testdb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL through database/sql
	"github.com/wcms-lab/wcms/internal/sqlq"
)

var seq atomic.Int64

// Postgres tells whether the tests run on PostgreSQL (WCMS_TEST_POSTGRES).
func Postgres() bool { return os.Getenv("WCMS_TEST_POSTGRES") != "" }

// Driver is the database/sql driver name for a DSN of DSN's.
func Driver() string {
	if Postgres() {
		return "pgx"
	}
	return "sqlite"
}

// Bind puts a query written with ? placeholders in the engine's form ($1, $2… on PostgreSQL).
func Bind(query string) string {
	if !Postgres() {
		return query
	}
	return sqlq.Numbered(query)
}

// DSN is a fresh database for t, as models.Open takes it.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("WCMS_TEST_POSTGRES")
	if base == "" {
		return filepath.Join(t.TempDir(), "data", "wcms.db")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), seq.Add(1))
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("WCMS_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
