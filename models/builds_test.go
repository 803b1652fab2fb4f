package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func addBuild(t *testing.T, s *Store, content, version, goos, arch string) *AgentBuild {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	b := &AgentBuild{Version: version, OS: goos, Arch: arch, CreatedBy: "test", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}
	if err := s.InsertAgentBuild(context.Background(), b, time.Now(), strings.NewReader(content), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewestAgentBuild(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.NewestAgentBuild(ctx, "linux", "amd64"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no builds: %v", err)
	}
	for _, v := range []string{"1.9.0", "1.10.0-rc.1", "v1.2.0"} {
		addBuild(t, s, "linux "+v, v, "linux", "amd64")
	}
	ten := addBuild(t, s, "linux 1.10.0", "1.10.0", "linux", "amd64")
	addBuild(t, s, "linux 1.9.9", "1.9.9", "linux", "amd64") // registered later, still older
	win := addBuild(t, s, "windows 2.0.0", "2.0.0", "windows", "amd64")
	arm := addBuild(t, s, "linux arm64 0.1.0", "0.1.0", "linux", "arm64")

	for _, c := range []struct {
		os, arch string
		want     *AgentBuild
	}{
		{"linux", "amd64", ten},
		{"windows", "amd64", win},
		{"linux", "arm64", arm},
		{"windows", "386", nil},
	} {
		t.Run(c.os+"/"+c.arch, func(t *testing.T) {
			got, err := s.NewestAgentBuild(ctx, c.os, c.arch)
			if c.want == nil {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("got %+v %v, want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got.ID != c.want.ID {
				t.Fatalf("got %+v %v, want build %d (%s)", got, err, c.want.ID, c.want.Version)
			}
		})
	}
	t.Run("equal versions: the one registered last", func(t *testing.T) {
		rebuilt := addBuild(t, s, "linux 1.10.0 rebuilt", "1.10.0", "linux", "amd64")
		if got, err := s.NewestAgentBuild(ctx, "linux", "amd64"); err != nil || got.ID != rebuilt.ID {
			t.Fatalf("got %+v %v, want the rebuild %d", got, err, rebuilt.ID)
		}
	})
	t.Run("list newest registered first", func(t *testing.T) {
		bs, err := s.ListAgentBuilds(ctx)
		if err != nil || len(bs) != 8 {
			t.Fatalf("%d builds, %v", len(bs), err)
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].ID >= bs[i-1].ID {
				t.Fatalf("not newest first: %d after %d", bs[i].ID, bs[i-1].ID)
			}
		}
	})
}

func TestIsVersion(t *testing.T) {
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{"1.2.3", true}, {"v1.2.3", true}, {"1.10.0-rc.1", true}, {"0.9.0-dev", true}, {"1.2", true},
		{"", false}, {"dev", false}, {"1.2.3 beta", false}, {`"1.2.3"`, false}, {"vv1.2.3", false},
	} {
		t.Run(c.v, func(t *testing.T) {
			if IsVersion(c.v) != c.ok {
				t.Fatalf("IsVersion(%q) = %v", c.v, !c.ok)
			}
		})
	}
}
