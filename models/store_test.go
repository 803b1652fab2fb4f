package models

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/wire"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, testdb.DSN(t))
}

func ptr[T any](v T) *T { return &v }

func registerTest(t *testing.T, s *Store, machineID string) *PC {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	pin, _, err := s.CreatePIN(ctx, pinHash, PINMulti, now.Add(time.Hour), "admin", now)
	if err != nil {
		t.Fatal(err)
	}
	pc := &PC{MachineID: machineID, Hostname: "LAB-" + machineID, MACAddress: "AA:BB", IPAddress: "10.0.0.1"}
	disks := []Disk{{Mount: `C:\`, TotalGB: ptr(237.0), FSType: "NTFS"}}
	if _, err := s.Register(ctx, Enrol{PINHash: pin.TokenHash, PC: pc, Disks: disks}, now); err != nil {
		t.Fatal(err)
	}
	return pc
}

func TestMigrateUpDownUp(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	again, err := s.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate ran %v, %v", again, err)
	}
	// Down to nothing, one migration at a time, then up again.
	var undone []string
	for {
		v, err := s.MigrateDown(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == "" {
			break
		}
		undone = append(undone, v)
	}
	if len(undone) < 2 {
		t.Fatalf("undid only %v", undone)
	}
	if _, err := s.CountAdmins(ctx); err == nil {
		t.Fatal("admins table survived the down migrations")
	}
	if ran, err := s.Migrate(ctx); err != nil || len(ran) != len(undone) {
		t.Fatalf("re-migrate: %v %v", ran, err)
	}
}

// A database the earlier runner made (its record in schema_migrations) is taken over: nothing
// runs again, nothing is lost, and the old table goes.
func TestMigrateTakesOverTheOldRecord(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "OLD-1")
	// Make it as the old runner left it: no bun_migrations, schema_migrations with every version.
	var names []string
	if err := s.w.NewSelect().Table("bun_migrations").Column("name").Order("name").Scan(ctx, &names); err != nil || len(names) < 4 {
		t.Fatalf("bun_migrations: %v %v", names, err)
	}
	old := []string{"20261125000001_init", "20261125000002_agent_builds", "20261125000003_wall_links", "20261204000004_identity"}
	for range names[len(old):] { // the old runner never saw the migrations added since
		if _, err := s.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"DROP TABLE bun_migrations", "DROP TABLE bun_migration_locks",
		"CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range old {
		if _, err := s.w.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, '2026-11-25T00:00:00Z')", v); err != nil {
			t.Fatal(err)
		}
	}
	// The old runner knew these four; the migrations added since run now.
	ran, err := s.Migrate(ctx)
	if err != nil || len(ran) != len(names)-len(old) {
		t.Fatalf("migrating a database the old runner made ran %v, %v; want the %d after %v", ran, err, len(names)-len(old), old)
	}
	if _, err := s.PCByID(ctx, pc.ID); err != nil {
		t.Fatalf("the PC is gone: %v", err)
	}
	var left int
	if err := s.w.NewSelect().TableExpr("schema_migrations").ColumnExpr("count(*)").Scan(ctx, &left); err == nil {
		t.Fatalf("schema_migrations left: %d %v", left, err)
	}
	if v, err := s.MigrateDown(ctx); err != nil || v != append(old, ran...)[len(old)+len(ran)-1] {
		t.Fatalf("the newest migration after the takeover: %q %v", v, err)
	}
}

func TestPINLifecycle(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	single, value, err := s.CreatePIN(ctx, pinHash, PINSingle, now.Add(time.Minute), "admin", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(value) != 6 || single.TokenHash != pinHash(value) {
		t.Fatalf("PIN %q is not 6 digits, or not stored as its hash", value)
	}
	pc := &PC{MachineID: "M1", Hostname: "h", MACAddress: "m"}
	if out, err := s.Register(ctx, Enrol{PINHash: single.TokenHash, PC: pc}, now); err != nil || out != Enrolled {
		t.Fatalf("first use: %v %v", out, err)
	}
	if _, err := s.Register(ctx, Enrol{PINHash: single.TokenHash, PC: &PC{MachineID: "M2", Hostname: "h", MACAddress: "m"}}, now); !errors.Is(err, ErrPINUsed) {
		t.Fatalf("second use of a single PIN: %v", err)
	}
	if _, err := s.Register(ctx, Enrol{PINHash: single.TokenHash, PC: &PC{MachineID: "M3"}}, now.Add(2*time.Minute)); !errors.Is(err, ErrPINInvalid) {
		t.Fatalf("expired PIN: %v", err)
	}
	multi, _, _ := s.CreatePIN(ctx, pinHash, PINMulti, now.Add(time.Minute), "admin", now)
	if err := s.RevokePIN(ctx, multi.TokenHash, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(ctx, Enrol{PINHash: multi.TokenHash, PC: &PC{MachineID: "M4"}}, now); !errors.Is(err, ErrPINInvalid) {
		t.Fatalf("revoked PIN: %v", err)
	}
	if err := s.RevokePIN(ctx, multi.TokenHash, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
}

func TestReRegisterKeepsIDAndHistory(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "M1")
	again := registerTest(t, s, "M1")
	if again.ID != pc.ID {
		t.Fatalf("re-registration made a new PC: %d vs %d", again.ID, pc.ID)
	}
	rows, err := s.ListPCs(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("PCs: %d %v", len(rows), err)
	}
	if rows[0].Hostname != "LAB-M1" || !rows[0].IsVerified {
		t.Fatalf("row: %+v", rows[0])
	}
}

func TestDeletePCCascades(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	other := registerTest(t, s, "M2")
	if err := s.SaveFullState(ctx, pc.ID, FullState{CPUUsage: ptr(5.0), Processes: ptr(`["a"]`),
		Disks: []Disk{{Mount: `C:\`, UsedGB: ptr(1.0)}}, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordIP(ctx, pc.ID, "10.0.0.2", now); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{pc.ID, other.ID} {
		if err := s.SetOffline(ctx, id, now, ReasonTimeout); err != nil {
			t.Fatal(err)
		}
	}
	cmds := []Command{{PCID: pc.ID, Type: wire.TypeExecute, Parameters: `{"command":"dir"}`, Priority: 5, Timeout: 60},
		{PCID: other.ID, Type: wire.TypeExecute, Parameters: `{}`, Priority: 5, Timeout: 60}}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePC(ctx, pc.ID, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"pc_state", "pc_disks", "pc_ip_history", "pc_outages", "commands"} {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE pc_id = ?", pc.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s keeps %d rows of the deleted PC", table, n)
		}
		if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE pc_id = ?", other.ID).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s lost the other PC's rows (%d, %v)", table, n, err)
		}
	}
	if err := s.DeletePC(ctx, pc.ID, "admin", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestCommandQueueOrderAndSecrets(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	cmds := []Command{
		{PCID: pc.ID, Type: "message", Parameters: `{"message":"low"}`, Priority: 9, Timeout: 60},
		{PCID: pc.ID, Type: "change_password", Parameters: `{"username":"u","new_password":"s3cret"}`, Priority: 1, Timeout: 60},
		{PCID: pc.ID, Type: "message", Parameters: `{"message":"mid-a"}`, Priority: 5, Timeout: 60},
		{PCID: pc.ID, Type: "message", Parameters: `{"message":"mid-b"}`, Priority: 5, Timeout: 60},
	}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		c, err := s.NextCommand(ctx, pc.ID, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if c == nil {
			break
		}
		got = append(got, c.Parameters)
	}
	want := []string{cmds[1].Parameters, cmds[2].Parameters, cmds[3].Parameters, cmds[0].Parameters}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("delivery order %v, want %v", got, want)
		}
	}
	stored, err := s.CommandByID(ctx, cmds[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Parameters != `{"username":"u"}` || stored.Status != wire.StatusExecuting {
		t.Fatalf("after delivery: %q %s", stored.Parameters, stored.Status)
	}
	var n int
	s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM commands WHERE parameters LIKE '%s3cret%'").Scan(&n)
	if n != 0 {
		t.Fatal("the secret is still in the database")
	}
}

func TestResultOnceAndBoundToPC(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	other := registerTest(t, s, "M2")
	cmds := []Command{{PCID: pc.ID, Type: "execute", Parameters: `{"command":"x"}`, Priority: 5, Timeout: 60}}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	id := cmds[0].ID
	if _, err := s.ReportResult(ctx, id, Reporter{PCID: pc.ID}, Result{Status: "success"}, now); !errors.Is(err, ErrNotDelivered) {
		t.Fatalf("result before delivery: %v", err)
	}
	if _, err := s.NextCommand(ctx, pc.ID, "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReportResult(ctx, id, Reporter{PCID: other.ID}, Result{Status: "success"}, now); !errors.Is(err, ErrWrongPC) {
		t.Fatalf("result from the wrong PC: %v", err)
	}
	c, err := s.ReportResult(ctx, id, Reporter{PCID: pc.ID}, Result{Status: "error", Output: "out", ExitCode: ptr(3)}, now)
	if err != nil || c.Status != wire.StatusError || *c.ExitCode != 3 {
		t.Fatalf("result: %+v %v", c, err)
	}
	if _, err := s.ReportResult(ctx, id, Reporter{}, Result{Status: "success", Output: "replay"}, now); !errors.Is(err, ErrAlreadyReported) {
		t.Fatalf("replayed result: %v", err)
	}
	stored, _ := s.CommandByID(ctx, id)
	if stored.Output != "out" || stored.Status != wire.StatusError {
		t.Fatalf("the replay changed the command: %+v", stored)
	}
	if _, err := s.ReportResult(ctx, 999, Reporter{}, Result{Status: "success"}, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestExpireAndLateResult(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	cmds := []Command{
		{PCID: pc.ID, Type: "execute", Parameters: `{"command":"a"}`, Priority: 1, Timeout: 10},
		{PCID: pc.ID, Type: "create_user", Parameters: `{"username":"u","password":"p"}`, Priority: 5, Timeout: 10},
	}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextCommand(ctx, pc.ID, "", now); err != nil {
		t.Fatal(err)
	}
	ended, err := s.ExpireCommands(ctx, now.Add(11*time.Second), nil)
	if err != nil || len(ended) != 1 || ended[0].ID != cmds[1].ID {
		t.Fatalf("expire at +11s: %+v %v", ended, err)
	}
	undelivered, _ := s.CommandByID(ctx, cmds[1].ID)
	if undelivered.Status != wire.StatusTimeout || undelivered.Parameters != `{"username":"u"}` {
		t.Fatalf("undelivered: %+v", undelivered)
	}
	ended, err = s.ExpireCommands(ctx, now.Add(10*time.Second+resultGrace+time.Second), nil)
	if err != nil || len(ended) != 1 || ended[0].ID != cmds[0].ID {
		t.Fatalf("expire executing: %+v %v", ended, err)
	}
	c, err := s.ReportResult(ctx, cmds[0].ID, Reporter{PCID: pc.ID}, Result{Status: "success", Output: "late"}, now.Add(2*time.Minute))
	if err != nil || c.Status != wire.StatusCompleted {
		t.Fatalf("late result of a delivered command: %+v %v", c, err)
	}
	if _, err := s.ReportResult(ctx, cmds[1].ID, Reporter{PCID: pc.ID}, Result{Status: "success"}, now); !errors.Is(err, ErrAlreadyReported) {
		t.Fatalf("result of an undelivered, timed-out command: %v", err)
	}
}

// A deep queue on a PC that polls: every command waits its turn, its timeout counting from its
// delivery (issue 15: with 470 queued, 249 ended "did not poll within the timeout" while the PC
// polled). Once the PC stops polling for a timeout, those past their deadline end.
func TestPendingWaitsWhileThePCPolls(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	lastPoll := now.Add(399 * time.Second) // it polls every 2 s, and stops here
	polled := func(id int64) time.Time {
		if id != pc.ID {
			return time.Time{}
		}
		return lastPoll
	}
	cmds := make([]Command, 470)
	for i := range cmds {
		cmds[i] = Command{PCID: pc.ID, Type: wire.TypeMessage, Parameters: `{"message":"hi"}`, Priority: 5, Timeout: 300}
	}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	for i := range 200 { // delivered every 2 s (and never answered), then the rest wait
		if _, err := s.NextCommand(ctx, pc.ID, "", now.Add(time.Duration(i)*2*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := s.ExpireCommands(ctx, now.Add(400*time.Second), polled)
	if err != nil {
		t.Fatal(err)
	}
	undelivered := func(cs []Command) (n int) {
		for _, c := range cs {
			if c.StartedAt == nil {
				n++
			}
		}
		return n
	}
	if n := undelivered(ended); n != 0 {
		t.Fatalf("%d undelivered commands ended at +400 s on a PC that polls; want none", n)
	}
	if ended, _ = s.ExpireCommands(ctx, now.Add(698*time.Second), polled); undelivered(ended) != 0 {
		t.Fatalf("%d undelivered ended 299 s after the last poll; want none before the 300 s timeout", undelivered(ended))
	}
	ended, err = s.ExpireCommands(ctx, now.Add(700*time.Second), polled)
	if err != nil {
		t.Fatal(err)
	}
	if n := undelivered(ended); n != 270 || ended[len(ended)-1].Status != wire.StatusTimeout {
		t.Fatalf("%d undelivered ended 301 s after the last poll; want 270", n)
	}
}

// A command with an expiry waits for its PC, polling or not, past its timeout: it is delivered
// when the PC comes back (its timeout then counting from delivery), and ends expired otherwise.
func TestCommandWaitsForItsPCUntilItExpires(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	day := now.Add(24 * time.Hour)
	cmds := []Command{
		{PCID: pc.ID, Type: wire.TypeInstall, Parameters: `{"app_id":"7zip"}`, Priority: 5, Timeout: 300, ExpiresAt: &day},
		{PCID: pc.ID, Type: wire.TypeInstall, Parameters: `{"app_id":"vlc"}`, Priority: 6, Timeout: 300, ExpiresAt: &day},
	}
	if err := s.EnqueueCommands(ctx, cmds, now); err != nil {
		t.Fatal(err)
	}
	never := func(int64) time.Time { return time.Time{} }
	if ended, err := s.ExpireCommands(ctx, now.Add(23*time.Hour), never); err != nil || len(ended) != 0 {
		t.Fatalf("ended before the expiry, with the PC off all along: %d %v", len(ended), err)
	}
	// The PC comes back after 23 hours: the first is delivered, and has its timeout from then.
	back := now.Add(23 * time.Hour)
	c, err := s.NextCommand(ctx, pc.ID, "", back)
	if err != nil || c == nil || c.ID != cmds[0].ID || !c.DeadlineAt.Equal(back.UTC().Add(300*time.Second+resultGrace)) {
		t.Fatalf("delivered on return: %+v %v", c, err)
	}
	if _, err := s.ReportResult(ctx, c.ID, Reporter{PCID: pc.ID}, Result{Status: wire.ResultSuccess}, back.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ended, err := s.ExpireCommands(ctx, day, never)
	if err != nil || len(ended) != 1 || ended[0].ID != cmds[1].ID || ended[0].Status != wire.StatusExpired {
		t.Fatalf("at the expiry: %+v %v; want the undelivered one expired", ended, err)
	}
}

func TestStateWritesKeepFullData(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	if err := s.SaveFullState(ctx, pc.ID, FullState{CPUUsage: ptr(10.0), RAMUsed: ptr(8.5), CurrentUser: ptr("student"),
		Uptime: ptr(int64(100)), Processes: ptr(`["a.exe"]`), Disks: []Disk{{Mount: `C:\`, UsedGB: ptr(100.0), FreeGB: ptr(137.0), Percent: ptr(42.2)}}, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLive(ctx, []LightState{{PCID: pc.ID, CPUUsage: ptr(55.5), RAMUsagePercent: ptr(60.0), At: now.Add(time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	d, err := s.PCDetail(ctx, pc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *d.State.CPUUsage != 55.5 || *d.State.RAMUsed != 8.5 || *d.State.CurrentUser != "student" || *d.State.Processes != `["a.exe"]` {
		t.Fatalf("state: %+v", d.State)
	}
	if len(d.Disks) != 1 || *d.Disks[0].TotalGB != 237 || *d.Disks[0].Percent != 42.2 || d.Disks[0].FSType != "NTFS" {
		t.Fatalf("disks: %+v", d.Disks)
	}
	if d.LastSeen == nil || d.LastSeen.Sub(now.Add(time.Second)).Abs() > time.Millisecond {
		t.Fatalf("last_seen %v", d.LastSeen)
	}
	if len(d.IPHistory) != 1 || d.IPHistory[0].IPAddress != "10.0.0.1" {
		t.Fatalf("IP history %+v", d.IPHistory)
	}
}

func TestRoomsAndSeats(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	other := registerTest(t, s, "M2")
	if err := s.CreateRoom(ctx, &Room{Name: "A101", Rows: 2, Cols: 3}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRoom(ctx, &Room{Name: "A101", Rows: 1, Cols: 1}, now); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate room: %v", err)
	}
	if err := s.SetSeat(ctx, pc.ID, "A101", 2, 3, now); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		room     string
		row, col int
		want     error
	}{
		"taken":   {"A101", 2, 3, ErrSeatTaken},
		"outside": {"A101", 3, 1, ErrSeatOutOfRange},
		"no room": {"B", 1, 1, ErrNotFound},
	} {
		if err := s.SetSeat(ctx, other.ID, c.room, c.row, c.col, now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := s.UpdateRoom(ctx, "A101", Room{Rows: 1}); !errors.Is(err, ErrRoomTooSmall) {
		t.Fatalf("shrink below a placed PC: %v", err)
	}
	if _, err := s.DeleteRoom(ctx, "A101"); !errors.Is(err, ErrRoomNotEmpty) {
		t.Fatalf("delete a room with PCs: %v", err)
	}
	if _, err := s.UpdateRoom(ctx, "A101", Room{Name: "A102"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListPCs(ctx)
	if err != nil || len(rows) != 2 || rows[1].RoomName != nil || *rows[0].RoomName != "A102" || *rows[0].SeatRow != 2 {
		t.Fatalf("PCs in A102: %+v %v", rows, err)
	}
	rooms, err := s.ListRooms(ctx)
	if err != nil || len(rooms) != 1 || rooms[0].PCCount != 1 {
		t.Fatalf("rooms %+v %v", rooms, err)
	}
	if err := s.SetSeat(ctx, pc.ID, "", 0, 0, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteRoom(ctx, "A102"); err != nil {
		t.Fatal(err)
	}
}

func TestSaveLiveClosesOutages(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	pc := registerTest(t, s, "M1")
	if err := s.SetOffline(ctx, pc.ID, now, ReasonShutdown); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLive(ctx, nil, []Online{{PCID: pc.ID, At: now.Add(90 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	os, err := s.Outages(ctx, pc.ID, 10)
	if err != nil || len(os) != 1 || os[0].EndedAt == nil || *os[0].DurationSeconds != 90 || os[0].Reason != ReasonShutdown {
		t.Fatalf("outage after coming back: %+v %v", os, err)
	}
	got, _ := s.PCByID(ctx, pc.ID)
	if !got.IsOnline {
		t.Fatal("PC not online after SaveLive")
	}
}

// More states than one transaction takes: every PC gets its own figures and time, and a figure
// not sent keeps the stored one.
func TestSaveLiveInChunks(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	var states []LightState
	for i := range liveChunk*2 + 3 {
		pc := registerTest(t, s, fmt.Sprintf("CHUNK-%04d", i))
		states = append(states, LightState{PCID: pc.ID, CPUUsage: ptr(float64(i % 100)), RAMUsagePercent: ptr(float64(i % 7)),
			At: at.Add(time.Duration(i) * time.Millisecond)})
	}
	states[0].CPUUsage = nil
	if err := s.SaveLive(ctx, []LightState{{PCID: states[0].PCID, CPUUsage: ptr(42.0), At: at}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLive(ctx, states, nil); err != nil {
		t.Fatal(err)
	}
	for i, l := range states {
		d, err := s.PCDetail(ctx, l.PCID)
		if err != nil {
			t.Fatal(err)
		}
		wantCPU := float64(i % 100)
		if i == 0 {
			wantCPU = 42 // not sent the second time
		}
		if d.State.CPUUsage == nil || *d.State.CPUUsage != wantCPU || *d.State.RAMUsagePercent != float64(i%7) ||
			d.LastSeen == nil || !d.LastSeen.Equal(l.At) {
			t.Fatalf("PC %d: cpu %v ram %v last seen %v; want %v, %d, %v", i, d.State.CPUUsage, *d.State.RAMUsagePercent, d.LastSeen, wantCPU, i%7, l.At)
		}
	}
}

// Batch writes wait while a command write is pending, for at most maxYield; the command
// writes, failed ones included, leave no mark behind.
func TestBatchWritesYieldToUrgentOnes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "YIELD-1")
	done := s.urgentWrite()
	start := time.Now()
	if err := s.SaveLive(ctx, []LightState{{PCID: pc.ID, CPUUsage: ptr(1.0), At: start}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFullState(ctx, pc.ID, FullState{CPUUsage: ptr(2.0), At: start}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*maxYield {
		t.Errorf("a flush and a full heartbeat went ahead of a pending command after %v", waited)
	}
	done()
	cmds := []Command{{PCID: pc.ID, Type: "execute", Parameters: `{"command":"x"}`, Priority: 5, Timeout: 60}}
	if err := s.EnqueueCommands(ctx, cmds, start); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReportResult(ctx, cmds[0].ID, Reporter{PCID: pc.ID}, Result{Status: "success"}, start); !errors.Is(err, ErrNotDelivered) {
		t.Fatalf("result before delivery: %v", err)
	}
	if _, err := s.NextCommand(ctx, pc.ID, "", start); err != nil {
		t.Fatal(err)
	}
	if n := s.prio.urgent; n != 0 {
		t.Fatalf("%d urgent writes still marked after they ended: every flush would wait", n)
	}
}

// A batch write waiting for an urgent one goes as soon as it ends, not at maxYield.
func TestBatchWritesGoWhenUrgentOnesEnd(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pc := registerTest(t, s, "YIELD-2")
	done := s.urgentWrite()
	wrote := make(chan time.Time)
	go func() {
		if err := s.SaveLive(ctx, []LightState{{PCID: pc.ID, CPUUsage: ptr(1.0), At: time.Now()}}, nil); err != nil {
			t.Error(err)
		}
		wrote <- time.Now()
	}()
	time.Sleep(maxYield / 5) // the flush is waiting
	ended := time.Now()
	done()
	if after := (<-wrote).Sub(ended); after >= maxYield*3/4 {
		t.Errorf("the flush went %v after the urgent write ended", after)
	}
}

// BenchmarkSaveLive is one flush of 5,000 PCs' light states: what the server writes each second
// at 10,000 agents.
func BenchmarkSaveLive(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	pin, _, err := s.CreatePIN(ctx, pinHash, PINMulti, time.Now().Add(time.Hour), "admin", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	states := make([]LightState, 5000)
	for i := range states {
		pc := &PC{MachineID: fmt.Sprintf("BENCH-%05d", i), Hostname: "LAB", MACAddress: "AA", IPAddress: "10.0.0.1"}
		if _, err := s.Register(ctx, Enrol{PINHash: pin.TokenHash, PC: pc}, time.Now()); err != nil {
			b.Fatal(err)
		}
		states[i] = LightState{PCID: pc.ID, CPUUsage: ptr(12.5), RAMUsagePercent: ptr(40.0)}
	}
	for b.Loop() {
		for j := range states {
			states[j].At = time.Now()
		}
		if err := s.SaveLive(ctx, states, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// pinHash stands for the server's keyed PIN hash (tokens.PINHasher) in these tests.
func pinHash(pin string) string { return "test:" + pin }
