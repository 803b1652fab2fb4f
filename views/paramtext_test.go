package views_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/command"
	"github.com/wcms-lab/wcms/views"
)

// Every type in the catalogue reads as a sentence of its labels: no JSON, no secret.
func TestParamsText(t *testing.T) {
	const secret = "Pa55-word!"
	for _, typ := range command.Types() {
		t.Run(typ.Name, func(t *testing.T) {
			params := map[string]any{}
			for _, p := range typ.Params {
				switch {
				case p.Kind == command.Number:
					params[p.Name] = p.Max
				case p.Secret():
					params[p.Name] = secret
				default:
					params[p.Name] = "점검 {x}"
				}
			}
			raw, _ := json.Marshal(params)
			for _, lang := range []struct {
				ctx   context.Context
				label func(command.Param) string
			}{
				{context.Background(), func(p command.Param) string { return p.KO }},
				{inEnglish, func(p command.Param) string { return p.EN }},
			} {
				got := views.ParamsText(lang.ctx, typ.Name, string(raw))
				if strings.Contains(got, secret) || strings.Contains(got, `"`) || strings.Contains(got, "{\"") {
					t.Errorf("%q shows JSON or a secret", got)
				}
				for _, p := range typ.Params {
					if p.Secret() != !strings.Contains(got, lang.label(p)+": ") {
						t.Errorf("%q: parameter %s shown %v, secret %v", got, p.Name, !p.Secret(), p.Secret())
					}
				}
			}
		})
	}
	for _, tt := range []struct{ typ, params, want string }{
		{"shutdown", `{"delay":60,"message":"점검"}`, "지연(초): 60, 알림 메시지: “점검”"},
		{"shutdown", `{}`, ""},
		{"shutdown", `not json`, ""},
		{"restart", `{"message":"x","extra":true}`, "알림 메시지: “x”, extra: true"},
		{"create_user", `{"username":"kim","password":"x"}`, "사용자 이름: “kim”"},
	} {
		if got := views.ParamsText(context.Background(), tt.typ, tt.params); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.typ, tt.params, got, tt.want)
		}
	}
}
