package sqlq

import "testing"

func TestNumbered(t *testing.T) {
	for in, want := range map[string]string{
		"UPDATE pcs SET last_seen = ? WHERE id = ?": "UPDATE pcs SET last_seen = $1 WHERE id = $2",
		"SELECT 1":   "SELECT 1",
		"a ? 한글 ? ?": "a $1 한글 $2 $3",
	} {
		if got := Numbered(in); got != want {
			t.Errorf("Numbered(%q) = %q, want %q", in, got, want)
		}
	}
}
