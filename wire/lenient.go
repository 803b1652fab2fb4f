package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The published Python client (0.8.x) sends some members differently from the API (docs/API.md):
// disk_info, disk_usage and processes as JSON-encoded strings, disk sizes in bytes under
// "total"/"used"/"free", RAM in MB, and heartbeats without full_update. The decoders below
// accept both forms, so that client works unchanged; encoding always follows docs/API.md.

// FieldError is a member with the right JSON type but an unusable value.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Msg }

// unquote returns the JSON inside a JSON string, or data itself when it is not a string.
func unquote(data []byte) ([]byte, bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '"' {
		return data, true
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

const bytesPerGB = 1 << 30

// DiskSpecs is disk_info: an object by mount, or a JSON string of one.
type DiskSpecs map[string]DiskSpec

// UnmarshalJSON accepts an object or a JSON-encoded string of one.
func (d *DiskSpecs) UnmarshalJSON(data []byte) error {
	inner, ok := unquote(data)
	m := map[string]DiskSpec{}
	if !ok || json.Unmarshal(inner, &m) != nil {
		return &FieldError{"disk_info", "must be an object of {total_gb, fstype} by mount"}
	}
	*d = m
	return nil
}

// UnmarshalJSON accepts total_gb, or total in bytes.
func (d *DiskSpec) UnmarshalJSON(data []byte) error {
	var v struct {
		TotalGB *float64 `json:"total_gb"`
		Total   *float64 `json:"total"`
		FSType  string   `json:"fstype"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return &FieldError{"disk_info", "entries must be {total_gb, fstype}"}
	}
	d.FSType = v.FSType
	switch {
	case v.TotalGB != nil:
		d.TotalGB = *v.TotalGB
	case v.Total != nil:
		d.TotalGB = *v.Total / bytesPerGB
	}
	return nil
}

// DiskUsages is disk_usage: an object by mount, or a JSON string of one.
type DiskUsages map[string]DiskUsage

// UnmarshalJSON accepts an object or a JSON-encoded string of one.
func (d *DiskUsages) UnmarshalJSON(data []byte) error {
	inner, ok := unquote(data)
	m := map[string]DiskUsage{}
	if !ok || json.Unmarshal(inner, &m) != nil {
		return &FieldError{"disk_usage", "must be an object of {used_gb, free_gb, percent} by mount"}
	}
	*d = m
	return nil
}

// UnmarshalJSON accepts used_gb/free_gb, or used/free in bytes.
func (d *DiskUsage) UnmarshalJSON(data []byte) error {
	var v struct {
		UsedGB, FreeGB, Used, Free *float64
		Percent                    float64 `json:"percent"`
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return &FieldError{"disk_usage", "entries must be {used_gb, free_gb, percent}"}
	}
	for key, dst := range map[string]**float64{"used_gb": &v.UsedGB, "free_gb": &v.FreeGB, "used": &v.Used, "free": &v.Free} {
		if r, ok := raw[key]; ok {
			var f float64
			if err := json.Unmarshal(r, &f); err != nil {
				return &FieldError{"disk_usage", fmt.Sprintf("%s must be a number", key)}
			}
			*dst = &f
		}
	}
	if r, ok := raw["percent"]; ok {
		if err := json.Unmarshal(r, &v.Percent); err != nil {
			return &FieldError{"disk_usage", "percent must be a number"}
		}
	}
	d.Percent = v.Percent
	d.UsedGB = gb(v.UsedGB, v.Used)
	d.FreeGB = gb(v.FreeGB, v.Free)
	return nil
}

func gb(inGB, inBytes *float64) float64 {
	switch {
	case inGB != nil:
		return *inGB
	case inBytes != nil:
		return *inBytes / bytesPerGB
	}
	return 0
}

// Processes is the process list: an array of names, or a JSON string of one.
type Processes []string

// UnmarshalJSON accepts an array of names or a JSON-encoded string of one.
func (p *Processes) UnmarshalJSON(data []byte) error {
	inner, ok := unquote(data)
	var names []string
	if !ok || json.Unmarshal(inner, &names) != nil {
		return &FieldError{"processes", "must be an array of process names"}
	}
	*p = names
	return nil
}

// fullOnly reports whether info carries members only a full heartbeat has; a heartbeat without
// full_update (the published client's) is full when it does.
func (s *SystemInfo) fullOnly() bool {
	return s.RAMUsed != nil || s.DiskUsage != nil || s.CurrentUser != nil || s.Uptime != nil || s.Processes != nil
}

// IsFull tells whether a heartbeat is full: as it says, or, when it does not say, by its members.
func (h *HeartbeatRequest) IsFull() bool {
	if h.FullUpdate != nil {
		return *h.FullUpdate
	}
	return h.SystemInfo != nil && h.SystemInfo.fullOnly()
}

// mbThreshold: RAM figures above this many "GB" are megabytes (the published client sends MB;
// no lab PC has half a terabyte of RAM).
const mbThreshold = 512

// RAMGB returns a RAM figure in GB, converting one the published client sent in MB.
func RAMGB(v float64) float64 {
	if v > mbThreshold {
		return v / 1024
	}
	return v
}
