// Package command is the one catalogue of the commands an admin can send to a PC: each type,
// its parameters (names as the published client reads them), their kinds, bounds and formats,
// which are required and which are secret, and their labels for the dashboard. The server
// validates with it before queueing and the agent again before running, so a command the server
// accepts is one the agent will run. The agent links it: standard library and wire only.
package command

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// Kind is what a parameter holds, and so which input the dashboard shows for it.
type Kind int

const (
	Text     Kind = iota // one line of text
	LongText             // text with line breaks (a message, a shell command)
	Number               // a whole number between Min and Max
	Password             // a secret: removed from the server once delivered
	URL                  // an http or https URL
	Language             // a language tag, ll-CC
	Process              // a process name (the dashboard offers the PC's running ones)
)

// Param is one parameter of a command type.
type Param struct {
	Name     string // the key on the wire
	KO, EN   string // the dashboard's label
	Kind     Kind
	Required bool
	Default  int // a Number's value when absent
	Min, Max int // a Number's bounds
	// check refuses a text value the PC cannot take; nil accepts any text without control
	// characters.
	check func(string) error
}

// Secret tells whether the parameter is removed from the server once the command is delivered.
func (p Param) Secret() bool { return p.Kind == Password }

// Type is one command type.
type Type struct {
	Name   string // as stored and sent
	KO, EN string
	Params []Param
	// Waits is how long the dashboard offers, by default, to keep the command for a PC that is
	// off: a message an hour, an install a week; 0 for power and process commands, which would
	// surprise a student at the next start.
	Waits time.Duration
}

// HasSecret tells whether commands of type typ carry a secret parameter, so cannot be sent
// again from what the server keeps once they were delivered.
func HasSecret(typ string) bool {
	t, ok := Lookup(typ)
	return ok && slices.ContainsFunc(t.Params, Param.Secret)
}

var delayParams = []Param{
	{Name: "delay", KO: "지연(초)", EN: "Delay (s)", Kind: Number, Default: 0, Min: 0, Max: 86400},
	{Name: "message", KO: "알림 메시지", EN: "Notice to users", Kind: Text, check: message},
}

var appID = Param{Name: "app_id", KO: "Chocolatey 패키지 ID", EN: "Chocolatey package id", Kind: Text, Required: true, check: packageID}

var username = Param{Name: "username", KO: "사용자 이름", EN: "Username", Kind: Text, Required: true, check: accountName}

// types are every command type, in the order the dashboard offers them.
var types = []Type{
	{Name: wire.TypeMessage, KO: "메시지", EN: "Message", Params: []Param{
		{Name: "message", KO: "메시지", EN: "Message", Kind: LongText, Required: true, check: message},
		{Name: "duration", KO: "표시 시간(초)", EN: "Shown for (s)", Kind: Number, Default: 10, Min: 1, Max: 86400},
	}, Waits: time.Hour},
	{Name: wire.TypeShutdown, KO: "종료", EN: "Shut down", Params: delayParams},
	{Name: wire.TypeRestart, KO: "재시작", EN: "Restart", Params: delayParams},
	{Name: wire.TypeKillProcess, KO: "프로세스 종료", EN: "Kill process", Params: []Param{
		{Name: "process_name", KO: "프로세스 이름", EN: "Process name", Kind: Process, Required: true, check: processName},
	}},
	{Name: wire.TypeExecute, KO: "명령 실행", EN: "Run command", Params: []Param{
		{Name: "command", KO: "명령", EN: "Command", Kind: LongText, Required: true, check: shellCommand},
	}, Waits: day},
	{Name: wire.TypeInstall, KO: "프로그램 설치", EN: "Install program", Params: []Param{appID}, Waits: week},
	{Name: wire.TypeUninstall, KO: "프로그램 제거", EN: "Uninstall program", Params: []Param{appID}, Waits: week},
	{Name: wire.TypeDownload, KO: "파일 다운로드", EN: "Download file", Params: []Param{
		{Name: "url", KO: "URL", EN: "URL", Kind: URL, Required: true, check: webURL},
		{Name: "destination", KO: "저장 경로(PC)", EN: "Destination (path on the PC)", Kind: Text, Required: true, check: absolutePath},
	}, Waits: day},
	{Name: wire.TypeCreateUser, KO: "사용자 만들기", EN: "Create user", Params: []Param{
		username,
		{Name: "password", KO: "비밀번호", EN: "Password", Kind: Password, Required: true, check: password},
		{Name: "full_name", KO: "전체 이름", EN: "Full name", Kind: Text, check: accountField},
		{Name: "comment", KO: "설명", EN: "Comment", Kind: Text, check: accountField},
		{Name: "language", KO: "표시 언어", EN: "Display language", Kind: Language, check: language},
	}, Waits: day},
	{Name: wire.TypeDeleteUser, KO: "사용자 삭제", EN: "Delete user", Params: []Param{username}, Waits: day},
	{Name: wire.TypeChangePassword, KO: "비밀번호 변경", EN: "Change password", Params: []Param{
		username,
		{Name: "new_password", KO: "새 비밀번호", EN: "New password", Kind: Password, Required: true, check: password},
	}, Waits: day},
	{Name: wire.TypeWakeOnLAN, KO: "다른 PC 깨우기 (Wake-on-LAN)", EN: "Wake other PCs (Wake-on-LAN)", Params: []Param{
		{Name: "macs", KO: "깨울 PC의 MAC 주소 (쉼표로 구분)", EN: "MAC addresses to wake (comma-separated)", Kind: Text, Required: true, check: macList},
		{Name: "broadcast", KO: "서브넷 브로드캐스트 주소", EN: "Subnet broadcast address", Kind: Text, Required: true, check: ipv4},
	}},
}

// The waits the dashboard offers for a PC that is off (Type.Waits); the API takes any number of
// seconds from MinWait to MaxWait.
const (
	day     = 24 * time.Hour
	week    = 7 * day
	MinWait = time.Minute
	MaxWait = week
)

// WaitChoices are the waits the dashboard offers, none first.
func WaitChoices() []time.Duration { return []time.Duration{0, time.Hour, day, week} }

// Types are every command type, in the dashboard's order.
func Types() []Type { return types }

// Lookup returns the type named name; reboot is the old name of restart.
func Lookup(name string) (*Type, bool) {
	if name == wire.TypeReboot {
		name = wire.TypeRestart
	}
	for i := range types {
		if types[i].Name == name {
			return &types[i], true
		}
	}
	return nil, false
}

// Names are the type names, comma-separated, for error messages.
func Names() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// SecretNames are the names of every secret parameter of any type.
func SecretNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, t := range types {
		for _, p := range t.Params {
			if p.Secret() && !seen[p.Name] {
				seen[p.Name] = true
				names = append(names, p.Name)
			}
		}
	}
	return names
}

// ErrUnknownType is the error of Validate for a type not in the catalogue.
var ErrUnknownType = errors.New("unknown command type")

// Error is a parameter the command cannot run with.
type Error struct {
	Param   string
	Label   string // the parameter's Korean label, for the dashboard's Korean pages
	Missing bool   // absent, null or blank when required
	Problem string // what is wrong, e.g. "must be at most 512 characters"
	Korean  string // the same in Korean, e.g. "512자 이하여야 합니다"
}

func (e *Error) Error() string { return fmt.Sprintf("parameter %q %s", e.Param, e.Problem) }

// problem is what is wrong with a value, in English (its Error) and Korean.
type problem struct{ ko, en string }

func (p problem) Error() string { return p.en }

// problemf makes a problem from Korean and English formats that take the same arguments.
func problemf(ko, en string, args ...any) error {
	return problem{fmt.Sprintf(ko, args...), fmt.Sprintf(en, args...)}
}

// errorOf is the parameter error of p for err (a problem, or an error with English text only).
func (p Param) errorOf(err error, missing bool) *Error {
	e := &Error{Param: p.Name, Label: p.KO, Missing: missing, Problem: err.Error(), Korean: err.Error()}
	if pr, ok := err.(problem); ok {
		e.Korean = pr.ko
	}
	return e
}

var (
	errRequired = problem{"꼭 넣어야 합니다", "is required"}
	errNotText  = problem{"문자열이어야 합니다", "must be a string"}
)

// Params are validated parameters: text as string, numbers as int64.
type Params map[string]any

// Text is the text parameter name, or "" when it is absent.
func (p Params) Text(name string) string {
	s, _ := p[name].(string)
	return s
}

// Int is the number parameter name (Validate fills in its default).
func (p Params) Int(name string) int {
	n, _ := p[name].(int64)
	return int(n)
}

// Validate checks the parameters of a command of type typ and returns them normalised: numbers
// as whole int64 (from JSON numbers or numeric text, which some servers send), defaults filled
// in, language tags as ll-CC. Keys the type does not have are left out of the result, so an
// agent still runs a command from a server that sends more than it knows; the server refuses
// them before queueing (CheckKeys).
func Validate(typ string, params map[string]any) (Params, error) {
	t, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	return t.Validate(params)
}

// Validate checks params against t; see the package's Validate.
func (t *Type) Validate(params map[string]any) (Params, error) {
	out := make(Params, len(t.Params))
	for _, p := range t.Params {
		v, err := p.validate(params[p.Name])
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[p.Name] = v
		}
	}
	return out, nil
}

// CheckKeys refuses a key t does not have: the server sends exactly the documented keys, since
// the published client passes some parameters as keyword arguments and an unexpected key makes
// it fail.
func (t *Type) CheckKeys(params map[string]any) error {
	for k := range params {
		if _, ok := t.param(k); !ok {
			return Param{Name: k, KO: k}.errorOf(problemf("%[2]s 명령에는 없는 매개변수입니다",
				"is not a parameter of %[1]s", t.Name, t.KO), false)
		}
	}
	return nil
}

func (t *Type) param(name string) (Param, bool) {
	for _, p := range t.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// validate returns v normalised, or nil when it is absent and has no default.
func (p Param) validate(v any) (any, error) {
	if v == nil {
		switch {
		case p.Required:
			return nil, p.errorOf(errRequired, true)
		case p.Kind == Number:
			return int64(p.Default), nil
		}
		return nil, nil
	}
	if p.Kind == Number {
		n, err := wholeNumber(v)
		if err == nil && (n < int64(p.Min) || n > int64(p.Max)) {
			err = problemf("%d부터 %d까지여야 합니다 (받은 값 %d)", "must be from %d to %d, not %d", p.Min, p.Max, n)
		}
		if err != nil {
			return nil, p.errorOf(err, false)
		}
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, p.errorOf(errNotText, false)
	}
	if strings.TrimSpace(s) == "" {
		if p.Required {
			return nil, p.errorOf(errRequired, true)
		}
		return s, nil // an empty optional text means "none", as the form sends it
	}
	check := p.check
	if check == nil {
		check = noControl
	}
	if err := check(s); err != nil {
		return nil, p.errorOf(err, false)
	}
	if p.Kind == Language {
		return normalizeLanguage(s), nil
	}
	return s, nil
}

var errNotWhole = problem{"정수여야 합니다", "must be a whole number"}

// wholeNumber reads a JSON number (float64 from encoding/json, or json.Number) or numeric text.
func wholeNumber(v any) (int64, error) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case interface{ Float64() (float64, error) }: // json.Number
		g, err := n.Float64()
		if err != nil {
			return 0, errNotWhole
		}
		f = g
	case string:
		g, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, errNotWhole
		}
		f = g
	default:
		return 0, errNotWhole
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, errNotWhole
	}
	return int64(f), nil
}
