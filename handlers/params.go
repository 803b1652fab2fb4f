package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// commandSpec is an admin's command request, before validation.
type commandSpec struct {
	Type       string         `json:"type"`
	Parameters map[string]any `json:"parameters"`
	Priority   *int           `json:"priority"`
	Timeout    *int           `json:"timeout"`
	// ExpiresIn (our addition, seconds): the command waits that long for a PC that is off, then
	// ends expired; absent or 0, it ends when its PC has not polled within its timeout.
	ExpiresIn *int `json:"expires_in"`
}

// build validates the request and returns the command to queue for one PC (PCID unset).
func (cs *commandSpec) build(by string) (models.Command, error) {
	if cs.Type == "" {
		return models.Command{}, badRequest(codeMissingField, "명령 종류를 고르세요", "type is required")
	}
	t, ok := command.Lookup(cs.Type)
	if !ok {
		return models.Command{}, badRequest(codeInvalidField, "%q은(는) 명령 종류가 아닙니다. 다음 중 하나를 쓰세요: %s",
			"type %q is not a command type; use one of %s", cs.Type, command.Names())
	}
	c, err := models.NewCommand(t.Name, cs.Parameters, by)
	if err != nil {
		return c, paramError(err)
	}
	if cs.Priority != nil {
		if *cs.Priority < 1 || *cs.Priority > 10 {
			return c, badRequest(codeInvalidField, "우선순위는 1(가장 급함)부터 10까지입니다 (받은 값 %d)",
				"priority must be from 1 (most urgent) to 10, not %d", *cs.Priority)
		}
		c.Priority = *cs.Priority
	}
	if cs.Timeout != nil {
		if *cs.Timeout < 1 || *cs.Timeout > 86400 {
			return c, badRequest(codeInvalidField, "제한 시간은 1초에서 86400초(24시간) 사이여야 합니다 (받은 값 %d)",
				"timeout must be from 1 to 86400 seconds, not %d", *cs.Timeout)
		}
		c.Timeout = *cs.Timeout
	}
	if cs.ExpiresIn != nil && *cs.ExpiresIn != 0 {
		wait := time.Duration(*cs.ExpiresIn) * time.Second
		if wait < command.MinWait || wait > command.MaxWait {
			return c, badRequest(codeInvalidField, "꺼진 PC를 기다릴 시간(expires_in)은 0(기다리지 않음) 또는 %d초에서 %d초(7일) 사이여야 합니다 (받은 값 %d)",
				"expires_in must be 0 (no wait) or from %d to %d seconds (7 days), not %d",
				int(command.MinWait.Seconds()), int(command.MaxWait.Seconds()), *cs.ExpiresIn)
		}
		at := time.Now().Add(wait).UTC()
		c.ExpiresAt = &at
	}
	return c, nil
}

// paramError is the answer to a parameter the catalogue refused (command.Error); nil for nil,
// and other errors as they are.
func paramError(err error) error {
	var pe *command.Error
	if !errors.As(err, &pe) {
		return err
	}
	code := codeInvalidField
	if pe.Missing {
		code = codeMissingField
	}
	return badRequest(code, "%[3]s: %[4]s", "parameters.%[1]s %[2]s", pe.Param, pe.Problem, pe.Label, pe.Korean)
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
