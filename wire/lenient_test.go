package wire

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestLenientDecoding(t *testing.T) {
	for _, c := range []struct {
		name, body string
		check      func(*SystemInfo) bool
	}{
		{"object in GB", `{"disk_usage":{"C:\\":{"used_gb":1.5,"free_gb":2,"percent":40}}}`,
			func(s *SystemInfo) bool { return s.DiskUsage[`C:\`] == DiskUsage{1.5, 2, 40} }},
		{"string in bytes", `{"disk_usage":"{\"C:\\\\\": {\"used\": 1073741824, \"free\": 2147483648, \"percent\": 33.3}}"}`,
			func(s *SystemInfo) bool { return s.DiskUsage[`C:\`] == DiskUsage{1, 2, 33.3} }},
		{"processes array", `{"processes":["a.exe","b.exe"]}`,
			func(s *SystemInfo) bool { return len(s.Processes) == 2 && s.Processes[1] == "b.exe" }},
		{"processes string", `{"processes":"[\"a.exe\"]"}`,
			func(s *SystemInfo) bool { return len(s.Processes) == 1 && s.Processes[0] == "a.exe" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s SystemInfo
			if err := json.Unmarshal([]byte(c.body), &s); err != nil {
				t.Fatal(err)
			}
			if !c.check(&s) {
				t.Fatalf("decoded %+v", s)
			}
		})
	}
	for _, bad := range []string{`{"processes":"not json"}`, `{"processes":[1,2]}`, `{"disk_usage":"[]"}`, `{"disk_usage":{"C:":{"used":"x"}}}`} {
		var s SystemInfo
		var fe *FieldError
		if err := json.Unmarshal([]byte(bad), &s); !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FieldError", bad, err)
		}
	}
}

func TestDiskSpecs(t *testing.T) {
	var r RegisterRequest
	if err := json.Unmarshal([]byte(`{"disk_info":"{\"D:\\\\\": {\"total\": 2147483648, \"fstype\": \"NTFS\"}}"}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.DiskInfo[`D:\`] != (DiskSpec{TotalGB: 2, FSType: "NTFS"}) {
		t.Fatalf("%+v", r.DiskInfo)
	}
}

func TestIsFull(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		h    HeartbeatRequest
		want bool
	}{
		{HeartbeatRequest{FullUpdate: &yes, SystemInfo: &SystemInfo{}}, true},
		{HeartbeatRequest{FullUpdate: &no, SystemInfo: &SystemInfo{Processes: Processes{"a"}}}, false},
		{HeartbeatRequest{SystemInfo: &SystemInfo{Processes: Processes{"a"}}}, true},
		{HeartbeatRequest{SystemInfo: &SystemInfo{}}, false},
	} {
		if got := c.h.IsFull(); got != c.want {
			t.Errorf("%+v: %v", c.h, got)
		}
	}
	if RAMGB(16) != 16 || RAMGB(16384) != 16 {
		t.Error("RAMGB")
	}
}
