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
	out := make([]accountJSON, len(as))
	for i, a := range as {
		out[i] = accountJSON{a.Username, a.Role, a.MustChangePassword, ts(a.CreatedAt)}
	}
	return c.JSON(http.StatusOK, accountsAnswer{success, out})
}

type accountJSON struct {
	Username           string    `json:"username"`
	Role               string    `json:"role"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
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
	a, err := s.addAccount(c, req.Username, req.Password, req.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newAccountAnswer{success, a.Username, a.Role})
}

// addAccount validates and stores a new account, which must change its password at first login.
func (s *Server) addAccount(c echo.Context, username, password, role string) (*models.Admin, error) {
	if !accountName.MatchString(username) {
		return nil, badRequest(codeInvalidField, "사용자 이름은 영문자, 숫자, '.', '-', '_'로 1~64자여야 합니다",
			"username must be 1 to 64 letters, digits, '.', '-' or '_'")
	}
	if _, ok := roleRank[role]; !ok {
		return nil, badRequest(codeInvalidField, "역할은 관리자(admin), 운영자(operator), 조회자(viewer) 중 하나여야 합니다 (받은 값 %q)",
			"role must be admin, operator or viewer, not %q", role)
	}
	if err := checkPassword("password", password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	a := &models.Admin{Username: username, PasswordHash: string(hash), Role: role, MustChangePassword: true}
	if err := s.store.CreateAdmin(c.Request().Context(), a); err != nil {
		return nil, err
	}
	s.log.Info("account created", "username", a.Username, "role", a.Role, "by", currentAdmin(c).Username)
	return a, nil
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
	if err := s.changeOwn(c, req.Current, req.New); err != nil {
		return err
	}
	return done(c, "Password changed")
}

// changeOwn sets the caller's password once the current one is confirmed; the caller's other
// sessions end, this one stays.
func (s *Server) changeOwn(c echo.Context, current, pw string) error {
	a := currentAdmin(c)
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
		return newError(http.StatusForbidden, "WRONG_PASSWORD", "현재 비밀번호가 틀렸습니다", "current_password is wrong")
	}
	if pw == current {
		return badRequest(codeInvalidField, "새 비밀번호는 지금 비밀번호와 달라야 합니다", "new_password must differ from the current one")
	}
	return s.storePassword(c, a, pw, c.Get(ctxSession).(*models.Session))
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
	if err := s.resetAccountPassword(c, username, req.New); err != nil {
		return err
	}
	return done(c, "Password changed")
}

// resetAccountPassword sets an account's password, to be changed at its next login; every
// session of the account ends.
func (s *Server) resetAccountPassword(c echo.Context, username, pw string) error {
	a, err := s.store.AdminByUsername(c.Request().Context(), username)
	if err != nil {
		return err
	}
	return s.storePassword(c, a, pw, nil)
}

// storePassword sets a's password. With keep, the account's own change: that session stays and
// the others end. Without, a reset: every session ends and the password must be changed at the
// next login.
func (s *Server) storePassword(c echo.Context, a *models.Admin, pw string, keep *models.Session) error {
	if err := checkPassword("new_password", pw); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	mustChange, keepSession := keep == nil, ""
	if keep != nil {
		keepSession = keep.TokenHash
	}
	if err := s.store.SetAdminPassword(c.Request().Context(), a.ID, string(hash), mustChange, keepSession); err != nil {
		return err
	}
	s.log.Info("password changed", "username", a.Username, "by", currentAdmin(c).Username)
	if a.Username == models.FirstAdmin && s.cfg.InitialPasswordFile != "" {
		s.removeInitialPassword()
	}
	return nil
}
