package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
)

// sqliteInstall is a migrated SQLite database with one admin and one room, closed.
func sqliteInstall(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "wcms.db")
	s, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdmin(ctx, &models.Admin{Username: "admin", PasswordHash: "hash", Role: models.RoleAdmin, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRoom(ctx, &models.Room{Name: "ENG301", Rows: 2, Cols: 2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return path
}

// saysBoth fails t unless err is said in Korean and in English, each with its words.
func saysBoth(t *testing.T, err error, ko, en string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), ko) || !strings.Contains(err.Error(), en) {
		t.Errorf("got %v; want %q and %q", err, ko, en)
	}
}

func TestMigrateRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	src := sqliteInstall(t)
	notSQLite := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notSQLite, []byte("these are not the rows you are looking for"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	pg := "postgres://wcms@127.0.0.1:1/none?sslmode=disable"
	for _, c := range []struct {
		name   string
		args   []string
		ko, en string
	}{
		{"no -to", []string{"-from", src}, "PostgreSQL 주소를", "-to takes a PostgreSQL URL"},
		{"a SQLite -to", []string{"-from", src, "-to", "other.db"}, "PostgreSQL 주소를", "-to takes a PostgreSQL URL"},
		{"a missing -from", []string{"-from", missing, "-to", pg}, "파일이 없거나", "no such file"},
		{"a -from that is no SQLite file", []string{"-from", notSQLite, "-to", pg}, "SQLite 데이터베이스 파일이 아닙니다", "is not a SQLite database file"},
		{"a PostgreSQL -from", []string{"-from", pg, "-to", pg}, "파일이 없거나", "no such file"},
		{"extra words", []string{"-from", src, "-to", pg, "now"}, "알 수 없는 인수", "unexpected arguments"},
		{"an unreachable -to", []string{"-from", src, "-to", pg}, "PostgreSQL에 연결할 수 없습니다", "cannot connect to PostgreSQL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			saysBoth(t, runMigrate(ctx, c.args, &out), c.ko, c.en)
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a refused migrate made the missing source: %v", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("WCMS_TEST_POSTGRES is not set: the copy to PostgreSQL is not tested")
	}
	ctx := context.Background()
	src, dst := sqliteInstall(t), testdb.DSN(t)
	var out strings.Builder
	if err := runMigrate(ctx, []string{"-from", src, "-to", dst}, &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, want := range []string{"\nadmins: 1/1\n", "\nrooms: 1/1\n", "\npcs: 0/0\n", "verified: ", "확인했습니다", "-data-dir '" + filepath.Dir(src) + "'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, &out)
		}
	}
	s, err := models.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, err := s.AdminByUsername(ctx, "admin"); err != nil || a.Role != models.RoleAdmin {
		t.Errorf("the admin on PostgreSQL: %+v %v", a, err)
	}

	out.Reset()
	err = runMigrate(ctx, []string{"-from", src, "-to", dst}, &out)
	saysBoth(t, err, "이미 데이터가 있어", "already holds data")
	saysBoth(t, err, "빈 데이터베이스를 새로 만들어", "create a fresh, empty database")
}

// The server logs its database, and migrate prints its target, without the password.
func TestRedacted(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://wcms:s3cret@db.lab/wcms?sslmode=verify-full": "postgres://wcms:xxxxx@db.lab/wcms?sslmode=verify-full",
		"postgresql://wcms@db.lab/wcms":                          "postgresql://wcms@db.lab/wcms",
		"postgres://wcms:s3cret@db.lab:bad/wcms":                 "postgres://…",
		`C:\WCMS\data\wcms.db`:                                   `C:\WCMS\data\wcms.db`,
		"data/wcms.db":                                           "data/wcms.db",
	} {
		if got := redacted(dsn); got != want {
			t.Errorf("redacted(%q) = %q, want %q", dsn, got, want)
		}
	}
}
