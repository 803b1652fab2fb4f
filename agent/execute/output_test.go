package execute

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The .cp949 samples are real output of cmd.exe in a Korean locale (`dir` with Hangul file
// names, one from beyond EUC-KR; `type` of a missing file); the .utf8 files are the same
// text converted by iconv, a decoder independent of ours.
func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		codepage uint32
		want     string
	}{
		{"utf-8 passes through", []byte("안녕 hello\n"), 949, "안녕 hello\n"},
		{"korean dir", readTestdata(t, "dir_ko.cp949"), 949, string(readTestdata(t, "dir_ko.utf8"))},
		{"korean error", readTestdata(t, "type_ko.cp949"), 949, string(readTestdata(t, "type_ko.utf8"))},
		{"western ansi", []byte("caf\xe9 cr\xe8me"), 1252, "café crème"},
		{"western oem", []byte("caf\x82"), 437, "café"},
		{"linux keeps valid parts", []byte("ok \xff\xfe end"), utf8CodePage, "ok \uFFFD end"},
		{"unknown code page", []byte("a\xffb"), 12345, "a\uFFFDb"},
		{"empty", nil, 949, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(tt.in, tt.codepage); got != tt.want {
				t.Errorf("decode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCapWriter(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"under the cap", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly the cap", 6, []string{"abc", "def"}, "abcdef"},
		{"over the cap", 4, []string{"abc", "def", "ghi"}, "abcd\n[output truncated: 5 bytes dropped]"},
		// "한" is 3 bytes; a cap inside it drops the partial rune too, and counts it.
		{"cut inside a rune", 4, []string{"ab한글"}, "ab\n[output truncated: 6 bytes dropped]"},
		{"cut after a rune", 5, []string{"ab한", "글"}, "ab한\n[output truncated: 3 bytes dropped]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &capWriter{max: tt.max}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v: a capped writer must accept everything", s, n, err)
				}
			}
			if got := string(w.bytes()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := string(w.bytes()); got != tt.want {
				t.Errorf("second call got %q: bytes must not change what it returns", got)
			}
		})
	}
}

func BenchmarkDecodeCP949(b *testing.B) {
	sample := bytes.Repeat(readTestdata(b, "dir_ko.cp949"), 100)
	b.SetBytes(int64(len(sample)))
	for b.Loop() {
		decode(sample, 949)
	}
}

func BenchmarkDecodeUTF8(b *testing.B) {
	sample := []byte(strings.Repeat("hello 안녕하세요 world\n", 1000))
	b.SetBytes(int64(len(sample)))
	for b.Loop() {
		decode(sample, 949)
	}
}

func BenchmarkCapWriter(b *testing.B) {
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	b.SetBytes(int64(len(chunk)) * 64)
	for b.Loop() {
		w := &capWriter{max: defaultMaxOutput}
		for range 64 {
			w.Write(chunk)
		}
		w.bytes()
	}
}
