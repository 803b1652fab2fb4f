package handlers

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// recoverPanics turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logRequests logs admin requests and failures; successful agent calls (thousands a second) only
// count in /metrics.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = toAPIError(err).Status
		}
		path := c.Request().URL.Path
		if status >= 400 || !strings.HasPrefix(path, "/api/client/") && path != "/metrics" && !strings.HasPrefix(path, "/static/") {
			s.log.Info("request", "method", c.Request().Method, "path", loggedPath(c), "status", status,
				"ms", time.Since(start).Milliseconds(), "addr", c.RealIP())
		}
		return err
	}
}

// loggedPath is the request's path for the log; a route whose path carries a secret (the PIN
// being revoked, in its :token) is logged by its pattern instead.
func loggedPath(c echo.Context) string {
	if slices.Contains(c.ParamNames(), "token") {
		return c.Path()
	}
	return c.Request().URL.Path
}

// securityHeaders sets headers that cost nothing and shut whole classes of attack.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		if isAPI(c) {
			h.Set("Cache-Control", "no-store")
		}
		if c.IsTLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// limitBody caps every request body, an agent build upload at MaxUpload and everything else at
// MaxBody; reading past the cap fails with *http.MaxBytesError (413). Echo has routed the request
// by now, so c.Path() is the route.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := s.cfg.MaxBody
		if r.Method == http.MethodPost && (c.Path() == "/api/admin"+agentBuildsRoute || c.Path() == agentsPath) {
			limit = s.cfg.MaxUpload
		}
		if r.ContentLength > limit {
			return &http.MaxBytesError{Limit: limit}
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}
