package models

import (
	"context"
	"fmt"
	"io"
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

// InsertAgentBuild adds a build's row (its SHA256 and Size set) with its content, and runs place
// inside the same transaction, after the insert and before the commit, to put the build's file
// where it is served from: a build that can be found can be served, by any server instance on the
// database (AgentBuildContent). ErrDuplicate when a build with that hash is registered already.
func (s *Store) InsertAgentBuild(ctx context.Context, b *AgentBuild, now time.Time, content io.Reader, place func() error) error {
	b.CreatedAt = now.UTC()
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return ErrDuplicate
			}
			return err
		}
		if err := insertChunks(ctx, tx, b.ID, content); err != nil {
			return err
		}
		return place()
	})
	if err != nil {
		return fmt.Errorf("add agent build %s: %w", b.SHA256, err)
	}
	return nil
}

// buildChunk is a piece of a build's content: builds are stored in pieces, so none is ever held
// in memory whole.
type buildChunk struct {
	bun.BaseModel `bun:"table:agent_build_chunks"`

	BuildID int64  `bun:"build_id,pk"`
	Seq     int    `bun:"seq,pk"`
	Data    []byte `bun:"data"`
}

// chunkSize is the size of a build's pieces in the database.
const chunkSize = 1 << 20

func insertChunks(ctx context.Context, db bun.IDB, buildID int64, content io.Reader) error {
	buf := make([]byte, chunkSize)
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(content, buf)
		if n > 0 {
			if _, err := db.NewInsert().Model(&buildChunk{BuildID: buildID, Seq: seq, Data: buf[:n]}).Exec(ctx); err != nil {
				return fmt.Errorf("store agent build content: %w", err)
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil
		case err != nil:
			return fmt.Errorf("store agent build content: %w", err)
		}
	}
}

// AddAgentBuildContent stores the content of a build registered without it (before migration
// 11), unless it has some already.
func (s *Store) AddAgentBuildContent(ctx context.Context, buildID int64, content io.Reader) error {
	return s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*buildChunk)(nil)).Where("build_id = ?", buildID).Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		return insertChunks(ctx, tx, buildID, content)
	})
}

// BuildsWithoutContent lists the builds whose content is not in the database.
func (s *Store) BuildsWithoutContent(ctx context.Context) ([]AgentBuild, error) {
	var out []AgentBuild
	err := s.r.NewSelect().Model(&out).
		Where("NOT EXISTS (SELECT 1 FROM agent_build_chunks c WHERE c.build_id = agent_build.id)").Scan(ctx)
	return out, err
}

// AgentBuildContent writes a build's content to w, piece by piece, from one query; ErrNotFound
// when the database holds none of it.
func (s *Store) AgentBuildContent(ctx context.Context, buildID int64, w io.Writer) error {
	rows, err := s.r.NewSelect().Model((*buildChunk)(nil)).Column("data").Where("build_id = ?", buildID).
		Order("seq").Rows(ctx)
	if err != nil {
		return fmt.Errorf("agent build %d: content: %w", buildID, err)
	}
	defer rows.Close()
	pieces := 0
	for ; rows.Next(); pieces++ {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return fmt.Errorf("agent build %d: content: %w", buildID, err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("agent build %d: content: %w", buildID, err)
	}
	if pieces == 0 {
		return fmt.Errorf("agent build %d: content: %w", buildID, ErrNotFound)
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
