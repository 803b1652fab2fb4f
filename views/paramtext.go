package views

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wcms-lab/wcms/command"
)

// ParamsText is a command's parameters (a JSON object) as a line a person reads, e.g.
// "지연(초): 60, 알림 메시지: “점검”": each parameter by its catalogue label, in the catalogue's
// order, texts in quotes. Secret parameters are never shown, even if still stored; keys the
// catalogue does not know come last under their own names.
func ParamsText(ctx context.Context, typ, params string) string {
	var values map[string]json.RawMessage
	if json.Unmarshal([]byte(params), &values) != nil {
		return ""
	}
	var parts []string
	add := func(label string, raw json.RawMessage) {
		parts = append(parts, label+": "+valueText(raw))
	}
	if t, ok := command.Lookup(typ); ok {
		for _, p := range t.Params {
			raw, ok := values[p.Name]
			delete(values, p.Name)
			if ok && !p.Secret() {
				add(T(ctx, p.KO, p.EN), raw)
			}
		}
	}
	rest := make([]string, 0, len(values))
	for name := range values {
		if !slices.Contains(command.SecretNames(), name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		add(name, values[name])
	}
	return strings.Join(parts, ", ")
}

// valueText is a JSON value as text: a string in quotes, anything else as written.
func valueText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "“" + s + "”"
	}
	return string(raw)
}

// sendSummary is a send of several commands in a line: "종료 · 강의실 301 · PC 40대 · 완료 38 ·
// 실패 2 · 대기 0".
func sendSummary(ctx context.Context, s CommandSend) string {
	var done, failed, waiting int
	for _, c := range s.Commands {
		switch c.Status {
		case "completed":
			done++
		case "error", "timeout":
			failed++
		default:
			waiting++
		}
	}
	parts := []string{typeName(ctx, s.Commands[0].Type)}
	if s.Room != "" {
		parts = append(parts, T(ctx, "강의실 ", "room ")+s.Room)
	}
	parts = append(parts,
		fmt.Sprintf(T(ctx, "PC %d대", "%d PCs"), len(s.Commands)),
		T(ctx, "완료 ", "done ")+strconv.Itoa(done),
		T(ctx, "실패 ", "failed ")+strconv.Itoa(failed),
		T(ctx, "대기 ", "waiting ")+strconv.Itoa(waiting))
	return strings.Join(parts, " · ")
}
