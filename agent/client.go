package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// maxResponse caps what the agent reads of one server answer; real answers are a few KB.
const maxResponse = 1 << 20

// APIError is an answer from the server other than 2xx.
type APIError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
	AgentToken string // with CodeReenrolPending: the token once approved; never in Error()
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("server said %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("server said %d: %s", e.Status, e.Message)
}

// hasCode tells whether err is the server's answer with the given error code.
func hasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// identityLost tells whether the server no longer knows this PC (deleted, a new database) or no
// longer takes its token (another install was approved in its place).
func identityLost(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound && ae.Code == wire.CodePCNotFound ||
		ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// isPermanent tells whether retrying the same request can never succeed.
func isPermanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
		ae.Status != http.StatusTooManyRequests && ae.Status != http.StatusRequestTimeout
}

// client speaks the agent half of the API (docs/API.md) over one keep-alive connection pool.
type client struct {
	base      string
	userAgent string
	http      *http.Client

	mu    sync.Mutex
	token string // agent_token, sent as a bearer token once registered
	// skew is the server clock minus ours, from the Date header of the last answer.
	skew time.Duration
}

func (c *client) setToken(t string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = t
}

func (c *client) clockSkew() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew
}

func newClient(server, version string) *client {
	tr := &http.Transport{
		Proxy:                 nil, // lab PCs talk to the server directly; a user's proxy must not see agent tokens
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 45 * time.Second, // longer than any long-poll wait we ask for
		// The server compresses nothing, so asking for gzip would only add a header to every poll.
		DisableCompression: true,
	}
	return &client{
		base:      strings.TrimRight(server, "/"),
		userAgent: wire.UserAgent(version, runtime.GOOS, runtime.GOARCH),
		http:      &http.Client{Transport: tr},
	}
}

// do sends one JSON request and decodes a 2xx answer into out.
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	// No Accept: the server answers its agent API in JSON whatever a caller accepts.
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if d, err := http.ParseTime(res.Header.Get("Date")); err == nil {
		c.mu.Lock()
		c.skew = time.Until(d)
		c.mu.Unlock()
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if res.StatusCode/100 != 2 {
		return apiError(res, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding answer (%d bytes): %w", len(data), err)
	}
	return nil
}

func apiError(res *http.Response, data []byte) error {
	var env wire.ErrorResponse
	ae := &APIError{Status: res.StatusCode}
	if json.Unmarshal(data, &env) == nil {
		ae.Code, ae.Message, ae.AgentToken = env.Error.Code, env.Error.Message, env.AgentToken
		if ae.Message == "" {
			ae.Message = env.Message
		}
	}
	if ae.Message == "" {
		ae.Message = http.StatusText(res.StatusCode)
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		ae.RetryAfter = time.Duration(s) * time.Second
	}
	return ae
}

func (c *client) register(ctx context.Context, req wire.RegisterRequest) (wire.RegisterResponse, error) {
	var res wire.RegisterResponse
	err := c.do(ctx, http.MethodPost, "/api/client/register", req, &res)
	return res, err
}

func (c *client) poll(ctx context.Context, req wire.PollRequest) (wire.PollData, error) {
	var res wire.PollResponse
	err := c.do(ctx, http.MethodPost, "/api/client/commands", req, &res)
	return res.Data, err
}

func (c *client) heartbeat(ctx context.Context, req wire.HeartbeatRequest) error {
	return c.do(ctx, http.MethodPost, "/api/client/heartbeat", req, nil)
}

func (c *client) result(ctx context.Context, id int64, req wire.ResultRequest) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/client/commands/%d/result", id), req, nil)
}

func (c *client) shutdown(ctx context.Context, machineID string) error {
	return c.do(ctx, http.MethodPost, "/api/client/shutdown", wire.MachineRequest{MachineID: machineID}, nil)
}

func (c *client) version(ctx context.Context) (wire.VersionResponse, error) {
	var res wire.VersionResponse
	q := url.Values{"os": {runtime.GOOS}, "arch": {runtime.GOARCH}}
	err := c.do(ctx, http.MethodGet, "/api/client/version?"+q.Encode(), nil, &res)
	return res, err
}

// download streams url, which must be on the agent's own server, into w.
func (c *client) download(ctx context.Context, rawURL string, w io.Writer, limit int64) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("download url: %w", err)
	}
	base, _ := url.Parse(c.base)
	if !u.IsAbs() {
		u = base.ResolveReference(u)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return fmt.Errorf("download url %s is not on the agent's server %s", u.Redacted(), c.base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.userAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		return apiError(res, data)
	}
	n, err := io.Copy(w, io.LimitReader(res.Body, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("download is larger than %d bytes", limit)
	}
	return nil
}
