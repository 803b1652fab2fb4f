package models

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/uptrace/bun"
)

// newPIN draws a 6-digit PIN from the operating system's cryptographic source.
func newPIN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// CreatePIN issues a PIN whose value no other unexpired, unrevoked PIN has, so a value always
// names exactly one PIN. Only hash(pin) is stored; the value is returned this once.
func (s *Store) CreatePIN(ctx context.Context, hash func(pin string) string, usageType string, expiresAt time.Time,
	createdBy string, now time.Time) (*RegistrationToken, string, error) {
	t := &RegistrationToken{UsageType: usageType, ExpiresAt: expiresAt.UTC(), CreatedBy: createdBy, CreatedAt: now.UTC()}
	var value string
	err := s.w.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Ten draws from a million values collide only when the PIN space is nearly exhausted.
		for range 10 {
			pin, err := newPIN()
			if err != nil {
				return err
			}
			h := hash(pin)
			taken, err := tx.NewSelect().Model((*RegistrationToken)(nil)).
				Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", h, now).Exists(ctx)
			if err != nil {
				return err
			}
			if !taken {
				t.TokenHash, value = h, pin
				_, err = tx.NewInsert().Model(t).Exec(ctx)
				return err
			}
		}
		return fmt.Errorf("no free PIN value: %w", ErrDuplicate)
	})
	if err != nil {
		return nil, "", fmt.Errorf("create PIN: %w", err)
	}
	return t, value, nil
}

// ListPINs returns the PINs that have not expired or been revoked, newest first.
func (s *Store) ListPINs(ctx context.Context, now time.Time) ([]RegistrationToken, error) {
	var ts []RegistrationToken
	err := s.r.NewSelect().Model(&ts).Where("revoked_at IS NULL AND expires_at > ?", now).
		Order("id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list PINs: %w", err)
	}
	return ts, nil
}

// RevokePIN ends the unexpired PIN whose hash is tokenHash; ErrNotFound when there is none.
func (s *Store) RevokePIN(ctx context.Context, tokenHash string, now time.Time) error {
	return s.revokePIN(ctx, "token_hash = ?", tokenHash, now)
}

// RevokePINByID ends the unexpired PIN with this id; ErrNotFound when there is none.
func (s *Store) RevokePINByID(ctx context.Context, id int64, now time.Time) error {
	return s.revokePIN(ctx, "id = ?", id, now)
}

func (s *Store) revokePIN(ctx context.Context, where string, arg any, now time.Time) error {
	res, err := s.w.NewUpdate().Model((*RegistrationToken)(nil)).Set("revoked_at = ?", now).
		Where(where, arg).Where("revoked_at IS NULL AND expires_at > ?", now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke PIN: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke PIN: %w", ErrNotFound)
	}
	return nil
}
