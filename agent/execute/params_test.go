package execute

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		good  []string
		bad   []string
	}{
		{"username", validUsername,
			[]string{"kim", "student.01", "lab_3-a", "A", strings.Repeat("a", 20)},
			[]string{"-kim", "kim minsu", "kim;id", "김민수", "a/b", strings.Repeat("a", 21)}},
		{"package id", validPackageID,
			[]string{"vlc", "googlechrome", "7zip.install", "notepadplusplus", "libstdc++6", "python3.12"},
			[]string{"-y", ".hidden", "vlc firefox", "vlc;calc", "a/b", "pkg=1.0", strings.Repeat("a", 101)}},
		{"process name", validProcessName,
			[]string{"chrome.exe", "firefox", "Code - Insiders.exe", "python3.12"},
			[]string{`C:\x.exe`, "/usr/bin/x", "*", "chrome*", "a?", "-9", "a\nb"}},
		{"password", validPassword,
			[]string{"pw", "P@ss w0rd!", `with"quote`, "비밀번호", strings.Repeat("p", 127)},
			[]string{"a\nb", "a\x00b", strings.Repeat("p", 128)}},
		{"message", validMessage,
			[]string{"hello", "two\nlines\r\n\tindented", strings.Repeat("한", 512)},
			[]string{"bell\a", strings.Repeat("한", 513)}},
		{"language", validLanguage,
			[]string{"ko-KR", "en_US", "KO-kr", "fil-PH"},
			[]string{"ko", "Korean", "ko-KR-x", "ko KR"}},
		{"url", validURL,
			[]string{"http://example.com/a.zip", "https://10.0.0.1:8080/x?y=1"},
			[]string{"ftp://example.com/a", "file:///etc/passwd", "example.com/a", "http:///nohost", "::"}},
		{"command", validCommand,
			[]string{"dir", "echo \"a & b\" | findstr a"},
			[]string{"a\x00b", strings.Repeat("x", maxCommandLen+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.good {
				if err := tt.check(s); err != nil {
					t.Errorf("%q refused: %v", s, err)
				}
			}
			for _, s := range tt.bad {
				if tt.check(s) == nil {
					t.Errorf("%q accepted", s)
				}
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		want    int
		wantErr bool
	}{
		{"absent", nil, 7, false},
		{"json number", float64(60), 60, false},
		{"json.Number", json.Number("15"), 15, false},
		{"string", " 30 ", 30, false},
		{"zero allowed", float64(0), 0, false},
		{"fraction", 1.5, 0, true},
		{"negative", float64(-1), 0, true},
		{"too large", float64(3601), 0, true},
		{"word", "soon", 0, true},
		{"bool", true, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params{}
			if tt.value != nil {
				p["delay"] = tt.value
			}
			got, err := p.seconds("delay", 7, 0, 3600)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("seconds = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAccountParams(t *testing.T) {
	a, err := params{
		"username": "kim", "password": "pw", "full_name": "Kim Minsu", "comment": "Lab 3", "language": "ko_kr",
	}.account()
	want := account{name: "kim", password: "pw", fullName: "Kim Minsu", comment: "Lab 3", language: "ko-KR"}
	if err != nil || a != want {
		t.Fatalf("account() = %+v, %v; want %+v", a, err, want)
	}
	a, err = params{"username": "kim", "password": "pw", "full_name": nil}.account()
	if want := (account{name: "kim", password: "pw"}); err != nil || a != want {
		t.Fatalf("account() = %+v, %v; want %+v", a, err, want)
	}
}
