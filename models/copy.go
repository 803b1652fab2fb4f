package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// Refusals of Copy; the caller says what to do about each (main's migrate.go).
var (
	ErrSourceBehind   = errors.New("the source database has migrations this version has not applied to it yet")
	ErrSourceAhead    = errors.New("the source database has migrations this version does not know")
	ErrTargetNotEmpty = errors.New("the target database already holds data")
	ErrCountsDiffer   = errors.New("row counts differ after the copy")
)

// TableCount is one table's rows in the source and, after the copy, in the target.
type TableCount struct {
	Table    string
	From, To int64
}

// CopyReport is what Copy did: every table in the order copied, and the rows in all.
type CopyReport struct {
	Tables []TableCount
	Rows   int64
}

// copyRows rows go in one INSERT, within PostgreSQL's 65,535 bound parameters for a table of up
// to 65 columns (pcs, the widest, has 22). progressEvery is how often a big table reports.
const (
	copyRows      = 1000
	progressEvery = 10000
)

// bookkeeping are the tables not copied: Migrate fills the migrations' on the target itself, and
// each running server writes its own row of instances (SaveInstance).
var bookkeeping = []string{migrationsTable, "bun_migration_locks", "instances"}

// OpenReadOnly opens the SQLite file at path for reading only, as Copy's source: SQLite itself
// refuses every write (mode=ro), and nothing is created, migrated or chmod-ed.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	b := bun.NewDB(db, sqlitedialect.New())
	return &Store{w: b, r: b}, nil // Close closes it twice, which database/sql allows
}

// sourceTable is a table of the source with its columns, in the source's order.
type sourceTable struct {
	name    string
	columns []string
	rows    int64
}

// Copy copies every row of the SQLite store from into the PostgreSQL store to, keeping ids, and
// reports each table's count on both sides. It reads from one snapshot of the source, so a
// server still writing to it yields a consistent copy of one moment. It refuses a source whose
// schema is not this version's, and a target that holds any row; it migrates the target. The
// rows, the sequences and the check of the counts are one transaction: on any error the target
// holds its empty tables only, and the same command can simply run again.
// progress is called per table when done, and every progressEvery rows of a big one.
func Copy(ctx context.Context, from, to *Store, progress func(table string, done, total int64)) (*CopyReport, error) {
	if from.pg || !to.pg {
		return nil, errors.New("copy: only from SQLite to PostgreSQL")
	}
	src, err := from.r.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("copy: read source: %w", err)
	}
	defer src.Rollback()
	names, err := queryStrings(ctx, src, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("copy: read source schema: %w", err)
	}
	if err := checkSourceSchema(ctx, src, names); err != nil {
		return nil, err
	}
	tables, err := sourceTables(ctx, src, names)
	if err != nil {
		return nil, fmt.Errorf("copy: read source schema: %w", err)
	}
	if err := to.checkEmpty(ctx, tables); err != nil {
		return nil, err
	}
	if _, err := to.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	dst, err := to.w.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	defer dst.Rollback()
	rep := &CopyReport{}
	for i := range tables {
		t := &tables[i]
		if t.rows, err = countRows(ctx, src, t.name); err != nil {
			return nil, fmt.Errorf("copy %s: count: %w", t.name, err)
		}
		if err := copyTable(ctx, src, dst, *t, progress); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		rep.Rows += t.rows
	}
	var differ error
	for _, t := range tables {
		n, err := countRows(ctx, dst, t.name)
		if err != nil {
			return nil, fmt.Errorf("copy: verify %s: %w", t.name, err)
		}
		rep.Tables = append(rep.Tables, TableCount{Table: t.name, From: t.rows, To: n})
		if n != t.rows {
			differ = errors.Join(differ, fmt.Errorf("%w: %s has %d rows in the source, %d in the target", ErrCountsDiffer, t.name, t.rows, n))
		}
	}
	if differ != nil {
		return rep, differ
	}
	if err := dst.Commit(); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	return rep, nil
}

// checkSourceSchema refuses a source whose applied migrations are not exactly this binary's:
// the target is migrated by this binary, and the columns must match.
func checkSourceSchema(ctx context.Context, src *sql.Tx, tables []string) error {
	ms, err := embeddedMigrations()
	if err != nil {
		return err
	}
	var known []string
	for _, m := range ms.Sorted() {
		known = append(known, m.Name)
	}
	var applied []string
	// A source of the runner before bun/migrate has no bun_migrations: older than this version.
	if slices.Contains(tables, migrationsTable) {
		if applied, err = queryStrings(ctx, src, "SELECT name FROM "+migrationsTable); err != nil {
			return fmt.Errorf("copy: read source migrations: %w", err)
		}
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return fmt.Errorf("%w: %s", ErrSourceAhead, name)
		}
	}
	for _, name := range known {
		if !slices.Contains(applied, name) {
			return fmt.Errorf("%w: %s", ErrSourceBehind, name)
		}
	}
	return nil
}

// sourceTables gives the source's tables of names but the bookkeeping, with their
// columns, referenced tables before those that refer to them, so each row's foreign keys exist
// when it is inserted.
func sourceTables(ctx context.Context, src *sql.Tx, names []string) ([]sourceTable, error) {
	var err error
	refs := map[string][]string{}
	var tables []sourceTable
	for _, name := range names {
		if slices.Contains(bookkeeping, name) {
			continue
		}
		t := sourceTable{name: name}
		if t.columns, err = queryStrings(ctx, src, "SELECT name FROM pragma_table_info(?) ORDER BY cid", name); err != nil {
			return nil, err
		}
		if refs[name], err = queryStrings(ctx, src, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return inReferenceOrder(tables, refs)
}

// inReferenceOrder sorts tables so that each comes after the tables it refers to (a table's
// reference to itself aside), keeping name order otherwise.
func inReferenceOrder(tables []sourceTable, refs map[string][]string) ([]sourceTable, error) {
	placed := map[string]bool{}
	var out []sourceTable
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if placed[t.name] {
				continue
			}
			ready := true
			for _, r := range refs[t.name] {
				ready = ready && (r == t.name || placed[r])
			}
			if ready {
				placed[t.name], progressed = true, true
				out = append(out, t)
			}
		}
		if !progressed {
			return nil, errors.New("the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

// checkEmpty refuses a target where any of tables exists and holds a row. It runs before the
// target is migrated, so a refusal changes nothing.
func (s *Store) checkEmpty(ctx context.Context, tables []sourceTable) error {
	existing, err := queryStrings(ctx, s.w.DB,
		"SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	if err != nil {
		return fmt.Errorf("copy: read target schema: %w", err)
	}
	for _, t := range tables {
		if !slices.Contains(existing, t.name) {
			continue
		}
		n, err := countRows(ctx, s.w.DB, t.name)
		if err != nil {
			return fmt.Errorf("copy: count target %s: %w", t.name, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s has %d rows", ErrTargetNotEmpty, t.name, n)
		}
	}
	return nil
}

// copyTable copies one table's rows, copyRows to a statement, then sets its id sequence past
// the largest id copied, so rows added later get fresh ids.
func copyTable(ctx context.Context, src, dst *sql.Tx, t sourceTable, progress func(table string, done, total int64)) error {
	types, err := targetTypes(ctx, dst, t)
	if err != nil {
		return err
	}
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quote(c)
	}
	rows, err := src.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+quote(t.name))
	if err != nil {
		return err
	}
	defer rows.Close()
	var done int64
	batch := make([]any, 0, copyRows*len(cols))
	flush := func() error {
		n := len(batch) / len(cols)
		if n == 0 {
			return nil
		}
		if _, err := dst.ExecContext(ctx, insertSQL(t.name, cols, n), batch...); err != nil {
			return fmt.Errorf("rows %d to %d: %w", done+1, done+int64(n), err)
		}
		batch, done = batch[:0], done+int64(n)
		if done%progressEvery == 0 && done < t.rows {
			progress(t.name, done, t.rows)
		}
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			pv, err := pgValue(v, types[i])
			if err != nil {
				return fmt.Errorf("column %s: %w", t.columns[i], err)
			}
			batch = append(batch, pv)
		}
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	progress(t.name, done, t.rows)
	if slices.Contains(t.columns, "id") {
		// pg_get_serial_sequence is NULL for an id that is no BIGSERIAL, and setval(NULL) does nothing.
		_, err := dst.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE((SELECT max(id) FROM "+
			quote(t.name)+"), 0) + 1, false)", quote(t.name))
		if err != nil {
			return fmt.Errorf("sequence: %w", err)
		}
	}
	return nil
}

// targetTypes are the PostgreSQL types of t's columns, in t's order; a column the target lacks
// means the two schemas differ.
func targetTypes(ctx context.Context, dst *sql.Tx, t sourceTable) ([]string, error) {
	rows, err := dst.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns "+
		"WHERE table_schema = current_schema() AND table_name = $1", t.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byName := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		byName[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	types := make([]string, len(t.columns))
	for i, c := range t.columns {
		if types[i] = byName[c]; types[i] == "" {
			return nil, fmt.Errorf("the target has no column %s", c)
		}
	}
	return types, nil
}

// pgValue turns a value as the SQLite driver reads it into one the PostgreSQL column of type
// pgType takes. SQLite keeps booleans as 0 and 1, and hands back as text a time it cannot parse.
// The error names the value's type only: the value may be a secret's hash.
func pgValue(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case int64:
		switch pgType {
		case "bigint", "integer":
			return x, nil
		case "boolean":
			return x != 0, nil
		case "double precision":
			return float64(x), nil
		}
	case float64:
		if pgType == "double precision" {
			return x, nil
		}
	case string:
		switch pgType {
		case "text":
			return x, nil
		case "timestamp with time zone":
			return time.Parse(timeLayout, x)
		}
	case []byte:
		switch pgType {
		case "text":
			return string(x), nil
		case "bytea":
			return x, nil
		}
	case time.Time:
		if pgType == "timestamp with time zone" {
			return x, nil
		}
	}
	return nil, fmt.Errorf("a %T does not fit a %s column", v, pgType)
}

// insertSQL is an INSERT of n rows of cols into table, in PostgreSQL's $n form.
func insertSQL(table string, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(table) + " (" + strings.Join(cols, ", ") + ") VALUES ")
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			b.WriteString("$" + strconv.Itoa(p))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// quote is name as an SQL identifier, in both dialects.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// querier is what countRows and queryStrings need of a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func countRows(ctx context.Context, db querier, table string) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(table)).Scan(&n)
	return n, err
}

func queryStrings(ctx context.Context, db querier, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
