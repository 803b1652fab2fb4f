package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// EnsureFirstAdmin creates the account models.FirstAdmin when there is none, with
// WCMS_ADMIN_PASSWORD (envPassword) or a random password printed once to the log and written to
// InitialPasswordFile(dataDir) (mode 0600). A generated password must be changed at first login;
// the handlers then remove the file.
func EnsureFirstAdmin(ctx context.Context, store *models.Store, dataDir, envPassword string, cost int, log *slog.Logger) error {
	n, err := store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw, generated := envPassword, envPassword == ""
	if generated {
		pw = tokens.New()[:20]
	} else if err := models.CheckPassword(pw); err != nil {
		return fmt.Errorf("WCMS_ADMIN_PASSWORD %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if err := store.CreateAdmin(ctx, &models.Admin{Username: models.FirstAdmin, PasswordHash: string(hash),
		Role: models.RoleAdmin, MustChangePassword: generated}); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if !generated {
		log.Info("created the first admin account from WCMS_ADMIN_PASSWORD", "username", models.FirstAdmin)
		return nil
	}
	file := InitialPasswordFile(dataDir)
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("first admin: write %s: %w", file, err)
	}
	// The one deliberate exception to "secrets are never logged": the operator has no other way
	// to learn it, and it must be changed at first login.
	log.Warn("created the first admin account with a generated password; change it after logging in",
		"username", models.FirstAdmin, "password", pw, "also_in", file)
	return nil
}

// InitialPasswordFile is where EnsureFirstAdmin leaves a generated first password.
func InitialPasswordFile(dataDir string) string {
	return filepath.Join(dataDir, "initial-admin-password")
}
