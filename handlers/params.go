package handlers

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// param describes one parameter a command type accepts.
type param struct {
	name     string
	integer  bool    // a whole number; otherwise a string
	required bool    // must be present (and, for strings, not blank)
	def      any     // filled in when absent (nil: left out)
	min, max float64 // bounds for integers
	check    func(string) error
}

var (
	// Chocolatey package ids: letters, digits, dots, dashes, underscores; never an option.
	appIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	// Characters Windows refuses in account names, plus control characters.
	badUsername = regexp.MustCompile(`["/\\\[\]:;|=,+*?<>@\x00-\x1f]`)
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

func checkAppID(s string) error {
	if !appIDPattern.MatchString(s) {
		return fmt.Errorf("must be a package id (letters, digits, '.', '-', '_')")
	}
	return nil
}

func checkUsername(s string) error {
	if len(s) > 20 || badUsername.MatchString(s) || strings.Trim(s, ". ") == "" {
		return fmt.Errorf(`must be a Windows account name: at most 20 characters, none of "/\[]:;|=,+*?<>@`)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http or https URL")
	}
	return nil
}

func checkLanguage(s string) error {
	if !languageTag.MatchString(s) {
		return fmt.Errorf("must be a language tag such as ko-KR")
	}
	return nil
}

func checkPasswordParam(s string) error {
	if len(s) > 127 {
		return fmt.Errorf("must be at most 127 characters")
	}
	return nil
}

var delayParams = []param{
	{name: "delay", integer: true, def: 0, min: 0, max: 86400},
	{name: "message"},
}

// commandParams lists, per command type, exactly the keys the published client reads: it passes
// some of them as keyword arguments, so an unexpected key would make it fail.
var commandParams = map[string][]param{
	wire.TypeShutdown:    delayParams,
	wire.TypeRestart:     delayParams,
	wire.TypeMessage:     {{name: "message", required: true}, {name: "duration", integer: true, def: 10, min: 1, max: 86400}},
	wire.TypeKillProcess: {{name: "process_name", required: true}},
	wire.TypeExecute:     {{name: "command", required: true}},
	wire.TypeInstall:     {{name: "app_id", required: true, check: checkAppID}},
	wire.TypeUninstall:   {{name: "app_id", required: true, check: checkAppID}},
	wire.TypeDownload:    {{name: "url", required: true, check: checkURL}, {name: "destination", required: true}},
	wire.TypeCreateUser: {{name: "username", required: true, check: checkUsername},
		{name: "password", required: true, check: checkPasswordParam}, {name: "full_name"}, {name: "comment"},
		{name: "language", check: checkLanguage}},
	wire.TypeDeleteUser:     {{name: "username", required: true, check: checkUsername}},
	wire.TypeChangePassword: {{name: "username", required: true, check: checkUsername}, {name: "new_password", required: true, check: checkPasswordParam}},
}

// commandSpec is an admin's command request, before validation.
type commandSpec struct {
	Type       string         `json:"type"`
	Parameters map[string]any `json:"parameters"`
	Priority   *int           `json:"priority"`
	Timeout    *int           `json:"timeout"`
}

// build validates the request and returns the command to queue for one PC (PCID unset).
func (cs *commandSpec) build(by string) (models.Command, error) {
	typ := cs.Type
	if typ == wire.TypeReboot {
		typ = wire.TypeRestart
	}
	spec, ok := commandParams[typ]
	if !ok {
		if typ == "" {
			return models.Command{}, badRequest(codeMissingField, "type is required")
		}
		return models.Command{}, badRequest(codeInvalidField, "type %q is not a command type; use one of %s", cs.Type, commandTypes())
	}
	params, err := validateParams(typ, spec, cs.Parameters)
	if err != nil {
		return models.Command{}, err
	}
	c := models.Command{Type: typ, Parameters: params, Priority: 5, Timeout: 300, CreatedBy: by}
	if cs.Priority != nil {
		if *cs.Priority < 1 || *cs.Priority > 10 {
			return c, badRequest(codeInvalidField, "priority must be from 1 (most urgent) to 10, not %d", *cs.Priority)
		}
		c.Priority = *cs.Priority
	}
	if cs.Timeout != nil {
		if *cs.Timeout < 1 || *cs.Timeout > 86400 {
			return c, badRequest(codeInvalidField, "timeout must be from 1 to 86400 seconds, not %d", *cs.Timeout)
		}
		c.Timeout = *cs.Timeout
	}
	return c, nil
}

func commandTypes() string {
	var ts []string
	for t := range commandParams {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return strings.Join(ts, ", ")
}

// validateParams checks given against spec and returns the parameters as a JSON object.
func validateParams(typ string, spec []param, given map[string]any) (string, error) {
	known := make(map[string]bool, len(spec))
	out := make(map[string]any, len(spec))
	for _, p := range spec {
		known[p.name] = true
		v, present := given[p.name]
		if !present || v == nil {
			if p.required {
				return "", badRequest(codeMissingField, "parameters.%s is required for %s", p.name, typ)
			}
			if p.def != nil {
				out[p.name] = p.def
			}
			continue
		}
		field := "parameters." + p.name
		if p.integer {
			f, ok := v.(float64)
			if !ok || f != math.Trunc(f) {
				return "", badRequest(codeInvalidField, "%s must be a whole number", field)
			}
			if f < p.min || f > p.max {
				return "", badRequest(codeInvalidField, "%s must be from %g to %g, not %g", field, p.min, p.max, f)
			}
			out[p.name] = int64(f)
			continue
		}
		str, ok := v.(string)
		if !ok {
			return "", badRequest(codeInvalidField, "%s must be a string", field)
		}
		if p.required && strings.TrimSpace(str) == "" {
			return "", badRequest(codeMissingField, "%s must not be empty", field)
		}
		if p.check != nil {
			if err := p.check(str); err != nil {
				return "", badRequest(codeInvalidField, "%s %s", field, err.Error())
			}
		}
		out[p.name] = str
	}
	for k := range given {
		if !known[k] {
			return "", badRequest(codeInvalidField, "parameters.%s is not a parameter of %s", k, typ)
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// wireCommand is a stored command as handed to an agent.
func wireCommand(c *models.Command) (*wire.Command, error) {
	var params map[string]any
	if err := json.Unmarshal([]byte(c.Parameters), &params); err != nil {
		return nil, fmt.Errorf("command %d: parameters: %w", c.ID, err)
	}
	created := c.CreatedAt.UTC().Truncate(time.Second)
	return &wire.Command{ID: c.ID, Type: c.Type, Parameters: params, Timeout: c.Timeout, Priority: c.Priority,
		CreatedAt: &created}, nil
}
