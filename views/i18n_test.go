package views

import "testing"

func TestParseLang(t *testing.T) {
	for _, tt := range []struct {
		cookie, accept string
		want           Lang
	}{
		{"", "", Korean},
		{"", "en-US,en;q=0.9", English},
		{"", "ko-KR,ko;q=0.9,en;q=0.8", Korean},
		// q-values decide, not the order: the old parser took the first tag it knew.
		{"", "en;q=0.3, ko;q=0.9", Korean},
		{"", "ko;q=0.2, en-GB;q=0.8", English},
		{"", "fr-FR, en;q=0.5", English},
		{"", "fr-FR, de", Korean},
		{"", "ko;q=0, en;q=0.1", English},
		{"", "garbage;;;q=x", Korean},
		{"en", "ko", English},
		{"ko", "en", Korean},
		{"xx", "en", English}, // an unknown cookie is ignored
	} {
		if got := ParseLang(tt.cookie, tt.accept); got != tt.want {
			t.Errorf("ParseLang(%q, %q) = %s, want %s", tt.cookie, tt.accept, got, tt.want)
		}
	}
}
