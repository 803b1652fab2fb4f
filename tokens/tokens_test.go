package tokens

import "testing"

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
