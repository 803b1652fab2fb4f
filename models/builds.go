package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/mod/semver"
)

// AgentBuild is one agent binary the server hands out; package agentbuilds keeps its file.
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

// InsertAgentBuild adds a build's row (its SHA256 and Size set) and runs place inside the same
// transaction, after the insert and before the commit, to put the build's file where it is served
// from: a build that can be found can be served. ErrDuplicate when a build with that hash is
// registered already.
func (s *Store) InsertAgentBuild(ctx context.Context, b *AgentBuild, now time.Time, place func() error) error {
	b.CreatedAt = now.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return ErrDuplicate
			}
			return err
		}
		return place()
	})
	if err != nil {
		return fmt.Errorf("add agent build %s: %w", b.SHA256, err)
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

// DeleteAgentBuild removes a build's row and returns what it was.
func (s *Store) DeleteAgentBuild(ctx context.Context, id int64) (*AgentBuild, error) {
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
	return b, nil
}
