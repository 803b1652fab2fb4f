package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/mod/semver"
)

// AgentBuild is one agent binary the server hands out. Its file is kept in the build folder
// (agent-builds/ next to the database file) under its SHA-256.
type AgentBuild struct {
	bun.BaseModel `bun:"table:agent_builds"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Version   string    `bun:"version"`
	OS        string    `bun:"os"`
	Arch      string    `bun:"arch"`
	SHA256    string    `bun:"sha256"`
	Size      int64     `bun:"size"`
	Changelog string    `bun:"changelog"`
	CreatedAt time.Time `bun:"created_at"`
	CreatedBy string    `bun:"created_by"`
}

// FileName is the name the build is downloaded under.
func (b *AgentBuild) FileName() string {
	if b.OS == "windows" {
		return "wcms-agent.exe"
	}
	return "wcms-agent"
}

// semverOf puts the "v" that golang.org/x/mod/semver wants in front of a version stamped
// without one.
func semverOf(v string) string { return "v" + strings.TrimPrefix(v, "v") }

// IsVersion reports whether v is a semantic version (1.2.3, with or without a leading v), so
// builds can be ordered.
func IsVersion(v string) bool { return semver.IsValid(semverOf(v)) }

// StagedBuild is a build's file received into the build folder but not registered yet.
type StagedBuild struct {
	SHA256 string
	Size   int64
	f      *os.File
	moved  bool // AddAgentBuild moved the file into place
}

// ReadAt reads the staged file, so its content can be inspected before it is registered.
func (sb *StagedBuild) ReadAt(p []byte, off int64) (int, error) { return sb.f.ReadAt(p, off) }

// Discard removes the staged file unless AddAgentBuild moved it into place; call it (deferred)
// for every staged build. Errors are dropped: the file is a dot-named temporary that nothing
// ever serves.
func (sb *StagedBuild) Discard() {
	if sb.moved {
		return
	}
	sb.f.Close()
	os.Remove(sb.f.Name())
}

// moveTo makes the staged file the build's file at path, readable by everyone.
func (sb *StagedBuild) moveTo(path string) error {
	if err := sb.f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(sb.f.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(sb.f.Name(), path); err != nil {
		return err
	}
	sb.moved = true
	return nil
}

// StageAgentBuild copies r into a new file in the build folder, hashing it on the way: a build
// is never held in memory, and never visible half-written.
func (s *Store) StageAgentBuild(r io.Reader) (*StagedBuild, error) {
	if err := os.MkdirAll(s.buildDir, 0o755); err != nil {
		return nil, fmt.Errorf("stage agent build: %w", err)
	}
	f, err := os.CreateTemp(s.buildDir, ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("stage agent build: %w", err)
	}
	sb := &StagedBuild{f: f}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		sb.Discard()
		return nil, fmt.Errorf("stage agent build: %w", err)
	}
	sb.SHA256, sb.Size = hex.EncodeToString(h.Sum(nil)), n
	return sb, nil
}

func (s *Store) buildPath(b *AgentBuild) string { return filepath.Join(s.buildDir, b.SHA256) }

// AddAgentBuild registers b (version, OS, arch, changelog, creator) with its staged file, which
// takes its place under its hash in the same step; ErrDuplicate when a build with that hash is
// registered already.
func (s *Store) AddAgentBuild(ctx context.Context, b *AgentBuild, sb *StagedBuild, now time.Time) error {
	b.SHA256, b.Size, b.CreatedAt = sb.SHA256, sb.Size, now.UTC()
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	path := s.buildPath(b)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return ErrDuplicate
			}
			return err
		}
		// The file is in place before the row commits, so a build that can be found can be served.
		return sb.moveTo(path)
	})
	if err != nil {
		if sb.moved {
			// The row was rolled back, and the hash is unique: no other build uses this file.
			os.Remove(path)
		}
		return fmt.Errorf("add agent build %s: %w", sb.SHA256, err)
	}
	return nil
}

// AgentBuild returns one build.
func (s *Store) AgentBuild(ctx context.Context, id int64) (*AgentBuild, error) {
	b := new(AgentBuild)
	if err := s.r.NewSelect().Model(b).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(fmt.Sprintf("agent build %d", id), err)
	}
	return b, nil
}

// AgentBuildBySHA256 returns the build with that hash.
func (s *Store) AgentBuildBySHA256(ctx context.Context, sum string) (*AgentBuild, error) {
	b := new(AgentBuild)
	if err := s.r.NewSelect().Model(b).Where("sha256 = ?", sum).Scan(ctx); err != nil {
		return nil, notFound("agent build "+sum, err)
	}
	return b, nil
}

// ListAgentBuilds returns every build, newest registered first.
func (s *Store) ListAgentBuilds(ctx context.Context) ([]AgentBuild, error) {
	var bs []AgentBuild
	if err := s.r.NewSelect().Model(&bs).Order("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list agent builds: %w", err)
	}
	return bs, nil
}

// NewestAgentBuild returns the platform's build with the highest semantic version (among equal
// versions, the one registered last); ErrNotFound when the platform has none.
func (s *Store) NewestAgentBuild(ctx context.Context, goos, arch string) (*AgentBuild, error) {
	var bs []AgentBuild
	if err := s.r.NewSelect().Model(&bs).Where("os = ? AND arch = ?", goos, arch).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("newest agent build: %w", err)
	}
	var best *AgentBuild
	for i := range bs {
		if best == nil || semver.Compare(semverOf(bs[i].Version), semverOf(best.Version)) >= 0 {
			best = &bs[i]
		}
	}
	if best == nil {
		return nil, fmt.Errorf("agent build for %s/%s: %w", goos, arch, ErrNotFound)
	}
	return best, nil
}

// OpenAgentBuild opens a build's file; ErrNotFound when it is gone.
func (s *Store) OpenAgentBuild(b *AgentBuild) (*os.File, error) {
	f, err := os.Open(s.buildPath(b))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("agent build %d: file: %w", b.ID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("agent build %d: %w", b.ID, err)
	}
	return f, nil
}

// DeleteAgentBuild removes a build's row and file and returns what it was.
func (s *Store) DeleteAgentBuild(ctx context.Context, id int64) (*AgentBuild, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	b := new(AgentBuild)
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(b).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(fmt.Sprintf("agent build %d", id), err)
		}
		_, err := tx.NewDelete().Model(b).WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete agent build: %w", err)
	}
	// The row goes first, so no build can be found whose file is gone; a download that found it
	// a moment before gets ErrNotFound from OpenAgentBuild.
	if err := os.Remove(s.buildPath(b)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b, fmt.Errorf("delete agent build %d: remove file: %w", id, err)
	}
	return b, nil
}
