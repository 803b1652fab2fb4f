package handlers

import (
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// routeKind is how a route answers, set by its audience at registration (routes.go) and read
// by the handlers every request shares: the error handler and the request log. It is kept by
// route, not put on each request, so the agents' hot path pays nothing for it.
type routeKind uint8

const (
	forPeople     routeKind = 0
	forPrograms   routeKind = 1 << iota // errors in the JSON envelope, not as pages
	quietSuccess                        // successes are counted in /metrics, logged at debug only
	agentAPI                            // the agents' own calls, summarised each minute (agentlog.go)
	noPageHeaders                       // answered without the pages' security headers: no browser shows it
)

// routeKinds maps a route's path pattern to its kind; written while the routes are registered,
// only read afterwards.
type routeKinds map[string]routeKind

func (k *routeKinds) set(path string, kind routeKind) {
	if *k == nil {
		*k = routeKinds{}
	}
	if old, ok := (*k)[path]; ok && old != kind {
		panic("handlers: " + path + " registered for two audiences") // a mistake in routes.go
	}
	(*k)[path] = kind
}

// of is the kind of the request's route; forPeople when no route matched.
func (k routeKinds) of(c echo.Context) routeKind { return k[c.Path()] }

func (s *Server) answersJSON(c echo.Context) bool { return s.kinds.of(c)&forPrograms != 0 }

// withoutPageHeaders skips the pages' security headers (routes.go) on the routes marked so. Every
// other answer has them, including a 404 or 405 for a path no route takes.
func (s *Server) withoutPageHeaders(c echo.Context) bool { return s.kinds.of(c)&noPageHeaders != 0 }

// noStore keeps answers that carry tokens and live state out of caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setNoStore(c)
		return next(c)
	}
}

func setNoStore(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }

// byteLimit is n in the form echo's BodyLimit takes.
func byteLimit(n int64) string { return strconv.FormatInt(n, 10) + "B" }

// notFound answers a path no route has.
func notFound(echo.Context) error { return echo.ErrNotFound }

// logPanic logs a recovered panic with its stack; the error handler then answers 500.
func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic", "path", c.Path(), "panic", err.Error(), "stack", string(stack))
	return err
}

// logRequests logs each request at the level its outcome calls for (requestLevel), building the
// record only when that level is on, and counts the agent API's requests in the minute's summary.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		took := workTime(c, start)
		status := c.Response().Status
		if err != nil {
			status = toAPIError(err).Status
		}
		kind := s.kinds.of(c)
		if kind&agentAPI != 0 {
			s.agentLog.record(c.Request().Method, c.Path(), status, took)
		}
		level := s.requestLevel(kind, status, took)
		// At 10,000 agents the debug lines are 5,000 a second: with debug off they cost nothing.
		if ctx := c.Request().Context(); s.log.Enabled(ctx, level) {
			s.log.LogAttrs(ctx, level, "request", slog.String("method", c.Request().Method), slog.String("path", loggedPath(c)),
				slog.Int("status", status), slog.Int64("ms", took.Milliseconds()), slog.String("addr", c.RealIP()))
		}
		return err
	}
}

// requestLevel is the level a request is logged at: warn for an error (5xx), a refusal (4xx) or a
// slow answer, whoever asked; debug for the quiet routes' other answers (the agent API's are in
// the minute's summary instead); info for the rest.
func (s *Server) requestLevel(kind routeKind, status int, took time.Duration) slog.Level {
	switch {
	case status >= 400 || took > s.cfg.SlowRequest:
		return slog.LevelWarn
	case kind&quietSuccess != 0:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// loggedPath is the request's path for the log; a route whose path carries a secret (the PIN
// being revoked, in its :token) is logged by its pattern instead.
func loggedPath(c echo.Context) string {
	if slices.Contains(c.ParamNames(), "token") {
		return c.Path()
	}
	return c.Request().URL.Path
}
