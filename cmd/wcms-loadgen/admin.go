package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// session is one signed-in admin: its own cookie jar (session and csrf_token cookies).
type session struct {
	base   string
	client *http.Client
	csrf   string
}

// login signs in as admin over tr and keeps the session.
func login(ctx context.Context, base string, tr http.RoundTripper, password string) (*session, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s := &session{base: base, client: &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := url.Values{"username": {"admin"}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	res.Body.Close()
	// Success and failure are both 302; only success sets the session.
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != "/" {
		return nil, fmt.Errorf("login: %d to %q: wrong admin password?", res.StatusCode, loc)
	}
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == "csrf_token" {
			s.csrf = c.Value
		}
	}
	if s.csrf == "" {
		return nil, fmt.Errorf("login: no csrf_token cookie")
	}
	return s, nil
}

// httpError is a non-2xx answer.
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// call sends a JSON admin request and decodes the answer into out (when not nil).
func (s *session) call(ctx context.Context, method, path string, in, out any) error {
	return sendJSON(ctx, s.client, method, s.base+path, "X-CSRF-Token", s.csrf, in, out)
}

// sendJSON sends in as JSON to target, with header set to value when value is not empty, and
// decodes a 2xx answer into out (when not nil).
func sendJSON(ctx context.Context, client *http.Client, method, target, header, value string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if value != "" {
		req.Header.Set(header, value)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	return decodeAnswer(res.StatusCode, data, out)
}

// decodeAnswer decodes a 2xx answer's body into out (when not nil); any other is an httpError.
func decodeAnswer(status int, data []byte, out any) error {
	if status/100 != 2 {
		return &httpError{status: status, body: strings.TrimSpace(string(data))}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// multiPIN creates a multi-use registration PIN valid for an hour.
func (s *session) multiPIN(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	in := map[string]any{"usage_type": "multi", "expires_in": 3600}
	if err := s.call(ctx, http.MethodPost, "/api/admin/registration-token", in, &out); err != nil {
		return "", fmt.Errorf("create pin: %w", err)
	}
	return out.Token, nil
}
