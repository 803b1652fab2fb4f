package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/wire"
)

func TestCommandLine(t *testing.T) {
	var machineIDs []string // of each registration the server saw
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wire.RegisterRequest
		json.NewDecoder(r.Body).Decode(&req)
		machineIDs = append(machineIDs, req.MachineID)
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
		{"machine id with a space", []string{"install", "-server", refuse.URL, "-pin", "123456", "-data", data, "-machine-id", "lab pc"}, nil, 2, `machine id "lab pc": want 1 to 64 letters, digits, dots, underscores or dashes`},
		{"machine id too long", []string{"run", "-data", data, "-machine-id", strings.Repeat("a", 65)}, nil, 2, "want 1 to 64 letters"},
		{"machine id from the environment", []string{"run", "-data", data}, map[string]string{"WCMS_MACHINE_ID": "../etc"}, 2, `machine id "../etc"`},
		{"machine id sent", []string{"install", "-server", refuse.URL, "-pin", "123456", "-data", data, "-machine-id", "lab1-pc03.demo_2"}, nil, 1, "Invalid or expired PIN"},
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
	if len(machineIDs) != 3 || machineIDs[2] != "lab1-pc03.demo_2" {
		t.Errorf("the server saw registrations of %q, want 3 (refused PINs and machine ids go no further), the last as lab1-pc03.demo_2", machineIDs)
	}
	if _, err := os.Stat(filepath.Join(data, "agent.json")); !os.IsNotExist(err) {
		t.Errorf("a refused install left a config behind: %v", err)
	}
}
