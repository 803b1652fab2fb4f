// Package agentbuilds keeps the agent builds the server hands out: it inspects a binary (this
// project's wcms-agent, with a version, for a platform agents run on), stores its file under its
// SHA-256 in a folder beside the database and its content in the database, registers it with the
// store, and at start registers the builds found in a folder. Another server instance on the
// same database fetches a build's file from the database the first time it serves it. The
// handlers only move bytes in and out.
package agentbuilds

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
	"sync"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// Builds are the agent builds: rows in the store, files in dir.
type Builds struct {
	store *models.Store
	dir   string
	mu    sync.Mutex // a build's row and its file change together
}

// New returns the builds whose files are in dir.
func New(store *models.Store, dir string) *Builds { return &Builds{store: store, dir: dir} }

func (bs *Builds) path(b *models.AgentBuild) string { return filepath.Join(bs.dir, b.SHA256) }

// Staged is a build's file received into the folder but not registered yet.
type Staged struct {
	SHA256 string
	Size   int64
	f      *os.File
	moved  bool // Store moved the file into place
}

// ReadAt reads the staged file, so its content can be inspected before it is registered.
func (sb *Staged) ReadAt(p []byte, off int64) (int, error) { return sb.f.ReadAt(p, off) }

// Discard removes the staged file unless Store moved it into place; call it (deferred) for
// every staged build. Errors are dropped: the file is a dot-named temporary that nothing ever
// serves.
func (sb *Staged) Discard() {
	if sb.moved {
		return
	}
	sb.f.Close()
	os.Remove(sb.f.Name())
}

// moveTo makes the staged file the build's file at path, readable by everyone.
func (sb *Staged) moveTo(path string) error {
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

// Stage copies r into a new file in the folder, hashing it on the way: a build is never held in
// memory, and never visible half-written.
func (bs *Builds) Stage(r io.Reader) (*Staged, error) {
	if err := os.MkdirAll(bs.dir, 0o755); err != nil {
		return nil, fmt.Errorf("stage agent build: %w", err)
	}
	f, err := os.CreateTemp(bs.dir, ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("stage agent build: %w", err)
	}
	sb := &Staged{f: f}
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

// Add inspects a staged build and registers it, with its changelog and who added it.
func (bs *Builds) Add(ctx context.Context, sb *Staged, changelog, by string) (*models.AgentBuild, error) {
	b, err := Inspect(sb)
	if err != nil {
		return nil, err
	}
	b.Changelog, b.CreatedBy = changelog, by
	if err := bs.Store(ctx, &b, sb); err != nil {
		return nil, err
	}
	return &b, nil
}

// Store registers b as given, without inspecting the file: Add inspects first. The staged file
// takes its place under its hash in the same step; models.ErrDuplicate when a build with that
// hash is registered already.
func (bs *Builds) Store(ctx context.Context, b *models.AgentBuild, sb *Staged) error {
	b.SHA256, b.Size = sb.SHA256, sb.Size
	bs.mu.Lock()
	defer bs.mu.Unlock()
	path := bs.path(b)
	err := bs.store.InsertAgentBuild(ctx, b, time.Now(), io.NewSectionReader(sb.f, 0, sb.Size), func() error { return sb.moveTo(path) })
	if err != nil && sb.moved {
		// The row was rolled back, and the hash is unique: no other build uses this file.
		os.Remove(path)
	}
	return err
}

// Open opens a build's file, first fetching it from the database when this instance has not got
// it (another instance on the database registered it); models.ErrNotFound when it is gone.
func (bs *Builds) Open(ctx context.Context, b *models.AgentBuild) (*os.File, error) {
	f, err := os.Open(bs.path(b))
	if errors.Is(err, fs.ErrNotExist) {
		if err = bs.fetch(ctx, b); err == nil {
			f, err = os.Open(bs.path(b))
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("agent build %d: file: %w", b.ID, models.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("agent build %d: %w", b.ID, err)
	}
	return f, nil
}

// fetch writes a build's file from its content in the database, once however many downloads ask
// at the same time, and only if the content has the build's hash and size.
func (bs *Builds) fetch(ctx context.Context, b *models.AgentBuild) error {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if _, err := os.Stat(bs.path(b)); err == nil {
		return nil // fetched by the download before this one
	}
	content := contentOf(ctx, bs.store, b.ID)
	defer content.Close() // ends the reading goroutine, should staging stop early
	sb, err := bs.Stage(content)
	if err != nil {
		return err
	}
	defer sb.Discard()
	if sb.SHA256 != b.SHA256 || sb.Size != b.Size {
		return fmt.Errorf("agent build %d: the database's content has SHA-256 %s and %d bytes, not %s and %d", b.ID, sb.SHA256, sb.Size, b.SHA256, b.Size)
	}
	return sb.moveTo(bs.path(b))
}

// contentOf reads a build's content from the database as a stream; closing it stops the read.
func contentOf(ctx context.Context, store *models.Store, id int64) io.ReadCloser {
	r, w := io.Pipe()
	go func() { w.CloseWithError(store.AgentBuildContent(ctx, id, w)) }()
	return r
}

// Share stores in the database the content of builds registered before it kept any (migration
// 11), from this instance's files, so that other instances can serve them too.
func (bs *Builds) Share(ctx context.Context) (int, error) {
	missing, err := bs.store.BuildsWithoutContent(ctx)
	if err != nil {
		return 0, fmt.Errorf("agent builds without content: %w", err)
	}
	shared := 0
	for i := range missing {
		f, err := os.Open(bs.path(&missing[i]))
		if errors.Is(err, fs.ErrNotExist) {
			continue // another instance has it, and shares it when it starts
		}
		if err != nil {
			return shared, err
		}
		err = bs.store.AddAgentBuildContent(ctx, missing[i].ID, f)
		f.Close()
		if err != nil {
			return shared, err
		}
		shared++
	}
	return shared, nil
}

// Delete removes a build's row and file and returns what it was. The row goes first, so no build
// can be found whose file is gone; a download that found it a moment before gets ErrNotFound
// from Open.
func (bs *Builds) Delete(ctx context.Context, id int64) (*models.AgentBuild, error) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b, err := bs.store.DeleteAgentBuild(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(bs.path(b)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b, fmt.Errorf("delete agent build %d: remove file: %w", id, err)
	}
	return b, nil
}
