// Package models holds the bun models, every query of the server (the Store), and opening and
// migrating the database. It knows nothing of HTTP.
package models

import (
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// Domain errors; handlers map them to HTTP statuses in one place.
var (
	ErrNotFound        = errors.New("not found")
	ErrDuplicate       = errors.New("already exists")
	ErrPINInvalid      = errors.New("Invalid or expired PIN")
	ErrPINUsed         = errors.New("PIN already used")
	ErrRoomNotEmpty    = errors.New("room still has PCs")
	ErrSeatTaken       = errors.New("seat already taken")
	ErrSeatOutOfRange  = errors.New("seat outside the room")
	ErrRoomTooSmall    = errors.New("room would no longer hold its placed PCs")
	ErrAlreadyReported = errors.New("result already recorded")
	ErrNotDelivered    = errors.New("command was not delivered yet")
	ErrWrongPC         = errors.New("command belongs to another PC")
	ErrTokenRequired   = errors.New("this PC's agent must send its token")
)

// Admin roles.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Admin is a dashboard account.
type Admin struct {
	bun.BaseModel `bun:"table:admins"`

	ID                 int64     `bun:"id,pk,autoincrement"`
	Username           string    `bun:"username"`
	PasswordHash       string    `bun:"password_hash"`
	Role               string    `bun:"role"`
	MustChangePassword bool      `bun:"must_change_password"`
	CreatedAt          time.Time `bun:"created_at"`
}

// Session is a logged-in browser or script. Only the SHA-256 of the cookie value is stored.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	TokenHash string    `bun:"token_hash,pk"`
	AdminID   int64     `bun:"admin_id"`
	CSRFToken string    `bun:"csrf_token"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// PIN usage types.
const (
	PINSingle = "single"
	PINMulti  = "multi"
)

// RegistrationToken is a 6-digit registration PIN. Only its keyed hash is stored
// (tokens.PINHasher); the value is shown once, when it is made.
type RegistrationToken struct {
	bun.BaseModel `bun:"table:registration_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	TokenHash string     `bun:"token_hash"`
	UsageType string     `bun:"usage_type"`
	UsedCount int        `bun:"used_count"`
	ExpiresAt time.Time  `bun:"expires_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
	CreatedBy string     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at"`
}

// Live reports whether the PIN can still register a PC at now.
func (t *RegistrationToken) Live(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt) && !(t.UsageType == PINSingle && t.UsedCount > 0)
}

// Room is a lab room with a rows×cols seat grid.
type Room struct {
	bun.BaseModel `bun:"table:rooms"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Name      string    `bun:"name"`
	Rows      int       `bun:"seat_rows"`
	Cols      int       `bun:"seat_cols"`
	CreatedAt time.Time `bun:"created_at"`
}

// PC is a registered machine.
type PC struct {
	bun.BaseModel `bun:"table:pcs"`

	ID             int64      `bun:"id,pk,autoincrement"`
	MachineID      string     `bun:"machine_id"`
	Hostname       string     `bun:"hostname"`
	MACAddress     string     `bun:"mac_address"`
	IPAddress      string     `bun:"ip_address"`
	IsVerified     bool       `bun:"is_verified"`
	RoomID         *int64     `bun:"room_id"`
	SeatRow        *int       `bun:"seat_row"`
	SeatCol        *int       `bun:"seat_col"`
	AgentTokenHash string     `bun:"agent_token_hash"`
	TokenUsed      bool       `bun:"token_used"` // the agent has called with its token
	CPUModel       string     `bun:"cpu_model"`
	CPUCores       int        `bun:"cpu_cores"`
	CPUThreads     int        `bun:"cpu_threads"`
	RAMTotal       float64    `bun:"ram_total"`
	OSEdition      string     `bun:"os_edition"`
	OSVersion      string     `bun:"os_version"`
	AgentVersion   string     `bun:"agent_version"` // wire.AgentVersion of its caller`
	IsOnline       bool       `bun:"is_online"`
	LastSeen       *time.Time `bun:"last_seen"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	// WakeMAC and Subnet: the interface its agent reaches the server by, from its last full
	// heartbeat (192.168.10.23/24), for Wake-on-LAN; "" unknown.
	WakeMAC string `bun:"wake_mac"`
	Subnet  string `bun:"subnet"`
	Wake    Wake   `bun:"embed:wake_"`
}

// PCState is a PC's latest reported state.
type PCState struct {
	bun.BaseModel `bun:"table:pc_state"`

	PCID            int64      `bun:"pc_id,pk"`
	CPUUsage        *float64   `bun:"cpu_usage"`
	RAMUsagePercent *float64   `bun:"ram_usage_percent"`
	RAMUsed         *float64   `bun:"ram_used"`
	CurrentUser     *string    `bun:"logged_in_user"`
	Uptime          *int64     `bun:"uptime"`
	Processes       *string    `bun:"processes"` // JSON array of names
	LightAt         *time.Time `bun:"light_at"`
	FullAt          *time.Time `bun:"full_at"`
}

// Disk is one fixed disk of a PC: its spec from registration and usage from full heartbeats.
type Disk struct {
	bun.BaseModel `bun:"table:pc_disks"`

	PCID      int64     `bun:"pc_id,pk"`
	Mount     string    `bun:"mount,pk"`
	TotalGB   *float64  `bun:"total_gb"`
	FSType    string    `bun:"fstype"`
	UsedGB    *float64  `bun:"used_gb"`
	FreeGB    *float64  `bun:"free_gb"`
	Percent   *float64  `bun:"percent"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// IPChange is one entry of a PC's IP history.
type IPChange struct {
	bun.BaseModel `bun:"table:pc_ip_history"`

	ID        int64     `bun:"id,pk,autoincrement"`
	PCID      int64     `bun:"pc_id"`
	IPAddress string    `bun:"ip_address"`
	SeenAt    time.Time `bun:"seen_at"`
}

// Outage reasons.
const (
	ReasonShutdown      = "shutdown"
	ReasonNetworkError  = "network_error"
	ReasonTimeout       = "timeout"
	ReasonAdminShutdown = "admin_shutdown"
	ReasonAdminRestart  = "admin_restart"
)

// Outage is one offline period of a PC; EndedAt is nil while it lasts.
type Outage struct {
	bun.BaseModel `bun:"table:pc_outages"`

	ID              int64      `bun:"id,pk,autoincrement"`
	PCID            int64      `bun:"pc_id"`
	StartedAt       time.Time  `bun:"started_at"`
	EndedAt         *time.Time `bun:"ended_at"`
	DurationSeconds *int64     `bun:"duration_seconds"`
	Reason          string     `bun:"reason"`
}

// Command is a queued or finished command. Parameters is a JSON object; secrets are removed from
// it when the command is delivered or ends undelivered.
type Command struct {
	bun.BaseModel `bun:"table:commands"`

	ID           int64      `bun:"id,pk,autoincrement"`
	PCID         int64      `bun:"pc_id"`
	Type         string     `bun:"type"`
	Parameters   string     `bun:"parameters"`
	Status       string     `bun:"status"`
	Priority     int        `bun:"priority"`
	Timeout      int        `bun:"timeout"`
	Output       string     `bun:"output"`
	ErrorMessage string     `bun:"error_message"`
	ExitCode     *int       `bun:"exit_code"`
	CreatedBy    string     `bun:"created_by"`
	CreatedAt    time.Time  `bun:"created_at"`
	StartedAt    *time.Time `bun:"started_at"`
	CompletedAt  *time.Time `bun:"completed_at"`
	ResultAt     *time.Time `bun:"result_at"`
	DeadlineAt   time.Time  `bun:"deadline_at"`
	DeliveredTo  string     `bun:"delivered_to"` // the address of the poll that took it
	// ExpiresAt: the command waits for its PC, polling or not, until then, and ends expired
	// undelivered; nil: it ends when its PC has not polled within its timeout.
	ExpiresAt *time.Time `bun:"expires_at"`
}

// Reenrolment is a fresh install's request to take over an enrolled PC's identity with a PIN
// but without the PC's token. TokenHash becomes the PC's token if an operator approves.
type Reenrolment struct {
	bun.BaseModel `bun:"table:reenrolments"`

	ID         int64      `bun:"id,pk,autoincrement"`
	PCID       int64      `bun:"pc_id"`
	TokenHash  string     `bun:"token_hash"`
	Hostname   string     `bun:"hostname"`
	MACAddress string     `bun:"mac_address"`
	IPAddress  string     `bun:"ip_address"`
	FromAddr   string     `bun:"from_addr"`
	CreatedAt  time.Time  `bun:"created_at"`
	RefusedAt  *time.Time `bun:"refused_at"`
	RefusedBy  string     `bun:"refused_by"`
}
