package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// The wire fuzzers feed arbitrary bytes to every decoder the server and the agent use. Beyond
// "no panic", each checks that a decode either fails with an error the server can turn into a
// 400 (a syntax, type or *FieldError) or yields a value whose encoding is stable: encoding it,
// decoding that and encoding again gives the same bytes, so what the agent sends the server
// reads back unchanged.

// seedBodies are valid, lenient and broken bodies shared by the request fuzzers.
var seedBodies = []string{
	`{}`, `null`, `[]`, `""`, `{"machine_id":`, `{"machine_id":"M1"} {"x":1}`,
	`{"machine_id":"M1","pin":"123456","hostname":"LAB-01","mac_address":"A1:B2:C3:D4:E5:F6","ip_address":"192.168.1.100",` +
		`"cpu_model":"Intel Core i5-9400","cpu_cores":6,"cpu_threads":6,"ram_total":16.0,` +
		`"disk_info":{"C:\\":{"total_gb":237.0,"fstype":"NTFS"}},"os_edition":"Windows 10 Pro","os_version":"10.0.19045"}`,
	`{"machine_id":"M1","pin":"123456","hostname":"h","mac_address":"m","ram_total":16384,` +
		`"disk_info":"{\"C:\\\\\":{\"total\":254721126400,\"fstype\":\"NTFS\"}}"}`,
	`{"machine_id":"M1","full_update":true,"system_info":{"cpu_usage":12.5,"ram_used":4.2,"ram_usage_percent":26.3,` +
		`"disk_usage":{"C:\\":{"used_gb":100,"free_gb":137,"percent":42.2}},"current_user":"student","uptime":3600,` +
		`"ip_address":"192.168.1.100","processes":["explorer.exe","chrome.exe"]}}`,
	`{"machine_id":"M1","system_info":{"cpu_usage":1,"disk_usage":"{\"C:\\\\\":{\"used\":1073741824,\"free\":1,\"percent\":50}}",` +
		`"processes":"[\"a.exe\",\"b.exe\"]"}}`,
	`{"machine_id":"M1","full_update":false,"system_info":{"cpu_usage":1,"ram_usage_percent":2,"ip_address":"10.0.0.1"}}`,
	`{"machine_id":"M1","heartbeat":{"cpu_usage":12.5,"ram_usage_percent":40,"ip_address":"192.168.1.100"}}`,
	`{"machine_id":"M1","heartbeat":{"full_update":false,"system_info":{"cpu_usage":3}},"wait":2}`,
	`{"machine_id":"M1","heartbeat":{"system_info":{"processes":[]}},"wait":-1e308}`,
	`{"status":"success","output":"LAB-01\r\n","exit_code":0}`,
	`{"status":"error","output":"","error_message":"<script>\u202e","exit_code":-2147483649}`,
	`{"system_info":{"disk_usage":{"C:":{"used_gb":"x"}}}}`,
	`{"system_info":{"disk_usage":"not json"},"disk_info":"\"nested\""}`,
	`{"system_info":{"processes":[null,1]},"disk_info":{"C:":null}}`,
	`{"machine_id":"\ud800","hostname":"\u0000","pin":1}`,
	`{"status":"success","version":"1.2.3","download_url":"http://srv:5050/download/wcms-agent.exe","changelog":"fix","sha256":"ab"}`,
	`{"status":"success","version":1}`,
}

func addSeeds(f *testing.F) {
	for _, s := range seedBodies {
		f.Add([]byte(s))
	}
}

// decodeErrorOK tells whether a decode error is one the server maps to a 400.
func decodeErrorOK(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *FieldError
	return errors.As(err, &syn) || errors.As(err, &typ) || errors.As(err, &fe)
}

// checkStable decodes data into a fresh *T and checks the result as described above.
func checkStable[T any](t *testing.T, data []byte, use func(*T)) {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		if !decodeErrorOK(err) {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		return
	}
	use(&v)
	first, err := json.Marshal(&v)
	if err != nil {
		t.Fatalf("encode a decoded value: %v", err)
	}
	var again T
	if err := json.Unmarshal(first, &again); err != nil {
		t.Fatalf("decode our own encoding %s: %v", first, err)
	}
	second, err := json.Marshal(&again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("encoding not stable:\n%s\n%s", first, second)
	}
}

func FuzzRegisterRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(r *RegisterRequest) {
			_ = RAMGB(r.RAMTotal)
			if r.SystemInfo != nil {
				_ = (&HeartbeatRequest{SystemInfo: r.SystemInfo}).IsFull()
			}
		})
	})
}

func FuzzHeartbeatRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(h *HeartbeatRequest) {
			full := h.IsFull()
			if h.FullUpdate != nil && full != *h.FullUpdate {
				t.Fatalf("IsFull %v contradicts full_update %v", full, *h.FullUpdate)
			}
			if h.FullUpdate == nil && h.SystemInfo == nil && full {
				t.Fatal("a heartbeat without system_info or full_update is full")
			}
		})
	})
}

func FuzzSystemInfo(f *testing.F) {
	for _, s := range []string{`{"cpu_usage":1}`, `{"processes":"[\"a\"]","disk_usage":"{}"}`, `{"disk_usage":{"D:":{"used":1,"free":2}}}`, `{"processes":[]}`, `{"uptime":1.5}`} {
		f.Add([]byte(s))
	}
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(*SystemInfo) {})
	})
}

func FuzzPollRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(p *PollRequest) {
			if p.Heartbeat == nil {
				return
			}
			info, full := p.Heartbeat.Info()
			if info == nil {
				t.Fatal("Info returned no system info")
			}
			if p.Heartbeat.SystemInfo == nil && full {
				t.Fatal("a flat poll heartbeat counted as full")
			}
		})
	})
}

func FuzzResultRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(*ResultRequest) {})
	})
}

// FuzzAgentAnswers decodes server answers the way the agent does: version, register and poll
// responses, and the error envelope.
func FuzzAgentAnswers(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		`{"status":"success","data":{"has_command":true,"command":{"id":7,"type":"execute","parameters":{"command":"hostname"},"timeout":300,"priority":5,"created_at":"2026-02-10T15:30:00Z"},"heartbeat_processed":true,"ip_changed":false}}`,
		`{"status":"success","data":{"has_command":false,"command":null}}`,
		`{"status":"success","data":{"command":{"created_at":"yesterday"}}}`,
		`{"status":"success","message":"Registration successful","pc_id":1,"agent_token":"abc"}`,
		`{"status":"error","message":"PC not registered: M1","error":{"code":"PC_NOT_FOUND","message":"PC not registered: M1"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStable(t, data, func(*VersionResponse) {})
		checkStable(t, data, func(*RegisterResponse) {})
		checkStable(t, data, func(*ErrorResponse) {})
		// Command.Parameters is map[string]any: numbers come back as float64 and encode
		// stably, but created_at may fail to parse, which is a plain *time.ParseError.
		var p PollResponse
		if err := json.Unmarshal(data, &p); err == nil {
			if _, err := json.Marshal(&p); err != nil {
				t.Fatalf("encode a decoded poll answer: %v", err)
			}
		}
	})
}
