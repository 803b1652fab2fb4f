package tokens

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewAndHash(t *testing.T) {
	a, b := New(), New()
	if len(a) != 64 || a == b {
		t.Fatalf("tokens %q %q", a, b)
	}
	if Hash(a) != Hash(a) || Hash(a) == Hash(b) || Hash(a) == a {
		t.Fatal("hash is not a stable one-way function of the token")
	}
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s, want SHA-256", got)
	}
}

func TestPINHasher(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	h1, h2 := NewPINHasher(k1), NewPINHasher(k2)
	if h1.Hash("123456") != h1.Hash("123456") || h1.Hash("123456") == h1.Hash("123457") {
		t.Fatal("not a stable function of the PIN")
	}
	if h1.Hash("123456") == h2.Hash("123456") || h1.Hash("123456") == Hash("123456") {
		t.Fatal("the hash does not depend on the key")
	}
}

func TestLoadKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pin.key")
	a, err := LoadKey(file)
	if err != nil || len(a) != 32 {
		t.Fatalf("new key: %d bytes, %v", len(a), err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	b, err := LoadKey(file)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	if err := os.WriteFile(file, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(file); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("a damaged key: %v, want an error saying what to do", err)
	}
}
