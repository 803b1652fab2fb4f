package handlers

import (
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/models"
)

var accountName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// listAccounts lists admin accounts (never their hashes).
func (s *Server) listAccounts(c echo.Context) error {
	as, err := s.store.ListAdmins(c.Request().Context())
	if err != nil {
		return err
	}
	type account struct {
		Username           string    `json:"username"`
		Role               string    `json:"role"`
		MustChangePassword bool      `json:"must_change_password"`
		CreatedAt          time.Time `json:"created_at"`
	}
	out := make([]account, len(as))
	for i, a := range as {
		out[i] = account{a.Username, a.Role, a.MustChangePassword, ts(a.CreatedAt)}
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "accounts": out})
}

// createAccount adds an account: {username, password, role}; it must change the password at
// first login.
func (s *Server) createAccount(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !accountName.MatchString(req.Username) {
		return badRequest(codeInvalidField, "username must be 1 to 64 letters, digits, '.', '-' or '_'")
	}
	if _, ok := roleRank[req.Role]; !ok {
		return badRequest(codeInvalidField, "role must be admin, operator or viewer, not %q", req.Role)
	}
	if err := checkPassword("password", req.Password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	a := &models.Admin{Username: req.Username, PasswordHash: string(hash), Role: req.Role, MustChangePassword: true}
	if err := s.store.CreateAdmin(c.Request().Context(), a); err != nil {
		return err
	}
	s.log.Info("account created", "username", a.Username, "role", a.Role, "by", currentAdmin(c).Username)
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "username": a.Username, "role": a.Role})
}

// changeOwnPassword changes the caller's password: {current_password, new_password}. Other
// sessions of the account end.
func (s *Server) changeOwnPassword(c echo.Context) error {
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a := currentAdmin(c)
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(req.Current)) != nil {
		return newError(http.StatusForbidden, "WRONG_PASSWORD", "current_password is wrong")
	}
	if req.New == req.Current {
		return badRequest(codeInvalidField, "new_password must differ from the current one")
	}
	return s.storePassword(c, a, req.New, false, c.Get(ctxSession).(*models.Session).TokenHash)
}

// resetPassword sets another account's password: {new_password}; it must be changed at next
// login and every session of that account ends.
func (s *Server) resetPassword(c echo.Context) error {
	var req struct {
		New string `json:"new_password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	username, err := pathParam(c, "username")
	if err != nil {
		return err
	}
	a, err := s.store.AdminByUsername(c.Request().Context(), username)
	if err != nil {
		return err
	}
	return s.storePassword(c, a, req.New, true, "")
}

func (s *Server) storePassword(c echo.Context, a *models.Admin, pw string, mustChange bool, keepSession string) error {
	if err := checkPassword("new_password", pw); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	if err := s.store.SetAdminPassword(c.Request().Context(), a.ID, string(hash), mustChange, keepSession); err != nil {
		return err
	}
	s.log.Info("password changed", "username", a.Username, "by", currentAdmin(c).Username)
	return c.JSON(http.StatusOK, map[string]string{"status": "success", "message": "Password changed"})
}
