package handlers

import (
	"errors"
	"net"
	"net/netip"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/wire"
)

// Bounds on everything an agent sends. Every agent is as trusted as the student at its keyboard:
// unbounded, one agent filled the database with 1 MiB IP addresses and the dashboard's streams
// with megabyte tiles (issue 10). Names count characters, as the systems that set them do; the
// result's texts count bytes. Each bound is far above what a real PC sends.
const (
	maxMachineID   = 128 // printable ASCII; our agent sends 64 hex digits, the published client a hardware id
	maxInstanceID  = 128 // ours: 64 hex digits
	maxHostname    = 255 // a DNS name; NetBIOS names are shorter still
	maxMAC         = 64  // the longest form net.ParseMAC reads: 20 octets, dotted
	maxIP          = 64  // an IPv6 literal with a zone ("fe80::1%eth0")
	maxCurrentUser = 256 // a UPN; SAM names are at most 20
	maxSpecText    = 256 // cpu_model, os_edition, os_version
	maxProcesses   = 2000
	maxProcessName = 260 // MAX_PATH
	maxDisks       = 64
	maxMount       = 260 // MAX_PATH
	maxFSType      = 32
	// maxResultOutput: our agent keeps 64 KiB of output (agent/execute/execute.go), up to half
	// again once a Korean code page is decoded to UTF-8; a multi-step install joins a few.
	maxResultOutput = 1 << 20
	// maxResultError: our agent puts a failed step's output in the error too (agent/execute/runner.go).
	maxResultError = 256 << 10
)

// unknownIP is what the published client's get_ip_address() sends when it finds no address
// (docs/API.md, Agent API).
const unknownIP = "Unknown"

// checkAgentBody bounds every string, list and map of an agent's request body; decodeJSON calls
// it, so no agent route can forget it. Empty values pass: required() names missing fields.
func checkAgentBody(v any) error {
	switch r := v.(type) {
	case *wire.RegisterRequest:
		return firstError(boundMachineID("machine_id", r.MachineID), boundMachineID("instance_id", r.InstanceID),
			boundText("hostname", r.Hostname, maxHostname), boundMAC(r.MACAddress), boundIP(r.IPAddress),
			boundText("cpu_model", r.CPUModel, maxSpecText), boundText("os_edition", r.OSEdition, maxSpecText),
			boundText("os_version", r.OSVersion, maxSpecText), boundDisks("disk_info", r.DiskInfo, func(d wire.DiskSpec) string { return d.FSType }),
			boundInfo(r.SystemInfo))
	case *wire.HeartbeatRequest:
		return firstError(boundMachineID("machine_id", r.MachineID), boundMachineID("instance_id", r.InstanceID), boundInfo(r.SystemInfo))
	case *wire.PollRequest:
		err := firstError(boundMachineID("machine_id", r.MachineID), boundMachineID("instance_id", r.InstanceID))
		if err == nil && r.Heartbeat != nil {
			err = firstError(boundInfo(r.Heartbeat.SystemInfo), boundIP(deref(r.Heartbeat.IPAddress)))
		}
		return err
	case *wire.MachineRequest:
		return boundMachineID("machine_id", r.MachineID)
	case *wire.ResultRequest:
		return firstError(boundBytes("output", r.Output, maxResultOutput), boundBytes("error_message", r.ErrorMessage, maxResultError))
	}
	return nil
}

// checkAgentQuery bounds the identity in the 0.9.x agents' GET poll, which has no body.
func checkAgentQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := firstError(boundMachineID("machine_id", c.QueryParam("machine_id")),
			boundMachineID("instance_id", c.QueryParam("instance_id"))); err != nil {
			return err
		}
		return next(c)
	}
}

// boundInfo bounds a heartbeat's texts and lists, whichever request carries it.
func boundInfo(info *wire.SystemInfo) error {
	if info == nil {
		return nil
	}
	if len(info.Processes) > maxProcesses {
		return badRequest(codeInvalidField, "processes: 이름은 %d개까지입니다 (받은 수 %d)", "processes: at most %d names, not %d", maxProcesses, len(info.Processes))
	}
	for _, p := range info.Processes {
		if err := boundText("processes", p, maxProcessName); err != nil {
			return err
		}
	}
	return firstError(boundText("current_user", deref(info.CurrentUser), maxCurrentUser), boundIP(deref(info.IPAddress)),
		boundMAC(deref(info.MACAddress)), boundSubnet(deref(info.Subnet)),
		boundDisks("disk_usage", info.DiskUsage, func(wire.DiskUsage) string { return "" }))
}

// boundDisks bounds a map of disks by mount, and each disk's file system type.
func boundDisks[V any](field string, m map[string]V, fstype func(V) string) error {
	if len(m) > maxDisks {
		return badRequest(codeInvalidField, "%s: 디스크는 %d개까지입니다 (받은 수 %d)", "%s: at most %d disks, not %d", field, maxDisks, len(m))
	}
	for mount, d := range m {
		if err := firstError(boundText(field+" mount", mount, maxMount), boundText(field+" fstype", fstype(d), maxFSType)); err != nil {
			return err
		}
	}
	return nil
}

// boundText bounds a name shown on the dashboard: at most max characters, and no control character
// but tab and line feed (a CR ends an SSE line in the browser; the others have no business in
// a name and garble a page or a terminal).
func boundText(field, v string, max int) error {
	if n := utf8.RuneCountInString(v); n > max {
		return badRequest(codeInvalidField, "%s: %d자 이하여야 합니다 (받은 길이 %d)", "%s must be at most %d characters, not %d", field, max, n)
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\t' && r != '\n' {
			return badRequest(codeInvalidField, "%s: 제어 문자를 넣을 수 없습니다 (U+%04X)", "%s must not contain control characters (found U+%04X)", field, r)
		}
	}
	return nil
}

// boundBytes bounds a command's output: any text (CRs and colour codes are real output, and the
// pages escape them), but at most max bytes.
func boundBytes(field, v string, max int) error {
	if len(v) > max {
		return badRequest(codeInvalidField, "%s: %d바이트 이하여야 합니다 (받은 크기 %d)", "%s must be at most %d bytes, not %d", field, max, len(v))
	}
	return nil
}

// boundMachineID bounds an identity: printable ASCII, as every agent's is.
func boundMachineID(field, v string) error {
	if len(v) > maxMachineID {
		return badRequest(codeInvalidField, "%s: %d자 이하여야 합니다 (받은 길이 %d)", "%s must be at most %d characters, not %d", field, maxMachineID, len(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return badRequest(codeInvalidField, "%s: 인쇄 가능한 ASCII 문자만 됩니다 (%d번째 바이트가 0x%02X)", "%s must be printable ASCII (byte %d is 0x%02X)", field, i, v[i])
		}
	}
	return nil
}

// boundMAC takes the forms agents send: AA:BB:CC:DD:EE:FF (ours, and the documents'),
// aa-bb-cc-dd-ee-ff (Windows), and whatever else net.ParseMAC reads.
func boundMAC(v string) error {
	return boundForm("mac_address", v, maxMAC, "AA:BB:CC:DD:EE:FF 같은 MAC 주소", "a MAC address such as AA:BB:CC:DD:EE:FF", func(v string) error {
		_, err := net.ParseMAC(v)
		return err
	})
}

// boundIP takes an IPv4 or IPv6 literal, or the published client's "Unknown".
func boundIP(v string) error {
	if v == unknownIP {
		return nil
	}
	return boundForm("ip_address", v, maxIP, "IPv4나 IPv6 주소", "an IPv4 or IPv6 address", func(v string) error {
		_, err := netip.ParseAddr(v)
		return err
	})
}

// boundSubnet takes an IPv4 interface address with its prefix, as 192.168.10.23/24.
func boundSubnet(v string) error {
	return boundForm("subnet", v, maxIP, "192.168.10.23/24 같은 IPv4 주소와 접두사 길이", "an IPv4 address with its prefix such as 192.168.10.23/24", func(v string) error {
		p, err := netip.ParsePrefix(v)
		if err == nil && !p.Addr().Is4() {
			err = errors.New("not IPv4")
		}
		return err
	})
}

// boundForm takes "" (not sent) or a value of at most max bytes that parse accepts.
func boundForm(field, v string, max int, wantKO, want string, parse func(string) error) error {
	if v == "" || len(v) <= max && parse(v) == nil {
		return nil
	}
	return badRequest(codeInvalidField, "%[1]s: %[5]s여야 합니다 (%[3]d자까지, 받은 값 %[4]q)",
		"%[1]s must be %[2]s (at most %[3]d characters), not %[4]q", field, want, max, brief(v), wantKO)
}

// brief shortens a refused value for the error message, so it never echoes a megabyte back.
func brief(v string) string {
	if len(v) <= 40 {
		return v
	}
	return prefix(v, 40) + "…"
}

// prefix is s cut to at most n bytes, on a character boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// validateSpecs checks a registration's numbers.
func validateSpecs(r *wire.RegisterRequest) error {
	for _, v := range []struct {
		name string
		v    float64
	}{{"cpu_cores", float64(r.CPUCores)}, {"cpu_threads", float64(r.CPUThreads)}, {"ram_total", r.RAMTotal}} {
		if err := nonNegative(v.name, v.v); err != nil {
			return err
		}
	}
	for mount, d := range r.DiskInfo {
		if err := nonNegative("disk_info["+mount+"].total_gb", d.TotalGB); err != nil {
			return err
		}
	}
	return nil
}

// validateInfo checks a heartbeat's values and converts RAM sent in MB to GB.
func validateInfo(info *wire.SystemInfo) error {
	if info.RAMUsed != nil {
		gb := wire.RAMGB(*info.RAMUsed)
		info.RAMUsed = &gb
	}
	if err := percent("cpu_usage", info.CPUUsage); err != nil {
		return err
	}
	if err := percent("ram_usage_percent", info.RAMUsagePercent); err != nil {
		return err
	}
	if info.RAMUsed != nil {
		if err := nonNegative("ram_used", *info.RAMUsed); err != nil {
			return err
		}
	}
	if info.Uptime != nil && *info.Uptime < 0 {
		return badRequest(codeInvalidField, "uptime은 음수일 수 없습니다", "uptime must not be negative")
	}
	for mount, d := range info.DiskUsage {
		p := d.Percent
		if err := percent("disk_usage["+mount+"].percent", &p); err != nil {
			return err
		}
	}
	return nil
}
