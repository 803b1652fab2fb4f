package models

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/migrations"
)

// A migration's record commits with it: when the process dies right after a migration's
// commit (here: its context ends there, before bun/migrate's own record), the next start does
// not run it again, and a migration undone that way is applied again.
func TestMigrateRecordsInItsTransaction(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "wcms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cut := &cutAfterCommit{}
	s.w.AddQueryHook(cut)

	cut.arm("CREATE TABLE admins")
	if _, err := s.Migrate(cut.ctx); err == nil {
		t.Fatal("the migration after the cut went on")
	}
	ran, err := s.Migrate(context.Background())
	if err != nil || len(ran) == 0 || strings.HasSuffix(ran[0], "_init") {
		t.Fatalf("after the cut ran %v, %v; want the rest after init", ran, err)
	}

	newest := ran[len(ran)-1]
	cut.arm(newestDown(t))
	if _, err := s.MigrateDown(cut.ctx); err == nil {
		t.Fatal("the rollback after the cut went on")
	}
	if again, err := s.Migrate(context.Background()); err != nil || !slices.Equal(again, []string{newest}) {
		t.Fatalf("after the cut down ran %v, %v; want %s again", again, err, newest)
	}
}

// newestDown is the first statement of the newest migration's down file.
func newestDown(t *testing.T) string {
	downs, err := fs.Glob(migrations.FS, "*.down.sql")
	if err != nil || len(downs) == 0 {
		t.Fatal(downs, err)
	}
	slices.Sort(downs)
	b, err := fs.ReadFile(migrations.FS, downs[len(downs)-1])
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), ";")
	return strings.TrimSpace(first)
}

// cutAfterCommit ends ctx as the transaction that ran a statement holding marker commits.
type cutAfterCommit struct {
	marker string
	seen   bool
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *cutAfterCommit) arm(marker string) {
	c.marker, c.seen = marker, false
	c.ctx, c.cancel = context.WithCancel(context.Background())
}

func (c *cutAfterCommit) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *cutAfterCommit) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if c.marker != "" && strings.Contains(e.Query, c.marker) {
		c.seen = true
	}
	if c.seen && e.Query == "COMMIT" {
		c.cancel()
		c.marker, c.seen = "", false
	}
}

// Instances that start at once on one PostgreSQL database migrate it once between them: the
// others wait for the advisory lock, then find nothing to do.
func TestMigrateConcurrentlyOnPostgres(t *testing.T) {
	dsn := testdb.DSN(t)
	if !IsPostgres(dsn) {
		t.Skip("WCMS_TEST_POSTGRES is not set")
	}
	const n = 3
	ran := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			ran[i], errs[i] = s.Migrate(context.Background())
		})
	}
	wg.Wait()
	total, all := 0, 0
	names, _ := fs.Glob(migrations.FS, "*.up.sql")
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		total += len(ran[i])
		if len(ran[i]) > 0 {
			all++
		}
	}
	if total != len(names) || all != 1 {
		t.Errorf("%d migrations ran in %d instances, want the %d once: %v", total, all, len(names), ran)
	}
}
