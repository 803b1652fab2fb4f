// Package wire holds the JSON shapes of the WCMS agent API (docs/API.md), shared by the server and
// the agent so the two can never drift apart. It has no dependencies beyond the standard library,
// so linking it into the agent costs nothing.
package wire

import "time"

// Command types. Reboot is the document's old name for Restart: accepted on input, never sent.
const (
	TypeShutdown       = "shutdown"
	TypeRestart        = "restart"
	TypeReboot         = "reboot"
	TypeMessage        = "message"
	TypeKillProcess    = "kill_process"
	TypeExecute        = "execute"
	TypeInstall        = "install"
	TypeUninstall      = "uninstall"
	TypeDownload       = "download"
	TypeCreateUser     = "create_user"
	TypeDeleteUser     = "delete_user"
	TypeChangePassword = "change_password"
	// TypeWakeOnLAN (our addition): the agent sends Wake-on-LAN magic packets for other PCs of its
	// subnet, which cannot hear the server while they are off.
	TypeWakeOnLAN = "wake_on_lan"
)

// Command lifecycle states.
const (
	StatusPending   = "pending"
	StatusExecuting = "executing"
	StatusCompleted = "completed"
	StatusError     = "error"
	StatusTimeout   = "timeout"
	// StatusExpired (our addition) ends a command that waited for its offline PC past the expiry
	// the operator chose; agents never see it.
	StatusExpired = "expired"
)

// Result statuses an agent reports.
const (
	ResultSuccess = "success"
	ResultError   = "error"
	ResultTimeout = "timeout"
)

// DiskSpec is one fixed disk as reported at registration.
type DiskSpec struct {
	TotalGB float64 `json:"total_gb"`
	FSType  string  `json:"fstype"`
}

// DiskUsage is one disk's usage in a full heartbeat.
type DiskUsage struct {
	UsedGB  float64 `json:"used_gb"`
	FreeGB  float64 `json:"free_gb"`
	Percent float64 `json:"percent"`
}

// RegisterRequest is the body of POST /api/client/register.
type RegisterRequest struct {
	MachineID  string    `json:"machine_id"`
	PIN        string    `json:"pin"`
	Hostname   string    `json:"hostname"`
	MACAddress string    `json:"mac_address"`
	IPAddress  string    `json:"ip_address,omitempty"`
	CPUModel   string    `json:"cpu_model,omitempty"`
	CPUCores   int       `json:"cpu_cores,omitempty"`
	CPUThreads int       `json:"cpu_threads,omitempty"`
	RAMTotal   float64   `json:"ram_total,omitempty"`
	DiskInfo   DiskSpecs `json:"disk_info,omitempty"`
	OSEdition  string    `json:"os_edition,omitempty"`
	OSVersion  string    `json:"os_version,omitempty"`
	// SystemInfo is sent by the published client at registration; it is taken as the first
	// full heartbeat.
	SystemInfo *SystemInfo `json:"system_info,omitempty"`
	// InstanceID is our addition: see PollRequest.
	InstanceID string `json:"instance_id,omitempty"`
}

// RegisterResponse answers a registration. AgentToken is our addition.
type RegisterResponse struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	PCID       int64  `json:"pc_id"`
	AgentToken string `json:"agent_token,omitempty"`
}

// SystemInfo is a heartbeat's payload. A light heartbeat sets only CPUUsage, RAMUsagePercent and
// IPAddress; pointers tell "not sent" from zero, so a light heartbeat never erases full data.
type SystemInfo struct {
	CPUUsage        *float64   `json:"cpu_usage,omitempty"`
	RAMUsed         *float64   `json:"ram_used,omitempty"`
	RAMUsagePercent *float64   `json:"ram_usage_percent,omitempty"`
	DiskUsage       DiskUsages `json:"disk_usage,omitempty"`
	CurrentUser     *string    `json:"current_user,omitempty"`
	Uptime          *int64     `json:"uptime,omitempty"`
	IPAddress       *string    `json:"ip_address,omitempty"`
	Processes       Processes  `json:"processes,omitempty"`
	// MACAddress and Subnet (our addition, full heartbeats) are the interface that reaches the
	// server: its MAC, and its address with the prefix (192.168.10.23/24), for Wake-on-LAN.
	MACAddress *string `json:"mac_address,omitempty"`
	Subnet     *string `json:"subnet,omitempty"`
}

// HeartbeatRequest is the body of POST /api/client/heartbeat. FullUpdate is a pointer because
// the published client leaves it out (see IsFull).
type HeartbeatRequest struct {
	MachineID  string      `json:"machine_id"`
	FullUpdate *bool       `json:"full_update,omitempty"`
	SystemInfo *SystemInfo `json:"system_info"`
	InstanceID string      `json:"instance_id,omitempty"` // see PollRequest
}

// HeartbeatResponse answers a heartbeat.
type HeartbeatResponse struct {
	Status    string `json:"status"`
	Message   string `json:"message"`
	IPChanged bool   `json:"ip_changed"`
}

// PollHeartbeat is the heartbeat carried by a command poll. The published API document shows it
// both flat and nested as {full_update, system_info} (docs/API.md, Agent API); both decode into
// this.
type PollHeartbeat struct {
	FullUpdate *bool       `json:"full_update,omitempty"`
	SystemInfo *SystemInfo `json:"system_info,omitempty"`

	CPUUsage        *float64 `json:"cpu_usage,omitempty"`
	RAMUsagePercent *float64 `json:"ram_usage_percent,omitempty"`
	IPAddress       *string  `json:"ip_address,omitempty"`
}

// Info returns the heartbeat's system info whichever shape it came in, and whether it is full.
func (h *PollHeartbeat) Info() (info *SystemInfo, full bool) {
	if h.SystemInfo != nil {
		return h.SystemInfo, (&HeartbeatRequest{FullUpdate: h.FullUpdate, SystemInfo: h.SystemInfo}).IsFull()
	}
	return &SystemInfo{CPUUsage: h.CPUUsage, RAMUsagePercent: h.RAMUsagePercent, IPAddress: h.IPAddress}, false
}

// PollRequest is the body of POST /api/client/commands. Wait (seconds, at most 30) is our
// long-poll addition.
type PollRequest struct {
	MachineID string         `json:"machine_id"`
	Heartbeat *PollHeartbeat `json:"heartbeat,omitempty"`
	Wait      float64        `json:"wait,omitempty"`
	// InstanceID is our addition: a digest of this copy's hardware (SMBIOS UUID, MAC set), which
	// differs between PCs cloned from one enrolled image even though they share machine_id and
	// token; the server sees two instances alternating on one identity and warns.
	InstanceID string `json:"instance_id,omitempty"`
}

// Command is a command as handed to an agent. CreatedAt is our addition: it lets an agent
// recognise a power command queued before the PC last started, and skip it.
type Command struct {
	ID         int64          `json:"id"`
	Type       string         `json:"type"`
	Parameters map[string]any `json:"parameters"`
	Timeout    int            `json:"timeout"`
	Priority   int            `json:"priority"`
	CreatedAt  *time.Time     `json:"created_at,omitempty"`
}

// PollData is the data member of a poll response.
type PollData struct {
	HasCommand         bool     `json:"has_command"`
	Command            *Command `json:"command"`
	HeartbeatProcessed bool     `json:"heartbeat_processed"`
	IPChanged          bool     `json:"ip_changed"`
}

// PollResponse answers a command poll.
type PollResponse struct {
	Status string   `json:"status"`
	Data   PollData `json:"data"`
}

// ResultRequest is the body of POST /api/client/commands/{id}/result.
type ResultRequest struct {
	Status       string `json:"status"`
	Output       string `json:"output"`
	ErrorMessage string `json:"error_message,omitempty"`
	ExitCode     *int   `json:"exit_code,omitempty"`
}

// ResultData is the data member of a result response.
type ResultData struct {
	Message     string `json:"message"`
	CommandID   int64  `json:"command_id"`
	FinalStatus string `json:"final_status"`
}

// ResultResponse answers a result.
type ResultResponse struct {
	Status string     `json:"status"`
	Data   ResultData `json:"data"`
}

// MachineRequest is the body of /api/client/shutdown and /api/client/offline.
type MachineRequest struct {
	MachineID string `json:"machine_id"`
}

// VersionResponse answers GET /api/client/version. SHA256 is our addition for self-update.
type VersionResponse struct {
	Status      string `json:"status"`
	Version     string `json:"version"`
	DownloadURL string `json:"download_url"`
	Changelog   string `json:"changelog"`
	SHA256      string `json:"sha256,omitempty"`
}

// ErrorBody is the inner error of the contract's dual error envelope.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse carries both documented error shapes at once. AgentToken is our addition, set
// only with CodeReenrolPending: the token this install will hold once an operator approves.
type ErrorResponse struct {
	Status     string    `json:"status"`
	Message    string    `json:"message"`
	Error      ErrorBody `json:"error"`
	AgentToken string    `json:"agent_token,omitempty"`
}

// Error codes an agent acts on.
const (
	CodePCNotFound = "PC_NOT_FOUND"
	// CodeReenrolPending: the machine_id is enrolled with a token this caller did not prove; an
	// operator must approve the new install on the dashboard. The answer's AgentToken becomes
	// this install's token once approved: register again with it as the bearer until then.
	CodeReenrolPending = "REENROLL_PENDING"
	// CodeReenrolRefused: an operator refused this install's re-enrolment.
	CodeReenrolRefused = "REENROLL_REFUSED"
)

// IsPIN reports whether s has the form of a registration PIN: six digits. The agent checks it
// before sending, the server before looking one up.
func IsPIN(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
