package views

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/wcms-lab/wcms/models"
)

// BuildRow is one registered agent build as the agents page lists it.
type BuildRow struct {
	ID          int64
	Version     string
	OS, Arch    string
	SHA256      string
	Size        int64
	Changelog   string
	CreatedBy   string
	CreatedAt   time.Time
	DownloadURL string
	Newest      bool // the build agents of its platform update to
}

// AgentsView is the agent versions page.
type AgentsView struct {
	Page
	Builds []BuildRow
	Notice string // what the last upload or delete did; "" for none
	Rooms  []RoomAgents
}

// RoomAgents is how many of a room's PCs run each agent version ("" room: the PCs not placed).
type RoomAgents struct {
	Room     string
	Versions []VersionCount // most PCs first
}

// VersionCount is how many PCs run one agent version (Tile.AgentVersion).
type VersionCount struct {
	Version string
	PCs     int
}

// ServerStatus is the numbers of the status page.
type ServerStatus struct {
	Version              string
	Uptime               time.Duration
	PCs, Online, Offline int
	PollsPerSecond       float64
	PollWindow           time.Duration // what the poll rate was measured over; 0 until measured
	Pending              int           // commands waiting for their PC
	Subscribers          int           // live update streams open
	DatabaseBytes        int64
	LegacyClients        bool // agent calls without an agent token are accepted
	Builds               int
	Instances            []InstanceRow // the server instances on the database, this one first
}

// InstanceRow is one server instance on the status page.
type InstanceRow struct {
	models.Instance
	This   bool          // the instance that answered this page
	Silent bool          // it has not written its row for a while: stopped or cut off
	Age    time.Duration // since it last wrote its row
}

// StatusView is the system status page.
type StatusView struct {
	Page
	Status  ServerStatus
	Warning *InstallWarning // the install address is one PCs cannot reach
}

// shortHash is the start of a hash, enough to tell builds apart at a glance.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// humanBytes is a size in binary units, e.g. "9.4 MiB".
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n)/1024, 0
	for v >= 1024 && unit < 3 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %s", v, []string{"KiB", "MiB", "GiB", "TiB"}[unit])
}

// isoTime is a time as a <time datetime> attribute wants it.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// duration is a duration in its two largest units, e.g. "2일 3시간".
func duration(ctx context.Context, d time.Duration) string {
	return spanText(ctx, int64(max(d, 0)/time.Second))
}

// pollRate is the poll rate's text, or that it is still being measured.
func pollRate(ctx context.Context, s ServerStatus) string {
	if s.PollWindow <= 0 {
		return T(ctx, "측정 중", "measuring")
	}
	return oneDecimal(s.PollsPerSecond)
}

func oneDecimal(v float64) string { return fmt.Sprintf("%.1f", v) }

func deleteBuildConfirm(ctx context.Context, b BuildRow) string {
	return fmt.Sprintf(T(ctx, "버전 %s (%s/%s)을(를) 삭제할까요? 이 플랫폼의 에이전트는 남은 최신 버전으로 바뀝니다.",
		"Delete version %s (%s/%s)? Agents of this platform then update to the newest build left."), b.Version, b.OS, b.Arch)
}
