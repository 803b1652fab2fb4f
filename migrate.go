package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// migrateMain runs `wcms-server migrate …` and gives the exit code.
func migrateMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runMigrate(ctx, args, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "wcms-server migrate:", err)
		return 1
	}
	return 0
}

// said is an error of migrate in Korean and English, with what to do next, and its cause.
type said struct {
	ko, en string
	cause  error
}

func (e *said) Error() string {
	s := e.ko + "\n" + e.en
	if e.cause != nil {
		s += "\n(" + e.cause.Error() + ")"
	}
	return s
}

func (e *said) Unwrap() error { return e.cause }

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// runMigrate copies the SQLite installation -from into the empty PostgreSQL database -to
// (models.Copy), writing its progress and the counts of both sides to out.
func runMigrate(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("wcms-server migrate", flag.ContinueOnError)
	fs.SetOutput(out)
	from := fs.String("from", filepath.Join("data", "wcms.db"), "the SQLite database file to copy (the server's -db); it is only read")
	to := fs.String("to", "", "the empty PostgreSQL database to copy into: postgres://user:password@host/database?sslmode=verify-full")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &said{ko: fmt.Sprintf("알 수 없는 인수입니다: %q. -from과 -to만 받습니다.", fs.Args()),
			en: fmt.Sprintf("unexpected arguments %q: migrate takes -from and -to only", fs.Args())}
	}
	if !models.IsPostgres(*to) {
		return &said{ko: "-to에 PostgreSQL 주소를 주십시오: postgres://사용자:암호@호스트/데이터베이스?sslmode=verify-full",
			en: "-to takes a PostgreSQL URL: postgres://user:password@host/database?sslmode=verify-full"}
	}
	if err := checkSQLiteFile(*from); err != nil {
		return err
	}
	src, err := models.OpenReadOnly(ctx, *from)
	if err != nil {
		return &said{ko: fmt.Sprintf("SQLite 파일을 열 수 없습니다: %s", *from), en: fmt.Sprintf("cannot open the SQLite file %s", *from), cause: err}
	}
	defer src.Close()
	dst, err := models.Open(ctx, *to)
	if err != nil {
		return &said{ko: "PostgreSQL에 연결할 수 없습니다. -to의 호스트, 사용자, 암호, 데이터베이스와 sslmode를 확인하십시오.",
			en: "cannot connect to PostgreSQL: check the host, user, password, database and sslmode of -to", cause: err}
	}
	defer dst.Close()

	fmt.Fprintf(out, "%s → %s\n", *from, redacted(*to))
	start := time.Now()
	rep, err := models.Copy(ctx, src, dst, func(table string, done, total int64) {
		fmt.Fprintf(out, "%s: %d/%d\n", table, done, total)
	})
	if err != nil {
		return copyError(err)
	}
	took := time.Since(start)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "표 table\tSQLite\tPostgreSQL\t")
	for _, c := range rep.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.From, c.To)
	}
	tw.Flush()
	rate := float64(rep.Rows) / took.Seconds()
	fmt.Fprintf(out, "확인했습니다: 표 %d개, %d행이 양쪽에서 같습니다 (%.1f초, 초당 %.0f행).\n", len(rep.Tables), rep.Rows, took.Seconds(), rate)
	fmt.Fprintf(out, "verified: %d tables, %d rows, the same on both sides (%.1f s, %.0f rows/s)\n", len(rep.Tables), rep.Rows, took.Seconds(), rate)
	// The PIN key, the first password file and agent builds stay in the SQLite file's folder.
	dir := filepath.Dir(*from)
	fmt.Fprintf(out, "이제 서버의 -db에 -to의 주소를, -data-dir에 '%s' 폴더를 주어 시작하십시오.\n", dir)
	fmt.Fprintf(out, "now start the server with -db set to the -to URL and -data-dir '%s'\n", dir)
	return nil
}

// checkSQLiteFile refuses a -from that is not an existing SQLite database file.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &said{ko: fmt.Sprintf("-from %s: 파일이 없거나 읽을 수 없습니다. 서버의 -db 파일(기본값 data/wcms.db)을 주십시오.", path),
			en: fmt.Sprintf("-from %s: no such file, or it cannot be read; give the server's -db file (data/wcms.db by default)", path), cause: err}
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return &said{ko: fmt.Sprintf("-from %s: SQLite 데이터베이스 파일이 아닙니다.", path),
			en: fmt.Sprintf("-from %s is not a SQLite database file", path)}
	}
	return nil
}

// copyError says what went wrong in the copy and what to do next.
func copyError(err error) error {
	switch {
	case errors.Is(err, models.ErrTargetNotEmpty):
		return &said{ko: "대상 PostgreSQL 데이터베이스에 이미 데이터가 있어 아무것도 옮기거나 바꾸지 않았습니다. 빈 데이터베이스를 새로 만들어(예: createdb wcms) 그 주소로 다시 실행하십시오.",
			en: "the target PostgreSQL database already holds data, so nothing was copied or changed: create a fresh, empty database (e.g. createdb wcms) and run again with its URL", cause: err}
	case errors.Is(err, models.ErrSourceBehind):
		return &said{ko: "SQLite 데이터베이스가 이 버전보다 오래되었습니다. 이 버전의 서버를 그 파일로 한 번 시작했다가(시작할 때 스키마를 올립니다) 멈춘 뒤 다시 실행하십시오.",
			en: "the SQLite database is older than this version: start this version's server on it once (it updates the schema at start), stop it, and run again", cause: err}
	case errors.Is(err, models.ErrSourceAhead):
		return &said{ko: "SQLite 데이터베이스가 이 프로그램보다 새 버전에서 쓰였습니다. 그 파일을 마지막으로 쓴 버전의 wcms-server로 옮기십시오.",
			en: "the SQLite database was written by a newer version than this program: migrate with the wcms-server that last ran on it", cause: err}
	case errors.Is(err, models.ErrCountsDiffer):
		return &said{ko: "옮긴 뒤 행 수가 맞지 않아 아무것도 저장하지 않았습니다. 다시 실행하고, 또 그러면 이 출력과 함께 알려 주십시오.",
			en: "the row counts differ after the copy, so nothing was kept: run again, and if it happens again, report it with this output", cause: err}
	}
	return &said{ko: "옮기지 못했습니다. 대상에는 옮긴 행이 남지 않았으니 원인을 고친 뒤 같은 명령을 다시 실행하십시오.",
		en: "the copy failed; the target keeps none of the copied rows: fix the cause and run the same command again", cause: err}
}

// redacted is the database to print or log: a PostgreSQL URL without its password.
func redacted(dsn string) string {
	if !models.IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}
