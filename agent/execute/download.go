package execute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// downloader fetches files for the download command.
type downloader struct {
	client *http.Client
	max    int64 // bytes a download may have
}

// defaultHTTPClient bounds each step of a transfer; the whole transfer is bounded by the
// command's own timeout, through the request's context.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t}
}

// fetch downloads rawURL to dest, all or nothing: the body goes to a temporary file beside dest
// that replaces dest only once it is complete and synced. It returns the size and SHA-256.
func (d downloader) fetch(ctx context.Context, rawURL, dest string) (int64, string, error) {
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return 0, "", fmt.Errorf("download: %s is a folder, not a file path", dest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, "", fmt.Errorf("download: request: %w", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("download: get: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, "", fmt.Errorf("download: server answered %s", resp.Status)
	}
	if resp.ContentLength > d.max {
		return 0, "", fmt.Errorf("download: file is %d bytes, more than the %d allowed", resp.ContentLength, d.max)
	}

	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return 0, "", fmt.Errorf("download: create folder: %w", err)
	}
	var n int64
	hash := sha256.New()
	err = writeAtomic(dest, 0o644, func(w io.Writer) error {
		// One byte past the limit tells a body that is too long from one that fits exactly.
		n, err = io.Copy(io.MultiWriter(w, hash), io.LimitReader(resp.Body, d.max+1))
		if err != nil {
			return fmt.Errorf("body: %w", err)
		}
		if n > d.max {
			return fmt.Errorf("body is more than the %d bytes allowed", d.max)
		}
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	return n, hex.EncodeToString(hash.Sum(nil)), nil
}

// writeAtomic makes path hold what fill writes, or leaves it as it was: fill writes a temporary
// file in path's folder, which is synced and then renamed over path.
func writeAtomic(path string, perm fs.FileMode, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wcms-*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			err = fmt.Errorf("rename: %w", err)
		}
	}
	if err != nil {
		return errors.Join(err, removeQuietly(tmp))
	}
	return nil
}

// removeQuietly removes a temporary file, treating "already gone" as done.
func removeQuietly(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove temporary file: %w", err)
	}
	return nil
}
