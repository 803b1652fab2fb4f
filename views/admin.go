package views

import (
	"context"
	"time"
)

// PasswordView is the password change form.
type PasswordView struct {
	Page
	// Forced is set while the account must change its password before it may use any other page.
	Forced bool
	Error  string
}

// Account is a dashboard account as the accounts page lists it.
type Account struct {
	Username   string
	Role       string
	MustChange bool
	CreatedAt  time.Time
}

// AccountsView is the accounts page.
type AccountsView struct {
	Page
	Accounts []Account
	Notice   string // what the last action did
}

// PIN is a registration PIN as the PINs page lists it.
type PIN struct {
	ID        int64
	Token     string // the value: known only when the PIN was just made
	UsageType string // single or multi
	UsedCount int
	ExpiresAt time.Time
	CreatedBy string
}

// InstallCommand is a one-liner that installs the agent on a PC with a PIN.
type InstallCommand struct {
	ID     string // a short stable name: powershell, cmd, linux
	System string // where it runs, e.g. "Windows (PowerShell)"
	Line   string
}

// PINsView is the PINs page.
type PINsView struct {
	Page
	PINs []PIN
	// Created is the PIN just issued, shown big with its Install commands; nil otherwise.
	Created *PIN
	Install []InstallCommand
	Warning *InstallWarning // the install address is one PCs cannot reach
}

// pinLifetime is one choice of how long a new PIN lasts.
type pinLifetime struct {
	Seconds int
	KO, EN  string
}

// pinLifetimes are the PIN form's choices; the first is the default.
var pinLifetimes = []pinLifetime{
	{600, "10분", "10 minutes"},
	{3600, "1시간", "1 hour"},
	{8 * 3600, "8시간", "8 hours"},
	{24 * 3600, "24시간", "24 hours"},
}

// roles are the account roles, most powerful first.
var roles = []struct{ Name, KO, EN string }{
	{"admin", "관리자", "admin"},
	{"operator", "운영자", "operator"},
	{"viewer", "열람자", "viewer"},
}

// adminTime is a stored time as the admin pages show it, in the server's time zone.
func adminTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04")
}

// roleLabel names a role in the page language.
func roleLabel(ctx context.Context, role string) string {
	for _, r := range roles {
		if r.Name == role {
			return T(ctx, r.KO, r.EN)
		}
	}
	return role
}

// RoleKO is a role's Korean name, for the Korean text of errors made without a page.
func RoleKO(role string) string {
	return roleLabel(WithLang(context.Background(), Korean), role)
}

// usageLabel names a PIN's usage type in the page language.
func usageLabel(ctx context.Context, usage string) string {
	if usage == "multi" {
		return T(ctx, "여러 번", "many times")
	}
	return T(ctx, "한 번", "once")
}
