package command

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Each format's good and bad values, through Validate as the server and the agent call it.
func TestFormats(t *testing.T) {
	tests := []struct {
		typ, param string
		others     map[string]any // the type's other required parameters
		good, bad  []string
	}{
		{"delete_user", "username", nil,
			[]string{"kim", "student.01", "lab_3-a", "A", strings.Repeat("a", 20)},
			[]string{"-kim", "kim minsu", "kim;id", "김민수", "a/b", strings.Repeat("a", 21)}},
		{"install", "app_id", nil,
			[]string{"vlc", "googlechrome", "7zip.install", "notepadplusplus", "libstdc++6", "python3.12"},
			[]string{"-y", ".hidden", "vlc firefox", "vlc;calc", "a/b", "pkg=1.0", strings.Repeat("a", 101)}},
		{"kill_process", "process_name", nil,
			[]string{"chrome.exe", "firefox", "Code - Insiders.exe", "python3.12"},
			[]string{`C:\x.exe`, "/usr/bin/x", "*", "chrome*", "a?", "-9", "a\nb"}},
		{"change_password", "new_password", map[string]any{"username": "kim"},
			[]string{"pw", "P@ss w0rd!", `with"quote`, "비밀번호", strings.Repeat("p", 127)},
			[]string{"a\nb", "a\x00b", strings.Repeat("p", 128)}},
		{"message", "message", nil,
			[]string{"hello", "two\nlines\r\n\tindented", strings.Repeat("한", 512)},
			[]string{"bell\a", strings.Repeat("한", 513)}},
		{"create_user", "language", map[string]any{"username": "kim", "password": "pw"},
			[]string{"ko-KR", "en_US", "KO-kr", "fil-PH", ""},
			[]string{"ko", "en", "Korean", "ko-KR-x", "ko KR"}},
		{"download", "url", map[string]any{"destination": "/tmp/a"},
			[]string{"http://example.com/a.zip", "https://10.0.0.1:8080/x?y=1"},
			[]string{"ftp://example.com/a", "file:///etc/passwd", "example.com/a", "http:///nohost", "::"}},
		{"download", "destination", map[string]any{"url": "https://example.com/a"},
			[]string{`C:\Users\Public\a.zip`, "c:/a.zip", `\\server\share\a.zip`, "/tmp/a.zip"},
			[]string{"a.zip", `..\a.zip`, "C:a.zip", "/tmp/a\x01"}},
		{"execute", "command", nil,
			[]string{"dir", "echo \"a & b\" | findstr a"},
			[]string{"a\x00b", strings.Repeat("x", maxShellLine+1), "  "}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.param, func(t *testing.T) {
			params := func(v string) map[string]any {
				m := map[string]any{tt.param: v}
				for k, o := range tt.others {
					m[k] = o
				}
				return m
			}
			for _, s := range tt.good {
				if _, err := Validate(tt.typ, params(s)); err != nil {
					t.Errorf("%q refused: %v", s, err)
				}
			}
			for _, s := range tt.bad {
				_, err := Validate(tt.typ, params(s))
				var pe *Error
				if !errors.As(err, &pe) || pe.Param != tt.param {
					t.Errorf("%q: %v, want an error naming %s", s, err, tt.param)
				}
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		want    int
		wantErr bool
	}{
		{"absent", nil, 0, false},
		{"json number", float64(60), 60, false},
		{"json.Number", json.Number("15"), 15, false},
		{"text", " 30 ", 30, false},
		{"largest", float64(86400), 86400, false},
		{"fraction", 1.5, 0, true},
		{"negative", float64(-1), 0, true},
		{"too large", float64(86401), 0, true},
		{"huge", 1e300, 0, true},
		{"word", "soon", 0, true},
		{"bool", true, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Validate("shutdown", map[string]any{"delay": tt.value})
			if (err != nil) != tt.wantErr || err == nil && p.Int("delay") != tt.want {
				t.Errorf("delay = %v, %v; want %d, error %v", p["delay"], err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	p, err := Validate("reboot", map[string]any{"delay": "30", "message": ""})
	if want := (Params{"delay": int64(30), "message": ""}); err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("reboot: %v, %v; want %v", p, err, want)
	}
	p, err = Validate("create_user", map[string]any{"username": "kim", "password": "pw", "language": "ko_kr", "full_name": nil})
	if want := (Params{"username": "kim", "password": "pw", "language": "ko-KR"}); err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("create_user: %v, %v; want %v", p, err, want)
	}
	p, _ = Validate("message", map[string]any{"message": "hi"})
	if p.Int("duration") != 10 {
		t.Errorf("message duration %v, want the default 10", p["duration"])
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		typ     string
		params  map[string]any
		want    string
		missing bool
	}{
		{"format_disk", nil, `unknown command type "format_disk"`, false},
		{"message", map[string]any{}, `parameter "message" is required`, true},
		{"message", map[string]any{"message": " "}, `parameter "message" is required`, true},
		{"message", map[string]any{"message": 42}, `parameter "message" must be a string`, false},
		{"shutdown", map[string]any{"delay": -1}, `parameter "delay" must be from 0 to 86400, not -1`, false},
	}
	for _, tt := range tests {
		_, err := Validate(tt.typ, tt.params)
		var pe *Error
		if err == nil || err.Error() != tt.want || errors.As(err, &pe) && pe.Missing != tt.missing {
			t.Errorf("%s %v: %v; want %q (missing %v)", tt.typ, tt.params, err, tt.want, tt.missing)
		}
	}
}

// A key the type does not have: Validate leaves it out (an agent runs what a newer server
// sends), CheckKeys refuses it (the server sends only documented keys).
func TestUnknownKeys(t *testing.T) {
	params := map[string]any{"delay": 5, "force": true}
	p, err := Validate("shutdown", params)
	if err != nil || len(p) != 1 || p.Int("delay") != 5 {
		t.Fatalf("Validate: %v, %v; want only delay", p, err)
	}
	st, _ := Lookup("shutdown")
	if err := st.CheckKeys(params); err == nil || err.Error() != `parameter "force" is not a parameter of shutdown` {
		t.Fatalf("CheckKeys: %v", err)
	}
	if err := st.CheckKeys(map[string]any{"delay": 5, "message": "bye"}); err != nil {
		t.Fatalf("CheckKeys of documented keys: %v", err)
	}
}

func TestCatalogue(t *testing.T) {
	if got := SecretNames(); !reflect.DeepEqual(got, []string{"password", "new_password"}) {
		t.Errorf("secret parameters %v", got)
	}
	for _, t0 := range Types() {
		want := t0.Name == "create_user" || t0.Name == "change_password"
		if HasSecret(t0.Name) != want {
			t.Errorf("%s: HasSecret %v", t0.Name, !want)
		}
	}
	if r, ok := Lookup("reboot"); !ok || r.Name != "restart" {
		t.Errorf("reboot is %v, %v; want restart", r, ok)
	}
}
