// Package tokens makes and hashes the server's bearer secrets: agent tokens, session cookies and
// CSRF tokens. They are 256-bit random values, so a plain SHA-256 is enough to store them: unlike
// passwords, they cannot be guessed from a dictionary.
package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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
