package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/wire"
)

// copyTarget is an empty PostgreSQL store, not migrated; the test is skipped without one.
func copyTarget(t *testing.T) *Store {
	t.Helper()
	if !testdb.Postgres() {
		t.Skip("WCMS_TEST_POSTGRES is not set: the copy to PostgreSQL is not tested")
	}
	s, err := Open(context.Background(), testdb.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// filled is what filledSource put in, to look up afterwards.
type filled struct {
	path      string
	pc        *PC
	command   int64
	timesWere time.Time
}

// filledSource is a SQLite file with rows in every table, made through the store's own calls,
// then closed: Copy reads it through OpenReadOnly.
func filledSource(t *testing.T) filled {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "wcms.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := &Admin{Username: "kim", PasswordHash: "hash", Role: RoleOperator, MustChangePassword: true, CreatedAt: now}
	must(s.CreateAdmin(ctx, admin))
	must(s.RecordAuthFailure(ctx, "pin|10.0.0.9", now, time.Hour))
	must(s.CreateSession(ctx, &Session{TokenHash: "session", AdminID: admin.ID, CSRFToken: "csrf", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	room := &Room{Name: "ENG301", Rows: 2, Cols: 3}
	must(s.CreateRoom(ctx, room, now))
	pc, other := registerTest(t, s, "PC-1"), registerTest(t, s, "PC-2")
	must(s.SetSeat(ctx, pc.ID, "ENG301", 1, 2, now))
	must(s.SaveFullState(ctx, pc.ID, FullState{CPUUsage: ptr(12.5), RAMUsed: ptr(3.25), RAMUsagePercent: ptr(40.0), CurrentUser: ptr("student"),
		Uptime: ptr(int64(3600)), Processes: ptr(`["explorer.exe"]`), AgentVersion: "1.2.3",
		Disks: []Disk{{Mount: `C:\`, UsedGB: ptr(100.0), FreeGB: ptr(137.0), Percent: ptr(42.2)}}, At: now}))
	must(s.RecordIP(ctx, pc.ID, "10.0.0.9", now))
	must(s.SetOffline(ctx, other.ID, now, ReasonShutdown))
	cmds := []Command{{PCID: pc.ID, Type: "message", Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 60, CreatedBy: "kim"}}
	must(s.EnqueueCommands(ctx, cmds, now))
	if _, err := s.NextCommand(ctx, pc.ID, "10.0.0.9", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReportResult(ctx, cmds[0].ID, Reporter{PCID: pc.ID}, Result{Status: wire.ResultSuccess, Output: "shown", ExitCode: ptr(0)}, now); err != nil {
		t.Fatal(err)
	}
	addBuild(t, s, "linux 1.2.3", "1.2.3", "linux", "amd64")
	if _, err := s.CreateWallLink(ctx, "ENG301", "wall", "front screen", "kim", now); err != nil {
		t.Fatal(err)
	}
	pin, _, err := s.CreatePIN(ctx, pinHash, PINMulti, now.Add(time.Hour), "kim", now)
	must(err)
	if e, err := s.Register(ctx, Enrol{PINHash: pin.TokenHash, PC: &PC{MachineID: "PC-2", Hostname: "NEW-2", MACAddress: "CC", AgentTokenHash: "fresh"}}, now); err != nil || e != ApprovalNeeded {
		t.Fatalf("a re-enrolment request: %v %v", e, err)
	}
	must(s.ScheduleRoomAction(ctx, &RoomAction{RoomName: "ENG301", Type: "shutdown", Parameters: "{}", Priority: 1, Timeout: 60, SendAt: now.Add(time.Minute), CreatedBy: "kim"}, now))
	must(s.AddTimetableEntry(ctx, &TimetableEntry{RoomID: room.ID, Days: 0b0111110, Action: "shutdown", AtMinute: 22 * 60,
		WarnMinutes: 10, Message: "곧 꺼집니다", RetryMinutes: 15, FinalMinute: 23 * 60, Force: true, CreatedBy: "kim"}, now))
	must(s.AddTimetableException(ctx, &TimetableException{Day: "2026-12-25", Skip: "all", Note: "성탄절", CreatedBy: "kim"}, now))
	must(s.RunTimetableStep(ctx, &TimetableRun{StepKey: "1/2026-12-07/shutdown", RoomID: room.ID, RoomName: "ENG301", EntryID: 1,
		Kind: "shutdown", PlannedAt: now, Outcomes: `[{"pc_id":1,"hostname":"PC-1","outcome":"skipped","user":"student"}]`}, nil, now))
	w, err := s.StartWake(ctx, []int64{other.ID}, "kim", now)
	must(err)
	if ended, err := s.EndWake(ctx, other.ID, *w.SentAt, WakeAwake, "42s", now.Add(42*time.Second)); !ended || err != nil {
		t.Fatalf("end wake: %v %v", ended, err)
	}
	hour := now.Truncate(time.Hour).Add(-time.Hour).Unix()
	var minutes []Minute
	for i := range 60 {
		minutes = append(minutes, minuteAt(pc.ID, time.Unix(hour+int64(i)*60, 0), 30, 60, float64(i), float64(i+1), "student"))
	}
	if _, err := s.SaveMinutes(ctx, minutes); err != nil {
		t.Fatal(err)
	}
	must(s.RollupHour(ctx, hour))
	return filled{path: path, pc: pc, command: cmds[0].ID, timesWere: now}
}

// fileSum is the SHA-256 of path and of its WAL, to see that the source is not changed.
func fileSum(t *testing.T, path string) [2][32]byte {
	t.Helper()
	var sums [2][32]byte
	for i, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(b)
	}
	return sums
}

// offsets matches a UTC time's offset, which SQLite's driver writes +00:00 and pgx Z.
var offsets = regexp.MustCompile(`(\+00:00|Z)"`)

// sameJSON fails t when a and b, read from the two stores, differ as JSON.
func sameJSON(t *testing.T, what string, a, b any) {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if sa, sb := offsets.ReplaceAllString(string(ja), `Z"`), offsets.ReplaceAllString(string(jb), `Z"`); sa != sb {
		t.Errorf("%s differs after the copy:\nSQLite     %s\nPostgreSQL %s", what, sa, sb)
	}
}

func openSource(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCopyToPostgres(t *testing.T) {
	to := copyTarget(t)
	f := filledSource(t)
	before := fileSum(t, f.path)
	from := openSource(t, f.path)
	ctx := context.Background()

	var lines []string
	rep, err := Copy(ctx, from, to, func(table string, done, total int64) {
		lines = append(lines, table)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) < 16 || len(lines) != len(rep.Tables) {
		t.Fatalf("copied %d tables, %d progress lines: %+v", len(rep.Tables), len(lines), rep.Tables)
	}
	for _, c := range rep.Tables {
		// Every table has rows here, so a column of any table that does not convert fails;
		// a table a migration adds must be filled by filledSource too.
		if c.From == 0 || c.From != c.To {
			t.Errorf("%s: %d rows in SQLite, %d in PostgreSQL; filledSource must fill every table", c.Table, c.From, c.To)
		}
	}
	if fileSum(t, f.path) != before {
		t.Error("the copy changed the source file")
	}

	// The same answers from both stores.
	for _, c := range []struct {
		what string
		read func(s *Store) (any, error)
	}{
		{"ListPCs", func(s *Store) (any, error) { return s.ListPCs(ctx) }},
		{"PCDetail", func(s *Store) (any, error) { return s.PCDetail(ctx, f.pc.ID) }},
		{"the command and its result", func(s *Store) (any, error) { return s.CommandByID(ctx, f.command) }},
		{"the admin", func(s *Store) (any, error) { return s.AdminByUsername(ctx, "kim") }},
		{"the session", func(s *Store) (any, error) {
			sess, a, err := s.SessionAdmin(ctx, "session", f.timesWere)
			return []any{sess, a}, err
		}},
		{"ListRooms", func(s *Store) (any, error) { return s.ListRooms(ctx) }},
		{"the wall link", func(s *Store) (any, error) { return s.WallLinks(ctx, "ENG301") }},
		{"ListPINs", func(s *Store) (any, error) { return s.ListPINs(ctx, f.timesWere) }},
		{"ListAgentBuilds", func(s *Store) (any, error) { return s.ListAgentBuilds(ctx) }},
		{"AgentBuildContent", func(s *Store) (any, error) {
			var content bytes.Buffer
			err := s.AgentBuildContent(ctx, 1, &content)
			return content.String(), err
		}},
		{"Reenrolments", func(s *Store) (any, error) { return s.Reenrolments(ctx) }},
		{"room actions", func(s *Store) (any, error) { return s.ScheduledRoomActions(ctx) }},
		{"Outages", func(s *Store) (any, error) { return s.Outages(ctx, f.pc.ID+1, 10) }},
		{"pc events", func(s *Store) (any, error) { return s.PCEventLog(ctx, LogQuery{Limit: 50}) }},
		{"minutes", func(s *Store) (any, error) {
			return s.PCHistory(ctx, f.pc.ID, Span{From: f.timesWere.Add(-2 * time.Hour).Truncate(time.Hour), To: f.timesWere, Step: time.Minute})
		}},
		{"hours", func(s *Store) (any, error) {
			return s.PCHistory(ctx, f.pc.ID, Span{From: f.timesWere.Add(-2 * time.Hour).Truncate(time.Hour), To: f.timesWere, Step: time.Hour})
		}},
	} {
		a, err := c.read(from)
		if err != nil {
			t.Fatalf("%s from SQLite: %v", c.what, err)
		}
		b, err := c.read(to)
		if err != nil {
			t.Fatalf("%s from PostgreSQL: %v", c.what, err)
		}
		sameJSON(t, c.what, a, b)
	}

	// New rows get ids past the copied ones.
	pc := registerTest(t, to, "PC-NEW")
	cmds := []Command{{PCID: pc.ID, Type: "message", Parameters: "{}", Priority: 5, Timeout: 60}}
	if err := to.EnqueueCommands(ctx, cmds, time.Now()); err != nil {
		t.Fatalf("a command after the copy: %v", err)
	}
	if pc.ID <= f.pc.ID+1 || cmds[0].ID <= f.command {
		t.Errorf("after the copy a new PC got id %d, a command %d; the copied ones go up to %d and %d", pc.ID, cmds[0].ID, f.pc.ID+1, f.command)
	}

	// A second run finds data and changes nothing.
	if _, err := Copy(ctx, from, to, func(string, int64, int64) {}); !errors.Is(err, ErrTargetNotEmpty) {
		t.Fatalf("a copy into a store with data: %v, want ErrTargetNotEmpty", err)
	}
	if pcs, err := to.ListPCs(ctx); err != nil || len(pcs) != 3 {
		t.Errorf("after the refusal the target has %d PCs (%v), want 3", len(pcs), err)
	}
}

func TestCopyRefusesAnotherSchema(t *testing.T) {
	to := copyTarget(t)
	f := filledSource(t)
	ctx := context.Background()
	s, err := Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MigrateDown(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Copy(ctx, openSource(t, f.path), to, func(string, int64, int64) {}); !errors.Is(err, ErrSourceBehind) {
		t.Fatalf("a source one migration behind: %v, want ErrSourceBehind", err)
	}
	var tables int
	if err := to.r.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("the refused copy made %d tables in the target (%v)", tables, err)
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	if s, err := OpenReadOnly(context.Background(), path); err == nil {
		s.Close()
		t.Fatal("opened a missing file")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing source made it: %v", err)
	}
}

// A copy that fails half-way keeps nothing, so the same copy can simply run again.
func TestCopyAgainAfterAFailure(t *testing.T) {
	to := copyTarget(t)
	from := openSource(t, filledSource(t).path)
	ctx, cancel := context.WithCancel(context.Background())
	tables := 0
	_, err := Copy(ctx, from, to, func(string, int64, int64) {
		if tables++; tables == 5 {
			cancel() // the fifth table done: the sixth fails
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a copy cancelled half-way: %v", err)
	}
	if n, err := to.CountAdmins(context.Background()); err != nil || n != 0 {
		t.Fatalf("after the failure the target has %d admins (%v), want none", n, err)
	}
	rep, err := Copy(context.Background(), from, to, func(string, int64, int64) {})
	if err != nil || rep.Rows == 0 {
		t.Fatalf("the copy again: %+v %v", rep, err)
	}
}
