package handlers

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/wire"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decode helper every handler uses. It must
// never panic, must refuse with a 400 INVALID_JSON or INVALID_FIELD, and may accept only one
// well-formed JSON object without a NUL in it.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, ` {"machine_id":"M1"} `, `[]`, `null`, `"x"`, `{"machine_id":`, `{"machine_id":"M1"}{}`,
		`{"machine_id":"M1"} x`, `{"machine_id":1}`, `{"machine_id":"a\u0000b"}`, `{"machine_id":"a\\u0000b"}`,
		`{"machine_id":"a\\\u0000b"}`, `{"full_update":"yes","system_info":{}}`,
		`{"system_info":{"processes":"chrome.exe"}}`, `{"system_info":{"disk_usage":{"C:":{"percent":"x"}}}}`,
		`{"system_info":{"uptime":1e400}}`, "{\"machine_id\":\"\xff\xfe\"}", `{"a":{"b":{"c":[[[[[[[]]]]]]]}}}`,
	} {
		f.Add([]byte(s))
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		c := e.NewContext(httptest.NewRequest("POST", "/", bytes.NewReader(body)), httptest.NewRecorder())
		var v wire.HeartbeatRequest
		err := decodeJSON(c, &v)
		if err != nil {
			ae := toAPIError(err)
			if ae.Status != 400 || (ae.Code != "INVALID_JSON" && ae.Code != codeInvalidField) || ae.Message == "" {
				t.Fatalf("refusal %d %s %q for %q", ae.Status, ae.Code, ae.Message, body)
			}
			return
		}
		trimmed := bytes.TrimSpace(body)
		if !json.Valid(trimmed) || trimmed[0] != '{' {
			t.Fatalf("accepted a body that is not one JSON object: %q", body)
		}
		if hasNULEscape(trimmed) {
			t.Fatalf("accepted a NUL: %q", body)
		}
	})
}
