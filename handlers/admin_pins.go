package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
)

type pinJSON struct {
	ID        int64     `json:"id"`
	Token     string    `json:"token"`
	UsageType string    `json:"usage_type"`
	UsedCount int       `json:"used_count"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedBy string    `json:"created_by"`
}

// hiddenPIN stands in the list for a PIN's value, which is stored only as a hash.
const hiddenPIN = "******"

func toPINJSON(t *models.RegistrationToken) pinJSON {
	return pinJSON{ID: t.ID, Token: hiddenPIN, UsageType: t.UsageType, UsedCount: t.UsedCount,
		ExpiresAt: ts(t.ExpiresAt), CreatedBy: t.CreatedBy}
}

// createPIN issues a registration PIN: single use by default, for 60 s to 24 h (default 600 s).
func (s *Server) createPIN(c echo.Context) error {
	req := struct {
		UsageType string `json:"usage_type"`
		ExpiresIn *int   `json:"expires_in"`
	}{UsageType: models.PINSingle}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	expiresIn := 600
	if req.ExpiresIn != nil {
		expiresIn = *req.ExpiresIn
	}
	t, value, err := s.issuePIN(c, req.UsageType, expiresIn)
	if err != nil {
		return err
	}
	p := toPINJSON(t)
	return c.JSON(http.StatusOK, newPINAnswer{success, value, p.ID, p.UsageType, p.ExpiresAt, p.CreatedBy})
}

// issuePIN validates and stores a PIN: single or multi use, valid for 60 to 86400 seconds. It
// returns the PIN's value, which is shown this once.
func (s *Server) issuePIN(c echo.Context, usageType string, expiresIn int) (*models.RegistrationToken, string, error) {
	if usageType != models.PINSingle && usageType != models.PINMulti {
		return nil, "", badRequest(codeInvalidField, "사용 방식은 한 번(single)이나 여러 번(multi)이어야 합니다 (받은 값 %q)",
			"usage_type must be single or multi, not %q", usageType)
	}
	if expiresIn < 60 || expiresIn > 86400 {
		return nil, "", badRequest(codeInvalidField, "유효 시간은 1분에서 24시간(60~86400초) 사이여야 합니다 (받은 값 %d초)",
			"expires_in must be from 60 to 86400 seconds, not %d", expiresIn)
	}
	now := time.Now()
	t, value, err := s.store.CreatePIN(c.Request().Context(), s.pins.Hash, usageType,
		now.Add(time.Duration(expiresIn)*time.Second), currentAdmin(c).Username, now)
	if err != nil {
		return nil, "", err
	}
	s.log.Info("PIN created", "pin_id", t.ID, "by", t.CreatedBy, "usage_type", t.UsageType, "expires_at", t.ExpiresAt)
	return t, value, nil
}

// listPINs lists the PINs still usable or not yet expired.
func (s *Server) listPINs(c echo.Context) error {
	ts, err := s.store.ListPINs(c.Request().Context(), time.Now())
	if err != nil {
		return err
	}
	out := make([]pinJSON, len(ts))
	for i := range ts {
		out[i] = toPINJSON(&ts[i])
	}
	return c.JSON(http.StatusOK, pinsAnswer{success, out})
}

// revokePIN ends the PIN with this value at once.
func (s *Server) revokePIN(c echo.Context) error {
	token, err := pathParam(c, "token")
	if err != nil {
		return err
	}
	return s.revokedPIN(c, s.store.RevokePIN(c.Request().Context(), s.pins.Hash(token), time.Now()))
}

// revokePINByID ends the PIN with this id at once: the list shows ids, not values.
func (s *Server) revokePINByID(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.revokedPIN(c, s.store.RevokePINByID(c.Request().Context(), id, time.Now()))
}

// revokedPIN answers a revoke that ended with err.
func (s *Server) revokedPIN(c echo.Context, err error) error {
	if err := s.pinEnded(c, err); err != nil {
		return err
	}
	return done(c, "Token expired successfully")
}

// pinEnded logs who revoked a PIN (never the PIN) when revoking it worked, and passes err on.
func (s *Server) pinEnded(c echo.Context, err error) error {
	if err == nil {
		s.log.Info("PIN revoked", "by", currentAdmin(c).Username)
	}
	return err
}
