package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// The admin API's answers (docs/API.md, Admin API), in one place to read against the document.
// Every one starts with "status": "success": the embedded ok.

type ok struct {
	Status string `json:"status"`
}

var success = ok{"success"}

// messageAnswer is an answer with only a message: an action done, or the health check failing.
type messageAnswer struct {
	ok
	Message string `json:"message"`
}

// done answers an action with msg.
func done(c echo.Context, msg string) error {
	return c.JSON(http.StatusOK, messageAnswer{success, msg})
}

type statusAnswer struct {
	ok
	Version          string `json:"version"`
	UptimeSeconds    int64  `json:"uptime_seconds"`
	PCs              int    `json:"pcs"`
	PCsOnline        int    `json:"pcs_online"`
	PCsOffline       int    `json:"pcs_offline"`
	CommandsPending  int    `json:"commands_pending"`
	LegacyClients    bool   `json:"legacy_clients"`
	EventSubscribers int    `json:"event_subscribers"`
	DatabaseBytes    int64  `json:"database_bytes"`
}

type pcsAnswer struct {
	ok
	PCs []pcJSON `json:"pcs"`
}

type unverifiedAnswer struct {
	ok
	PCs []unverifiedPCJSON `json:"pcs"`
}

type pcAnswer struct {
	ok
	PC pcDetailJSON `json:"pc"`
}

type historyAnswer struct {
	ok
	History []outageJSON `json:"history"`
}

type verifiedAnswer struct {
	ok
	IsVerified bool `json:"is_verified"`
}

type seatAnswer struct {
	ok
	Room *string `json:"room"`
	Row  int     `json:"row"`
	Col  int     `json:"col"`
}

type commandIDAnswer struct {
	ok
	CommandID int64 `json:"command_id"`
}

// commandIDsAnswer maps each PC's id, as a string, to its new command's id.
type commandIDsAnswer struct {
	ok
	CommandIDs map[string]int64 `json:"command_ids"`
	// SkippedOffline (our addition): PCs that are off, left out of a power command sent without
	// expires_in (Server.leftOff).
	SkippedOffline []int64 `json:"skipped_offline,omitempty"`
}

type commandAnswer struct {
	ok
	Command commandJSON `json:"command"`
}

type commandsAnswer struct {
	ok
	Commands []commandJSON `json:"commands"`
}

type roomsAnswer struct {
	ok
	Rooms []roomJSON `json:"rooms"`
}

type roomAnswer struct {
	ok
	Room roomJSON `json:"room"`
}

// newPINAnswer shows the PIN itself, the one time it is ever shown.
type newPINAnswer struct {
	ok
	Token     string    `json:"token"`
	ID        int64     `json:"id"`
	UsageType string    `json:"usage_type"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedBy string    `json:"created_by"`
}

type pinsAnswer struct {
	ok
	Tokens []pinJSON `json:"tokens"`
}

type accountsAnswer struct {
	ok
	Accounts []accountJSON `json:"accounts"`
}

type newAccountAnswer struct {
	ok
	Username string `json:"username"`
	Role     string `json:"role"`
}

type buildAnswer struct {
	ok
	Build buildJSON `json:"build"`
}

type buildsAnswer struct {
	ok
	Builds []buildJSON `json:"builds"`
}

type reenrolmentsAnswer struct {
	ok
	Reenrolments []reenrolmentJSON `json:"reenrolments"`
}

type clonesAnswer struct {
	ok
	Clones []cloneJSON `json:"clones"`
}

// nonNil is list, or an empty one for none: the answers show [], never null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
