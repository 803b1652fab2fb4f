package views

import "time"

// Identity is what a PC is known by on the network.
type Identity struct {
	Hostname, MAC, IP string
}

// ReenrolmentRequest is a fresh install asking to take over an enrolled PC's identity.
type ReenrolmentRequest struct {
	ID, PCID    int64
	Old, New    Identity
	FromAddr    string
	RequestedAt time.Time
}

// CloneCopy is one machine seen calling under a suspected clone's identity.
type CloneCopy struct {
	Instance string // the agent's instance id, or "" for a published client known by its address
	Addr     string
	LastSeen time.Time
}

// CloneSuspect is a PC whose identity several machines seem to share.
type CloneSuspect struct {
	PCID     int64
	Hostname string
	Copies   []CloneCopy
}

// IdentityAlerts is what needs an operator about the PCs' identities.
type IdentityAlerts struct {
	CanOperate   bool
	Reenrolments []ReenrolmentRequest
	Clones       []CloneSuspect
}
