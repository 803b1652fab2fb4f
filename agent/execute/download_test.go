package execute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/wire"
)

func TestDownload(t *testing.T) {
	const limit = 1024
	body := strings.Repeat("0123456789abcdef", 40) // 640 bytes
	mux := http.NewServeMux()
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body))
	})
	mux.HandleFunc("/declared-too-big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(limit+1))
		w.Write([]byte(strings.Repeat("x", limit+1)))
	})
	mux.HandleFunc("/streamed-too-big", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: chunked, so only counting the body can stop it.
		for range 8 {
			w.Write([]byte(strings.Repeat("y", 256)))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/exactly-the-limit", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("z", limit)))
	})
	mux.HandleFunc("/cut", func(w http.ResponseWriter, r *http.Request) {
		// Promise 600 bytes, send 300, then drop the connection.
		w.Header().Set("Content-Length", "600")
		w.Write([]byte(strings.Repeat("c", 300)))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name     string
		path     string
		dest     string // relative to the test's folder
		wantErr  string
		wantBody string
	}{
		{"file", "/file", "a.bin", "", body},
		{"creates folders", "/file", "new/deeper/a.bin", "", body},
		{"exactly the limit", "/exactly-the-limit", "z.bin", "", strings.Repeat("z", limit)},
		{"not found", "/missing", "a.bin", "server answered 404 Not Found", ""},
		{"declared too big", "/declared-too-big", "a.bin", "more than the 1024 allowed", ""},
		{"streamed too big", "/streamed-too-big", "a.bin", "more than the 1024 bytes allowed", ""},
		{"cut short", "/cut", "a.bin", "body:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			dest := filepath.Join(dir, filepath.FromSlash(tt.dest))
			res := New(Options{Runner: &fakeRunner{}, MaxDownload: limit}).Execute(context.Background(), wire.Command{
				Type:       wire.TypeDownload,
				Parameters: map[string]any{"url": srv.URL + tt.path, "destination": dest},
			})
			if tt.wantErr != "" {
				if res.Status != wire.ResultError || !strings.Contains(res.ErrorMessage, tt.wantErr) {
					t.Fatalf("got %q %q, want an error with %q", res.Status, res.ErrorMessage, tt.wantErr)
				}
				if _, err := os.Stat(dest); !os.IsNotExist(err) {
					t.Errorf("a failed download left %s (%v)", dest, err)
				}
			} else {
				if res.Status != wire.ResultSuccess {
					t.Fatalf("got %q %q, want success", res.Status, res.ErrorMessage)
				}
				got, err := os.ReadFile(dest)
				if err != nil || string(got) != tt.wantBody {
					t.Fatalf("file holds %d bytes (%v), want the %d sent", len(got), err, len(tt.wantBody))
				}
				gotSum := sha256.Sum256(got)
				wantOut := "downloaded " + strconv.Itoa(len(got)) + " bytes to " + dest + "\nsha256 " + hex.EncodeToString(gotSum[:])
				if res.Output != wantOut {
					t.Errorf("output %q, want %q", res.Output, wantOut)
				}
			}
			assertNoTempFiles(t, filepath.Dir(dest))
		})
	}
}

// A failed download leaves an existing file as it was.
func TestDownloadKeepsOldFileOnFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	dest := filepath.Join(tempDir(t), "kept.txt")
	if err := os.WriteFile(dest, []byte("old content"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := New(Options{Runner: &fakeRunner{}}).Execute(context.Background(), wire.Command{
		Type:       wire.TypeDownload,
		Parameters: map[string]any{"url": srv.URL, "destination": dest},
	})
	if res.Status != wire.ResultError {
		t.Fatalf("got %q, want an error", res.Status)
	}
	if got, _ := os.ReadFile(dest); string(got) != "old content" {
		t.Errorf("destination now holds %q", got)
	}
	assertNoTempFiles(t, filepath.Dir(dest))
}

func TestDownloadToAFolderIsRefused(t *testing.T) {
	dest := tempDir(t)
	res := New(Options{Runner: &fakeRunner{}}).Execute(context.Background(), wire.Command{
		Type:       wire.TypeDownload,
		Parameters: map[string]any{"url": "http://127.0.0.1:1/never", "destination": dest},
	})
	if res.Status != wire.ResultError || !strings.Contains(res.ErrorMessage, "is a folder") {
		t.Fatalf("got %q %q, want a refusal", res.Status, res.ErrorMessage)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".wcms-*"))
	if err != nil || len(matches) != 0 {
		t.Errorf("temporary files left: %v (%v)", matches, err)
	}
}
