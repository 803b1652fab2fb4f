package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/wire"
)

// decodeJSON reads the body as one JSON object into v. Unknown fields are ignored (the contract
// is liberal there); everything else wrong is a 400 that says what and where.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // past the route's body limit: 413 (toAPIError)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return badRequest("INVALID_JSON", "요청 본문이 비어 있습니다: JSON 객체를 보내세요", "request body is empty: send a JSON object")
	}
	if body[0] != '{' {
		return badRequest("INVALID_JSON", "요청 본문은 JSON 객체여야 합니다", "request body must be a JSON object")
	}
	// A NUL cannot be stored in a text column; refuse it rather than fail later.
	if hasNULEscape(body) {
		return badRequest(codeInvalidField, "문자열에 NUL 문자(\\u0000)를 넣을 수 없습니다", "strings must not contain the NUL character (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("INVALID_JSON", "JSON 객체 뒤에 다른 내용이 있습니다", "unexpected data after the JSON object")
	}
	return checkAgentBody(v) // agent_input.go
}

// hasNULEscape reports a \u0000 escape in JSON text; one whose backslash is itself escaped
// ("\\u0000") is plain text, not a NUL.
func hasNULEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		j += i
		slashes := 0
		for k := j; k >= 0 && body[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// pathParam is a path parameter, unescaped. Echo routes on the raw path when the request has
// one (it does when an escape such as %2F changes the meaning), and then hands the parameter
// over still escaped: "3%2FF%20Lab" for "3/F Lab".
func pathParam(c echo.Context, name string) (string, error) {
	if c.Request().URL.RawPath == "" {
		return c.Param(name), nil
	}
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return "", badRequest(codeInvalidField, "%s 값이 주소에 쓸 수 없는 형식입니다", "%s is not a valid path segment", name)
	}
	return v, nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *wire.FieldError
	switch {
	case errors.As(err, &fe):
		return badRequest(codeInvalidField, "%[2]s 값을 쓸 수 없습니다", "%[1]s", fe.Error(), fe.Field)
	case errors.As(err, &syn):
		return badRequest("INVALID_JSON", "JSON 형식이 틀렸습니다 (%[1]d번째 바이트)", "malformed JSON at byte %[1]d: %[2]s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(codeInvalidField, "%[1]s 필드의 JSON 형식이 틀렸습니다 (%[3]s를 받음)", "field %s must be %s, not %s",
			field, jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("INVALID_JSON", "JSON 형식이 틀렸습니다: 본문이 중간에 끝났습니다", "malformed JSON: the body ends too early")
	}
	return badRequest("INVALID_JSON", "JSON 형식이 틀렸습니다: %s", "malformed JSON: %s", err.Error())
}

// jsonType names a Go kind the way a JSON author thinks of it.
func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return kind
}

// pathID parses a numeric path parameter.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest(codeInvalidField, "%s은(는) 양의 정수여야 합니다 (받은 값 %q)", "%s must be a positive integer, not %q", name, c.Param(name))
	}
	return id, nil
}

// required returns a 400 naming the first empty field among name/value pairs.
func required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			return badRequest(codeMissingField, "%s 값이 없습니다", "%s is required", pairs[i])
		}
	}
	return nil
}

// percent checks an optional 0-100 value.
func percent(name string, v *float64) error {
	if v != nil && (*v < 0 || *v > 100) {
		return badRequest(codeInvalidField, "%s은(는) 0에서 100 사이여야 합니다 (받은 값 %g)", "%s must be between 0 and 100, not %g", name, *v)
	}
	return nil
}

// nonNegative checks an optional value that cannot be below zero.
func nonNegative(name string, v float64) error {
	if v < 0 {
		return badRequest(codeInvalidField, "%s은(는) 음수일 수 없습니다 (받은 값 %g)", "%s must not be negative, not %g", name, v)
	}
	return nil
}

// ts is a time as the contract writes it: RFC 3339 in UTC, whole seconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// tsp is ts for optional times.
func tsp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
