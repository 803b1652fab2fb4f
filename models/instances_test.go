package models

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/wire"
)

// Two server instances on one database deliver a PC's commands: each goes out once.
func TestNextCommandOnceAcrossInstances(t *testing.T) {
	dsn := testdb.DSN(t)
	a := openAt(t, dsn)
	b := openAt(t, dsn)
	ctx := context.Background()
	pc := registerTest(t, a, "M1")
	const n = 200
	cmds := make([]Command, n)
	for i := range cmds {
		cmds[i] = Command{PCID: pc.ID, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 60, CreatedBy: "alice"}
	}
	if err := a.EnqueueCommands(ctx, cmds, time.Now()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int64]int{}
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b, a, b} {
		wg.Go(func() {
			for {
				c, err := s.NextCommand(ctx, pc.ID, "10.0.0.1", time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if c == nil {
					return
				}
				mu.Lock()
				got[c.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d of %d commands delivered", len(got), n)
	}
	for id, times := range got {
		if times != 1 {
			t.Errorf("command %d delivered %d times", id, times)
		}
	}
}

// openAt opens a migrated store on dsn; on another test's database, as a second server instance
// would.
func openAt(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInstances(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	old := Instance{ID: "old", Name: "host-b:5050", Version: "1.0", StartedAt: now.Add(-48 * time.Hour), SeenAt: now.Add(-25 * time.Hour)}
	if err := s.SaveInstance(ctx, old); err != nil {
		t.Fatal(err)
	}
	a := Instance{ID: "a", Name: "host-a:5050", Version: "1.0", StartedAt: now, SeenAt: now, Leader: true, PCsHere: 3, PollsPerSecond: 1.5}
	if err := s.SaveInstance(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.SeenAt, a.Leader, a.PCsHere = now.Add(5*time.Second), false, 7
	if err := s.SaveInstance(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Instances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" || got[0].Leader || got[0].PCsHere != 7 || !got[0].SeenAt.Equal(a.SeenAt) || !got[0].StartedAt.Equal(now) {
		t.Fatalf("instances = %+v, want a's second row only (a day-old one deleted)", got)
	}
}
