package execute

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/windows")

const testSystem32 = `C:\Windows\System32`

// newWinTest is the Windows executor over a fake runner, with Korean Windows' code page.
// Chocolatey counts as installed when choco is true or once its installer has run.
func newWinTest(run *fakeRunner, choco bool) *executor {
	p := procs{runner: run, codepage: 949}
	find := func() (string, bool) {
		for _, ran := range run.processes() {
			choco = choco || programName(ran.Path) == "powershell.exe"
		}
		return `C:\ProgramData\chocolatey\bin\choco.exe`, choco
	}
	o := Options{Runner: run, Messenger: msgExe{procs: p, system32: testSystem32}}.withDefaults()
	return newExecutor(o, p, winSystem{procs: p, system32: testSystem32, findChoco: find, usersGroup: "Users"})
}

// The golden files show, for each command, every program the Windows executor runs (exact
// argv or raw command line, stdin), and the result it reports given the programs' answers.
func TestWindowsPlanGolden(t *testing.T) {
	koreanError := string(readTestdata(t, "type_ko.cp949"))
	tests := []struct {
		name    string
		typ     string
		params  map[string]any
		choco   bool
		replies map[string]reply
	}{
		{name: "shutdown", typ: wire.TypeShutdown, params: map[string]any{"delay": float64(60), "message": "Lab closes in a minute, \"save\" your work"}},
		{name: "restart", typ: wire.TypeRestart, params: map[string]any{}},
		{name: "reboot_alias", typ: wire.TypeReboot, params: map[string]any{"delay": "30"}},
		{name: "power_fails_after", typ: wire.TypeShutdown, params: map[string]any{},
			replies: map[string]reply{"shutdown.exe": {out: "Access is denied.(5)\r\n", code: 5}}},
		{name: "message", typ: wire.TypeMessage, params: map[string]any{"message": "수업이 끝났습니다.\n\"저장\"하세요", "duration": float64(20)}},
		{name: "kill_process", typ: wire.TypeKillProcess, params: map[string]any{"process_name": "chrome.exe"},
			replies: map[string]reply{"taskkill.exe": {out: "SUCCESS: The process \"chrome.exe\" with PID 4312 has been terminated.\r\n"}}},
		{name: "kill_process_not_found", typ: wire.TypeKillProcess, params: map[string]any{"process_name": "nosuch.exe"},
			replies: map[string]reply{"taskkill.exe": {out: "ERROR: The process \"nosuch.exe\" not found.\r\n", code: 128}}},
		{name: "execute", typ: wire.TypeExecute, params: map[string]any{"command": `type "C:\nosuch.txt" & echo "done" > "C:\My Files\log.txt"`},
			replies: map[string]reply{"cmd.exe": {out: koreanError, code: 1}}},
		{name: "install", typ: wire.TypeInstall, params: map[string]any{"app_id": "vlc"}, choco: true,
			replies: map[string]reply{"choco.exe": {out: "Chocolatey installed 1/1 packages.\r\n"}}},
		{name: "install_bootstraps_chocolatey", typ: wire.TypeInstall, params: map[string]any{"app_id": "7zip.install"}},
		{name: "install_chocolatey_fails", typ: wire.TypeInstall, params: map[string]any{"app_id": "vlc"},
			replies: map[string]reply{"powershell.exe": {out: "Exception calling \"DownloadString\"\r\n", code: 1}}},
		{name: "install_reboot_required", typ: wire.TypeInstall, params: map[string]any{"app_id": "dotnetfx"}, choco: true,
			replies: map[string]reply{"choco.exe": {out: "The install of dotnetfx was successful.\r\n", code: 3010}}},
		{name: "install_fails", typ: wire.TypeInstall, params: map[string]any{"app_id": "nosuchpackage"}, choco: true,
			replies: map[string]reply{"choco.exe": {out: "nosuchpackage not installed. The package was not found.\r\n", code: 1}}},
		{name: "uninstall", typ: wire.TypeUninstall, params: map[string]any{"app_id": "vlc"}, choco: true},
		{name: "uninstall_without_chocolatey", typ: wire.TypeUninstall, params: map[string]any{"app_id": "vlc"}},
		{name: "create_user", typ: wire.TypeCreateUser,
			params: map[string]any{"username": "kim", "password": "S3cret pass!", "full_name": "Kim Minsu", "comment": "Lab 3, seat 4", "language": "ko-KR"},
			replies: map[string]reply{
				"net.exe user":       {out: "The command completed successfully.\r\n\r\n"},
				"net.exe localgroup": {out: "System error 1378 has occurred.\r\n\r\nThe specified account name is already a member of the group.\r\n", code: 2},
				"schtasks.exe":       {out: "SUCCESS: The scheduled task \"WCMS\\Language kim\" has successfully been created.\r\n"},
			}},
		{name: "create_user_minimal", typ: wire.TypeCreateUser, params: map[string]any{"username": "lab01", "password": "pw"}},
		{name: "create_user_exists", typ: wire.TypeCreateUser, params: map[string]any{"username": "kim", "password": "pw1234"},
			replies: map[string]reply{"net.exe user": {out: "The account already exists.\r\n\r\nMore help is available by typing NET HELPMSG 2224.\r\n", code: 2}}},
		{name: "create_user_group_fails", typ: wire.TypeCreateUser, params: map[string]any{"username": "kim", "password": "pw1234"},
			replies: map[string]reply{"net.exe localgroup": {out: "System error 5 has occurred.\r\n\r\nAccess is denied.\r\n", code: 2}}},
		{name: "create_user_switch_password", typ: wire.TypeCreateUser, params: map[string]any{"username": "kim", "password": "/delete"}},
		{name: "delete_user", typ: wire.TypeDeleteUser, params: map[string]any{"username": "kim"},
			replies: map[string]reply{"schtasks.exe": {out: "ERROR: The system cannot find the file specified.\r\n", code: 1}}},
		{name: "delete_user_with_language_task", typ: wire.TypeDeleteUser, params: map[string]any{"username": "kim"}},
		{name: "change_password", typ: wire.TypeChangePassword, params: map[string]any{"username": "kim", "new_password": "N3w pass"},
			// A tool that echoes the password: it must not reach the result.
			replies: map[string]reply{"net.exe": {out: "bad password N3w pass\r\n", code: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &fakeRunner{replies: tt.replies}
			cmd := wire.Command{ID: 7, Type: tt.typ, Parameters: tt.params}
			res := newWinTest(run, tt.choco).Execute(context.Background(), cmd)
			var got strings.Builder
			fmt.Fprintf(&got, "command: %s\n", mustJSON(t, cmd))
			writeProcesses(&got, run.processes())
			writeResult(&got, res)
			if res.After != nil {
				before := len(run.processes())
				err := res.After(context.Background())
				fmt.Fprintf(&got, "after: error %v\n", err)
				writeProcesses(&got, run.processes()[before:])
			}
			checkGolden(t, filepath.Join("testdata", "windows", tt.name+".golden"), got.String())
		})
	}
}

func writeProcesses(w *strings.Builder, ps []Process) {
	for _, p := range ps {
		fmt.Fprintf(w, "run: %s\n", p.Path)
		if p.CmdLine != "" {
			fmt.Fprintf(w, "  cmdline: %s\n", p.CmdLine)
		}
		if p.Args != nil {
			args, _ := json.Marshal(p.Args)
			fmt.Fprintf(w, "  args: %s\n", args)
		}
		if p.Stdin != "" {
			fmt.Fprintf(w, "  stdin: %q\n", p.Stdin)
		}
		if p.Env != nil {
			fmt.Fprintf(w, "  env: %q\n", p.Env)
		}
	}
}

func writeResult(w *strings.Builder, r Result) {
	fmt.Fprintf(w, "status: %s\n", r.Status)
	if r.ExitCode != nil {
		fmt.Fprintf(w, "exit_code: %d\n", *r.ExitCode)
	}
	if r.ErrorMessage != "" {
		fmt.Fprintf(w, "error_message: %s\n", r.ErrorMessage)
	}
	if r.Output != "" {
		fmt.Fprintf(w, "output:\n")
		for line := range strings.Lines(strings.ReplaceAll(r.Output, "\r\n", "\n")) {
			fmt.Fprintf(w, "  | %s", line)
		}
		if !strings.HasSuffix(r.Output, "\n") {
			w.WriteString("\n")
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
