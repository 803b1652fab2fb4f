package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

func TestNewer(t *testing.T) {
	for _, c := range []struct {
		v, ours string
		want    bool
	}{
		{"1.0.1", "1.0.0", true},
		{"1.10.0", "1.9.0", true},
		{"v2.0.0", "1.9.9", true},
		{"1.0.0", "1.0.0", false},
		{"0.9.0", "1.0.0", false},
		{"1.0.0", "1.0.0-rc1", true},
		{"1.0.1", "dev", false}, // a development build never replaces itself
		{"garbage", "1.0.0", false},
	} {
		if got := newer(c.v, c.ours); got != c.want {
			t.Errorf("newer(%q, %q) = %v", c.v, c.ours, got)
		}
	}
}

// Builds here are shell scripts standing in for agent binaries: `selfcheck` is all the update
// asks of them. The real binaries are exercised in e2e.
const (
	buildV1 = "#!/bin/sh\necho old build\n"
	buildV2 = "#!/bin/sh\necho \"wcms-agent 9.9.9 linux/amd64 ok\"\n"
)

type updateRig struct {
	f   *fakeServer
	dir string
	exe string
}

func newUpdateRig(t *testing.T, build string) *updateRig {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in builds are shell scripts")
	}
	f := newFakeServer(t)
	sum := sha256.Sum256([]byte(build))
	f.version = wire.VersionResponse{Status: "success", Version: "9.9.9", DownloadURL: f.URL + "/download/build",
		SHA256: hex.EncodeToString(sum[:])}
	f.build = []byte(build)
	r := &updateRig{f: f, dir: t.TempDir()}
	r.exe = filepath.Join(r.dir, "bin", "wcms-agent")
	os.MkdirAll(filepath.Dir(r.exe), 0o755)
	if err := os.WriteFile(r.exe, []byte(buildV1), 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *updateRig) config(version string) Config {
	cfg := testConfig(r.f, filepath.Join(r.dir, "data"))
	cfg.Version, cfg.Executable, cfg.UpdateInterval = version, r.exe, time.Hour
	return cfg
}

func (r *updateRig) content(t *testing.T, suffix string) string {
	t.Helper()
	b, err := os.ReadFile(r.exe + suffix)
	if err != nil {
		return "missing: " + err.Error()
	}
	return string(b)
}

func TestSelfUpdateSwapsAndConfirms(t *testing.T) {
	r := newUpdateRig(t, buildV2)
	old := startAgent(t, r.config("1.0.0"), &fakeExecutor{})
	if err := waitRun(t, old); !IsRestart(err) {
		t.Fatalf("Run: %v, want a restart into the new build", err)
	}
	if got := r.content(t, ""); got != buildV2 {
		t.Fatalf("in place: %q, want the new build", got)
	}
	if got := r.content(t, ".old"); got != buildV1 {
		t.Fatalf("kept aside: %q, want the old build", got)
	}

	// The new build starts, reaches the server and keeps itself.
	fresh := startAgent(t, r.config("9.9.9"), &fakeExecutor{})
	eventually(t, "the update confirmed", func() bool { return strings.Contains(fresh.logs.String(), "update confirmed") })
	if _, err := os.Stat(r.exe + ".old"); !os.IsNotExist(err) {
		t.Errorf("old build still there after confirmation: %v", err)
	}
	if _, ok := fresh.loadMarker(); ok {
		t.Error("update marker still there after confirmation")
	}
}

func TestSelfUpdateRollsBackWhenNewBuildCannotReachServer(t *testing.T) {
	r := newUpdateRig(t, buildV2)
	old := startAgent(t, r.config("1.0.0"), &fakeExecutor{})
	if err := waitRun(t, old); !IsRestart(err) {
		t.Fatalf("Run: %v", err)
	}
	r.f.down.Store(true)
	cfg := r.config("9.9.9")
	cfg.UpdateConfirm = 300 * time.Millisecond
	fresh := startAgent(t, cfg, &fakeExecutor{})
	if err := waitRun(t, fresh); !IsRestart(err) {
		t.Fatalf("Run of the new build: %v, want a restart into the old one", err)
	}
	if got := r.content(t, ""); got != buildV1 {
		t.Fatalf("after rollback: %q, want the old build back", got)
	}
	if got := r.content(t, ".bad"); got != buildV2 {
		t.Errorf("the failed build should be kept as .bad, got %q", got)
	}

	// The old build runs again and leaves that version alone.
	r.f.down.Store(false)
	again := startAgent(t, r.config("1.0.0"), &fakeExecutor{})
	eventually(t, "the old build declining the failed version", func() bool {
		return strings.Contains(again.logs.String(), "not retrying a build that failed")
	})
	if got := r.content(t, ""); got != buildV1 {
		t.Errorf("the failed version was installed again")
	}
}

func TestSelfUpdateRollsBackAfterTooManyStarts(t *testing.T) {
	r := newUpdateRig(t, buildV2)
	os.WriteFile(r.exe+".old", []byte(buildV1), 0o755)
	os.WriteFile(r.exe, []byte(buildV2), 0o755)
	os.MkdirAll(filepath.Join(r.dir, "data"), 0o700)
	a := &Agent{cfg: r.config("9.9.9")}
	if err := a.saveJSON(a.markerPath(), updateMarker{From: "1.0.0", To: "9.9.9", Exe: r.exe, Starts: maxUpdateStarts}); err != nil {
		t.Fatal(err)
	}
	crashing := startAgent(t, r.config("9.9.9"), &fakeExecutor{})
	if err := waitRun(t, crashing); !IsRestart(err) {
		t.Fatalf("Run: %v, want an immediate rollback", err)
	}
	if got := r.content(t, ""); got != buildV1 {
		t.Fatalf("after rollback: %q", got)
	}
}

func TestSelfUpdateRefusesBadBuilds(t *testing.T) {
	for _, c := range []struct {
		name, build, served, log string
	}{
		{"checksum mismatch", buildV2, buildV2 + "tampered", "SHA-256 mismatch"},
		{"self-check fails", "#!/bin/sh\necho broken >&2\nexit 1\n", "", "failed its self-check"},
		{"wrong version", "#!/bin/sh\necho \"wcms-agent 1.2.3 linux/amd64 ok\"\n", "", "want version 9.9.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newUpdateRig(t, c.build)
			if c.served != "" {
				r.f.build = []byte(c.served)
			}
			a := startAgent(t, r.config("1.0.0"), &fakeExecutor{})
			eventually(t, "the refusal in the log", func() bool { return strings.Contains(a.logs.String(), c.log) })
			if got := r.content(t, ""); got != buildV1 {
				t.Errorf("the running build was replaced: %q", got)
			}
			for _, suffix := range []string{".new", ".old"} {
				if _, err := os.Stat(r.exe + suffix); !os.IsNotExist(err) {
					t.Errorf("%s left behind: %v", suffix, err)
				}
			}
			select {
			case <-a.done:
				t.Errorf("the agent stopped: %v", a.err)
			default:
			}
		})
	}
}
