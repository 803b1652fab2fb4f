package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	var registers int
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		registers++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"status":"error","message":"Invalid or expired PIN","error":{"code":"INVALID_PIN","message":"Invalid or expired PIN"}}`))
	}))
	defer refuse.Close()
	data := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string // expected in stdout+stderr
	}{
		{"help", []string{"help"}, nil, 0, "wcms-agent install -server URL -pin PIN"},
		{"version", []string{"version"}, nil, 0, "wcms-agent dev "},
		{"unknown command", []string{"frobnicate"}, nil, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"run", "-nope"}, nil, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"status", "extra"}, nil, 2, `unexpected argument "extra"`},
		{"bad log level", []string{"version", "-log-level", "loud"}, nil, 2, "want debug, info, warn or error"},
		{"install without server", []string{"install", "-pin", "123456", "-data", data}, nil, 1, "want a URL such as"},
		{"install with a short PIN", []string{"install", "-server", "http://10.0.0.5:5050", "-pin", "12", "-data", data}, nil, 1, "6 digits"},
		{"install with a refused PIN", []string{"install", "-server", refuse.URL, "-pin", "123456", "-data", data}, nil, 1, "Invalid or expired PIN"},
		{"PIN from the environment", []string{"install", "-server", refuse.URL, "-data", data}, map[string]string{"WCMS_PIN": "654321"}, 1, "Invalid or expired PIN"},
		{"run with no server anywhere", []string{"run", "-data", filepath.Join(data, "empty")}, nil, 1, "no usable server configured"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr)
			all := stdout.String() + stderr.String()
			if code != c.code || !strings.Contains(all, c.out) {
				t.Fatalf("exit %d, want %d; output:\n%s\nwant it to contain %q", code, c.code, all, c.out)
			}
		})
	}
	if registers != 2 {
		t.Errorf("the server saw %d registrations, want 2 (refused PINs go no further)", registers)
	}
	if _, err := os.Stat(filepath.Join(data, "agent.json")); !os.IsNotExist(err) {
		t.Errorf("a refused install left a config behind: %v", err)
	}
}
