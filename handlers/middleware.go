package handlers

import (
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

// logRequests logs every request but the quiet routes' successes.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = toAPIError(err).Status
		}
		if status >= 400 || s.kinds.of(c)&quietSuccess == 0 {
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
