package execute

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Any server may send anything, so the agent checks every parameter itself before it runs a
// program, and user data never reaches a shell except through execute, whose point is the shell.

const (
	// maxShutdownDelay is shutdown.exe's own limit for /t (ten years).
	maxShutdownDelay = 315360000
	maxMessageLen    = 512
	maxFieldLen      = 256
	maxPasswordLen   = 127 // the longest password Windows accepts
	maxCommandLen    = 8191
)

var (
	usernamePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,20}$`)
	packagePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$`)
	languagePattern  = regexp.MustCompile(`^([A-Za-z]{2,3})[-_]([A-Za-z]{2})$`)
	errControlChars  = errors.New("must not contain control characters")
	errNotWholeValue = errors.New("must be a whole number")
)

// params are a command's parameters as decoded from JSON.
type params map[string]any

// required returns the string parameter key, which must be present, non-empty and pass check.
func (p params) required(key string, check func(string) error) (string, error) {
	s, err := p.optional(key, check)
	if err == nil && s == "" {
		err = fmt.Errorf("parameter %q is required", key)
	}
	return s, err
}

// optional returns the string parameter key, or "" when it is absent or null.
func (p params) optional(key string, check func(string) error) (string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("parameter %q must be a string", key)
	}
	if s == "" {
		return "", nil
	}
	if err := check(s); err != nil {
		return "", fmt.Errorf("parameter %q %w", key, err)
	}
	return s, nil
}

// seconds returns the whole-number parameter key in [lo, hi], or def when it is absent. A
// number given as a string is accepted too: other servers send them that way.
func (p params) seconds(key string, def, lo, hi int) (int, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	f, err := number(v)
	if err == nil && (f < float64(lo) || f > float64(hi)) {
		err = fmt.Errorf("must be from %d to %d", lo, hi)
	}
	if err != nil {
		return 0, fmt.Errorf("parameter %q %w", key, err)
	}
	return int(f), nil
}

func number(v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int:
		f = float64(n)
	case json.Number:
		g, err := n.Float64()
		if err != nil {
			return 0, errNotWholeValue
		}
		f = g
	case string:
		g, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, errNotWholeValue
		}
		f = g
	default:
		return 0, errNotWholeValue
	}
	if f != math.Trunc(f) {
		return 0, errNotWholeValue
	}
	return f, nil
}

// account is a create_user command's parameters.
type account struct {
	name, password, fullName, comment string
	language                          string // "ll-CC", e.g. "ko-KR"; "" for none
}

func (p params) account() (account, error) {
	var a account
	var err error
	if a.name, err = p.required("username", validUsername); err != nil {
		return a, err
	}
	if a.password, err = p.required("password", validPassword); err != nil {
		return a, err
	}
	if a.fullName, err = p.optional("full_name", validField); err != nil {
		return a, err
	}
	if a.comment, err = p.optional("comment", validField); err != nil {
		return a, err
	}
	lang, err := p.optional("language", validLanguage)
	if err != nil {
		return a, err
	}
	a.language = normalizeLanguage(lang)
	return a, nil
}

func validUsername(s string) error {
	if !usernamePattern.MatchString(s) || s[0] == '-' {
		return errors.New("must be 1-20 letters, digits, '.', '_' or '-', not starting with '-'")
	}
	return nil
}

func validPassword(s string) error {
	if len(s) > maxPasswordLen {
		return fmt.Errorf("must be at most %d bytes", maxPasswordLen)
	}
	return noControl(s)
}

func validPackageID(s string) error {
	if !packagePattern.MatchString(s) {
		return errors.New("must be a package id: letters, digits, '.', '_', '+' or '-', starting with a letter or digit, at most 100")
	}
	return nil
}

// validProcessName accepts a bare program name: no path, and no wildcards, which taskkill
// would expand to every process.
func validProcessName(s string) error {
	switch {
	case len(s) > 255:
		return errors.New("must be at most 255 bytes")
	case strings.ContainsAny(s, `/\`):
		return errors.New("must be a process name, not a path")
	case strings.ContainsAny(s, "*?"):
		return errors.New("must not contain wildcards")
	case s[0] == '-':
		return errors.New("must not start with '-'")
	}
	return noControl(s)
}

func validCommand(s string) error {
	if len(s) > maxCommandLen {
		return fmt.Errorf("must be at most %d bytes", maxCommandLen)
	}
	if strings.ContainsRune(s, 0) {
		return errors.New("must not contain NUL")
	}
	return nil
}

// validMessage accepts text for the users' screens: line breaks and tabs are fine.
func validMessage(s string) error {
	if n := len([]rune(s)); n > maxMessageLen {
		return fmt.Errorf("must be at most %d characters", maxMessageLen)
	}
	return noControl(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(s))
}

// validField accepts a one-line account field (full name, comment).
func validField(s string) error {
	if n := len([]rune(s)); n > maxFieldLen {
		return fmt.Errorf("must be at most %d characters", maxFieldLen)
	}
	return noControl(s)
}

func validLanguage(s string) error {
	if !languagePattern.MatchString(s) {
		return errors.New("must be a language tag like ko-KR")
	}
	return nil
}

// normalizeLanguage turns "ko_kr" or "KO-KR" into "ko-KR"; s is valid or empty.
func normalizeLanguage(s string) string {
	m := languagePattern.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1]) + "-" + strings.ToUpper(m[2])
}

func validURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http or https URL")
	}
	return nil
}

func validDestination(s string) error {
	if !filepath.IsAbs(s) {
		return errors.New("must be an absolute path")
	}
	return noControl(s)
}

func noControl(s string) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return errControlChars
	}
	return nil
}
