package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
	"github.com/wcms-lab/wcms/views"
)

const (
	sessionCookie = "session"
	csrfCookie    = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
	ctxAdmin      = "admin"
	ctxSession    = "session"
)

// checkPassword answers 400 for a new password that breaks models.CheckPassword.
func checkPassword(field, pw string) error {
	switch err := models.CheckPassword(pw); {
	case errors.Is(err, models.ErrPasswordShort):
		return badRequest(codeInvalidField, "%[3]s은(는) 10자 이상이어야 합니다", "%[1]s %[2]v", field, err, fieldKO(field))
	case errors.Is(err, models.ErrPasswordLong):
		return badRequest(codeInvalidField, "%[3]s이(가) 너무 깁니다: 영문은 72자, 한글은 24자까지입니다", "%[1]s %[2]v", field, err, fieldKO(field))
	}
	return nil
}

// removeInitialPassword deletes the generated first password's file once the first admin's
// password has changed: left on disk, it would keep a password readable that is either still
// in use or was once. The change itself has succeeded, so a failure here is only logged.
func (s *Server) removeInitialPassword() {
	file := s.cfg.InitialPasswordFile
	switch err := os.Remove(file); {
	case err == nil:
		s.log.Info("removed the first password's file: the password was changed", "file", file)
	case !errors.Is(err, fs.ErrNotExist):
		s.log.Warn("could not remove the first password's file; delete it by hand", "file", file, "err", err)
	}
}

// loginPage renders the login form.
// A failed login answers 302 to /login (the contract); this short-lived cookie tells the page
// it comes back to that the attempt failed, so the message can be shown.
const loginFailedCookie = "login_failed"

// loginPage renders the login form, with the failure message once after a failed attempt.
func (s *Server) loginPage(c echo.Context) error {
	var data views.LoginData
	if _, err := c.Cookie(loginFailedCookie); err == nil {
		data.Error = views.T(c.Request().Context(), "아이디나 비밀번호가 맞지 않습니다.", "Wrong username or password.")
		c.SetCookie(&http.Cookie{Name: loginFailedCookie, Path: "/login", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return s.render(c, http.StatusOK, views.LoginPage(data))
}

// login checks the form's username and password: 302 to / on success, 302 to /login on
// failure, as the contract says. No CSRF token: scripts must be able to log in; the Origin check
// and SameSite cookies guard it instead.
func (s *Server) login(c echo.Context) error {
	if origin := c.Request().Header.Get("Origin"); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Host != c.Request().Host {
			return newError(http.StatusForbidden, "BAD_ORIGIN", "다른 사이트에서 온 로그인은 받지 않습니다. 이 서버의 로그인 페이지에서 로그인하세요.",
				"login from another origin refused")
		}
	}
	ctx := c.Request().Context()
	addr, username, password := c.RealIP(), c.FormValue("username"), c.FormValue("password")
	now := time.Now()
	a, err := s.checkLogin(ctx, addr, username, password, now)
	if errors.Is(err, errWrongPassword) {
		c.SetCookie(&http.Cookie{Name: loginFailedCookie, Value: "1", Path: "/login", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return c.Redirect(http.StatusFound, "/login")
	}
	if err != nil {
		return err
	}
	// Logins are rare: a good moment to drop sessions that expired.
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return err
	}
	token, csrf := tokens.New(), tokens.New()
	if err := s.store.CreateSession(ctx, &models.Session{TokenHash: tokens.Hash(token),
		AdminID: a.ID, CSRFToken: csrf, CreatedAt: now.UTC(), ExpiresAt: now.Add(s.cfg.SessionTTL).UTC()}); err != nil {
		return err
	}
	setSessionCookies(c, token, csrf)
	s.log.Info("login", "username", a.Username, "addr", addr)
	return c.Redirect(http.StatusFound, "/")
}

// errWrongPassword: the username or the password is wrong (which, the answer does not tell).
var errWrongPassword = errors.New("wrong username or password")

// checkLogin checks a username and password in its address's turn (takeTurn), so the limits are
// read and a failure counted in one step, on every instance: attempts in flight at once cannot
// pass a limit together. An account that has had twice the per-address limit of failures in the
// window is being guessed at from many addresses: then only an address with no failure in the
// window may try it, once. The attacker gets one guess per address and window; the right password
// from an address that has not failed still logs in, so the account is slowed down, never locked.
// See docs/SECURITY.md. What was typed as the username is never logged or stored: it is often a
// password typed into the wrong box.
func (s *Server) checkLogin(ctx context.Context, addr, username, password string, now time.Time) (*models.Admin, error) {
	done, err := s.takeTurn(ctx, s.loginByAddr.key(addr))
	if err != nil {
		return nil, err
	}
	defer done()
	account := s.accountKey(username)
	if err := s.allowLogin(ctx, addr, account, now); err != nil {
		s.log.Info("login failed", "addr", addr, "limited", true)
		return nil, err
	}
	a, err := s.store.AdminByUsername(ctx, username)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	hash := s.dummyHash
	if a != nil {
		hash = []byte(a.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || a == nil {
		s.log.Info("login failed", "addr", addr, "limited", false)
		// A failure that cannot be counted answers 500: no guess goes uncounted.
		if err := errors.Join(s.loginByAddr.fail(ctx, addr, now), s.loginByName.fail(ctx, account, now)); err != nil {
			return nil, err
		}
		return nil, errWrongPassword
	}
	// The account's failures stay: the right password from here says nothing of the guesses
	// from elsewhere. Failures left behind leave the window in any case, so a reset that fails
	// only costs this address tries.
	if err := s.loginByAddr.reset(ctx, addr); err != nil {
		s.log.Warn("login: clear the address's failures", "addr", addr, "err", err)
	}
	return a, nil
}

// allowLogin refuses an attempt the limits hold back (checkLogin says which).
func (s *Server) allowLogin(ctx context.Context, addr, account string, now time.Time) error {
	free, accountRetry, err := s.loginByName.allow(ctx, account, now)
	if err != nil {
		return err
	}
	if free {
		ok, retry, err := s.loginByAddr.allow(ctx, addr, now)
		if ok || err != nil {
			return err
		}
		wait := waitMinutes(retry)
		return tooMany(retry, "이 주소에서 로그인 실패가 너무 많습니다. %s분 뒤에 다시 시도하세요.",
			"Too many failed sign-ins from this address; try again in %s minute(s).", wait)
	}
	ok, retry, err := s.loginByAddr.allowFirst(ctx, addr, now)
	if ok || err != nil {
		return err
	}
	// Whichever comes first may let this address try again.
	retry = min(retry, accountRetry)
	wait := waitMinutes(retry)
	return tooMany(retry, "이 계정에 로그인 실패가 많아 이 주소에서는 %s분 뒤에 다시 시도할 수 있습니다.",
		"This account has had many failed sign-ins; from this address try again in %s minute(s).", wait)
}

// waitMinutes is a wait in whole minutes, rounded up so the person never comes back too early.
func waitMinutes(d time.Duration) string {
	return strconv.Itoa(int((d + time.Minute - 1) / time.Minute))
}

// accountKey is the per-account limit's key for a typed username: a keyed hash (the PIN key's
// HMAC, tokens.PINHasher), because what is typed as a username is often a password, and the
// key is stored; keyed, so that a reader of the database cannot walk likely names to read it.
// No account name is longer than 64 bytes (accountName in handlers/admin_accounts.go), so
// longer ones may share a key without merging real accounts, and whatever is typed, hashing it
// stays cheap. "login:" keeps these hashes apart from the PINs' (six digits).
func (s *Server) accountKey(username string) string {
	return s.pins.Hash("login:" + username[:min(len(username), 65)])
}

// setSessionCookies sets the session's cookies, both "expires when the browser closes", as
// documented; the server ends the session after SessionTTL in any case. Scripts never see the
// session token; the CSRF token is for the page to send back in a header.
func setSessionCookies(c echo.Context, token, csrf string) {
	for _, ck := range []*http.Cookie{{Name: sessionCookie, Value: token, HttpOnly: true}, {Name: csrfCookie, Value: csrf}} {
		ck.Path, ck.Secure, ck.SameSite = "/", c.Scheme() == "https", http.SameSiteLaxMode
		c.SetCookie(ck)
	}
}

// logout ends the session.
func (s *Server) logout(c echo.Context) error {
	if err := s.store.DeleteSession(c.Request().Context(), c.Get(ctxSession).(*models.Session).TokenHash); err != nil {
		return err
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1})
	}
	return c.Redirect(http.StatusFound, "/login")
}

// requireSession loads the session's account: 401 JSON for the API, 302 to /login for pages.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			sess, a, err := s.store.SessionAdmin(c.Request().Context(), tokens.Hash(ck.Value), time.Now())
			if err == nil {
				c.Set(ctxSession, sess)
				c.Set(ctxAdmin, a)
				return next(c)
			}
			if !errors.Is(err, models.ErrNotFound) {
				return err
			}
		}
		return newError(http.StatusUnauthorized, "UNAUTHORIZED", "먼저 로그인하세요.", "log in first: POST /login").pagesTo(http.StatusFound, "/login")
	}
}

// requireCSRF checks the double-submit token on every state-changing API request: the
// X-CSRF-Token header must carry the session's token. The body is not read: an upload streams.
func (s *Server) requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if safeMethod(c) {
			return next(c)
		}
		return s.checkCSRF(c, c.Request().Header.Get(csrfHeader), next)
	}
}

// requireCSRFForm is requireCSRF for pages, whose forms may send the token as a csrf_token field.
func (s *Server) requireCSRFForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if safeMethod(c) {
			return next(c)
		}
		sent := c.Request().Header.Get(csrfHeader)
		if sent == "" {
			// The body only, urlencoded or multipart: not c.FormValue, which reads the URL's
			// query too, and a URL ends up in logs, history and Referer headers.
			sent = c.Request().PostFormValue("csrf_token")
		}
		return s.checkCSRF(c, sent, next)
	}
}

func safeMethod(c echo.Context) bool {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

func (s *Server) checkCSRF(c echo.Context, sent string, next echo.HandlerFunc) error {
	want := c.Get(ctxSession).(*models.Session).CSRFToken
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		return newError(http.StatusForbidden, "CSRF_FAILED",
			"보안 토큰이 맞지 않습니다. 페이지를 새로 고친 뒤 다시 하세요.",
			"missing or wrong CSRF token: send the csrf_token cookie's value in the X-CSRF-Token header")
	}
	return next(c)
}

var roleRank = map[string]int{models.RoleViewer: 1, models.RoleOperator: 2, models.RoleAdmin: 3}

// requireRole refuses accounts below the role.
func (s *Server) requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if roleRank[currentAdmin(c).Role] < roleRank[role] {
				return newError(http.StatusForbidden, "FORBIDDEN", "%[2]s 역할이 있어야 할 수 있습니다. 관리자에게 요청하세요.",
					"this needs the %[1]s role", role, views.RoleKO(role))
			}
			return next(c)
		}
	}
}

func currentAdmin(c echo.Context) *models.Admin { return c.Get(ctxAdmin).(*models.Admin) }
