package handlers

import (
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Marks an audience's chain leaves on the request (routes.go) for the handlers every request
// shares: the error handler and the request log.
const (
	ctxJSON  = "answer_json" // errors in the JSON envelope, not as pages
	ctxQuiet = "quiet"       // successes are counted in /metrics, not logged
)

// answerJSON marks a route whose callers are programs: agents, scripts, the admin API.
func (s *Server) answerJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxJSON, true)
		return next(c)
	}
}

func answersJSON(c echo.Context) bool { return c.Get(ctxJSON) == true }

// quiet marks a route called so often that only its failures are worth a log line.
func (s *Server) quiet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxQuiet, true)
		return next(c)
	}
}

// noStore keeps answers that carry tokens and live state out of caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// byteLimit is n in the form echo's BodyLimit takes.
func byteLimit(n int64) string { return strconv.FormatInt(n, 10) + "B" }

// notFound answers a path no route has.
func notFound(echo.Context) error { return echo.ErrNotFound }

// logPanic logs a recovered panic with its stack; the error handler then answers 500.
func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic", "path", c.Path(), "panic", err.Error(), "stack", string(stack))
	return err
}

// logRequests logs every request but the quiet routes' successes.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = toAPIError(err).Status
		}
		if status >= 400 || c.Get(ctxQuiet) != true {
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
