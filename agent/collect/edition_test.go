package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestWindowsEdition(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "windows-editions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Case        string `json:"case"`
		ProductName string `json:"product_name"`
		EditionID   string `json:"edition_id"`
		Build       uint32 `json:"build"`
		Want        string `json:"want"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tt := range cases {
		t.Run(tt.Case, func(t *testing.T) {
			if got := windowsEdition(tt.ProductName, tt.EditionID, tt.Build); got != tt.Want {
				t.Errorf("windowsEdition(%q, %q, %d) = %q, want %q", tt.ProductName, tt.EditionID, tt.Build, got, tt.Want)
			}
		})
	}
}
