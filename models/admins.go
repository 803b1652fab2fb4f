package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// notFound turns sql.ErrNoRows into ErrNotFound and wraps everything else with op.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isUniqueViolation reports a UNIQUE constraint failure (SQLite and PostgreSQL wording).
func isUniqueViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "duplicate key value"))
}

// FirstAdmin is the account made on a fresh install (app.EnsureFirstAdmin).
const FirstAdmin = "admin"

// The errors of CheckPassword; they read after the field's name: "password must be ...".
var (
	ErrPasswordShort = errors.New("must be at least 10 characters")
	ErrPasswordLong  = errors.New("must be at most 72 bytes") // bcrypt reads only the first 72
)

// CheckPassword tells what is wrong with a new password, if anything.
func CheckPassword(pw string) error {
	if len(pw) < 10 {
		return ErrPasswordShort
	}
	if len(pw) > 72 {
		return ErrPasswordLong
	}
	return nil
}

// CountAdmins returns how many admin accounts exist.
func (s *Store) CountAdmins(ctx context.Context) (int64, error) {
	n, err := s.r.NewSelect().Model((*Admin)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// CreateAdmin adds an account; ErrDuplicate when the username is taken.
func (s *Store) CreateAdmin(ctx context.Context, a *Admin) error {
	a.CreatedAt = time.Now().UTC()
	if _, err := s.w.NewInsert().Model(a).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create admin %q: %w", a.Username, ErrDuplicate)
		}
		return fmt.Errorf("create admin: %w", err)
	}
	return nil
}

// AdminByUsername finds an account by name.
func (s *Store) AdminByUsername(ctx context.Context, username string) (*Admin, error) {
	a := new(Admin)
	if err := s.r.NewSelect().Model(a).Where("username = ?", username).Scan(ctx); err != nil {
		return nil, notFound("admin", err)
	}
	return a, nil
}

// ListAdmins returns every account by name.
func (s *Store) ListAdmins(ctx context.Context) ([]Admin, error) {
	var as []Admin
	if err := s.r.NewSelect().Model(&as).Order("username").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return as, nil
}

// SetAdminPassword stores a new password hash and ends every session of the account except keep
// (the session that made the change, if any), so a stolen session dies with the old password.
func (s *Store) SetAdminPassword(ctx context.Context, adminID int64, hash string, mustChange bool, keepSession string) error {
	res, err := s.w.NewUpdate().Model((*Admin)(nil)).
		Set("password_hash = ?", hash).Set("must_change_password = ?", mustChange).
		Where("id = ?", adminID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password: %w", ErrNotFound)
	}
	if _, err := s.w.NewDelete().Model((*Session)(nil)).
		Where("admin_id = ? AND token_hash <> ?", adminID, keepSession).Exec(ctx); err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	return nil
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if _, err := s.w.NewInsert().Model(sess).Exec(ctx); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionAdmin returns the unexpired session with the token hash and its account.
func (s *Store) SessionAdmin(ctx context.Context, tokenHash string, now time.Time) (*Session, *Admin, error) {
	sess := new(Session)
	err := s.r.NewSelect().Model(sess).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Scan(ctx)
	if err != nil {
		return nil, nil, notFound("session", err)
	}
	a := new(Admin)
	if err := s.r.NewSelect().Model(a).Where("id = ?", sess.AdminID).Scan(ctx); err != nil {
		return nil, nil, notFound("session admin", err)
	}
	return sess, a, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.w.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", tokenHash).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.NewDelete().Model((*Session)(nil)).Where("expires_at <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
