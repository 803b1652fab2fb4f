// Package tokens makes and hashes the server's bearer secrets: agent tokens, session cookies and
// CSRF tokens. They are 256-bit random values, so a plain SHA-256 is enough to store them: unlike
// passwords, they cannot be guessed from a dictionary. Registration PINs are short and get a keyed
// hash instead (PINHasher).
package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// New returns a random token of 32 bytes, hex-encoded.
func New() string {
	b := make([]byte, 32)
	// crypto/rand.Read never fails on supported platforms (it panics inside if the OS source does).
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Hash is how tokens are stored and looked up.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// PINHasher hashes six-digit registration PINs. A million values are walked in a moment, so a
// plain hash would hide nothing from a reader of the database: the hash is keyed with a secret
// kept outside it (LoadKey).
type PINHasher struct{ key []byte }

// NewPINHasher returns a hasher with key.
func NewPINHasher(key []byte) PINHasher { return PINHasher{key: key} }

// Hash is how a PIN is stored and looked up: hex HMAC-SHA256.
func (h PINHasher) Hash(pin string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(pin))
	return hex.EncodeToString(m.Sum(nil))
}

// KeyCheck tells keys apart without showing them: server instances sharing a database must hash
// PINs under the same key (app.New compares theirs). It is no PIN's hash: PINs are six digits.
func (h PINHasher) KeyCheck() string { return h.Hash("key check") }

// LoadKey reads the 32-byte secret in file, or creates the file (mode 0600) with a random one.
func LoadKey(file string) ([]byte, error) {
	key, err := os.ReadFile(file)
	if err == nil {
		if len(key) != 32 {
			return nil, fmt.Errorf("key %s: %d bytes, want 32: remove it to make a new one (live PINs then end)", file, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key: %w", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	// O_EXCL: two servers starting on one folder must not each write their own key.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey(file)
	}
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("key %s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("key %s: %w", file, err)
	}
	return key, f.Close()
}
