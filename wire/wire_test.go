package wire

import "testing"

func TestIsPIN(t *testing.T) {
	for s, want := range map[string]bool{"123456": true, "000000": true, "12345": false, "1234567": false,
		"12a456": false, "١٢٣٤٥٦": false, " 123456": false, "": false} {
		if got := IsPIN(s); got != want {
			t.Errorf("IsPIN(%q) = %v, want %v", s, got, want)
		}
	}
}
