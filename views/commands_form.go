package views

import (
	"context"
	"encoding/json"
	"strconv"
)

// CommandTarget is a PC a command goes to.
type CommandTarget struct {
	ID       int64
	Hostname string
}

// CommandForm is the command form: whom it targets and the chosen type. The form is loaded into
// a page's command panel and replaces itself with what sending answers.
type CommandForm struct {
	Type string
	PCs  []CommandTarget // the targeted PCs; a room's PCs when Room is set
	Room string          // set when the command goes to every PC of a room
	// Processes are the one targeted PC's current processes, offered for kill_process.
	Processes []string
	Undone    bool // a delayed room shutdown was just cancelled
}

// CommandResults is the result matrix of a send: one row per PC, each live.
type CommandResults struct {
	Commands []CommandView
	// Retryable is false when the commands carried a password: it is removed from the store
	// after delivery, so they cannot be sent again from what is stored.
	Retryable bool
	// Skipped counts failed commands a retry did not re-send for that reason.
	Skipped int
}

// PendingSend is a room power command waiting a few seconds before it is sent, so it can be
// undone.
type PendingSend struct {
	Type   string
	Room   string
	Count  int         // PCs in the room
	Values []FormValue // the form, posted again with confirmed=1 when the delay ends
}

// FormValue is one field of a form carried over in a hidden input.
type FormValue struct {
	Name, Value string
}

// PendingDelay is how long a room power command waits for an undo.
const PendingDelay = 5

// commandField is one input of a command type's form. Kind picks the widget: text, number,
// password, textarea, url, language or process.
type commandField struct {
	Name     string
	KO, EN   string
	Kind     string
	Required bool
	Min, Max string // bounds of a number
	Default  string // a number's default, shown as its placeholder
}

// commandTypes are the types the form offers, in its order, with their names.
var commandTypes = []struct{ Type, KO, EN string }{
	{"message", "메시지", "Message"},
	{"shutdown", "종료", "Shut down"},
	{"restart", "재시작", "Restart"},
	{"kill_process", "프로세스 종료", "Kill process"},
	{"execute", "명령 실행", "Run command"},
	{"install", "프로그램 설치", "Install program"},
	{"uninstall", "프로그램 제거", "Uninstall program"},
	{"download", "파일 다운로드", "Download file"},
	{"create_user", "사용자 만들기", "Create user"},
	{"delete_user", "사용자 삭제", "Delete user"},
	{"change_password", "비밀번호 변경", "Change password"},
}

var delayFields = []commandField{
	{Name: "delay", KO: "지연(초)", EN: "Delay (s)", Kind: "number", Min: "0", Max: "86400", Default: "0"},
	{Name: "message", KO: "알림 메시지", EN: "Notice to users", Kind: "text"},
}

// commandFields are each type's inputs, named as the contract's parameters (CONTRACT.md, Command
// types); the handlers' tests hold them against the validator's table.
var commandFields = map[string][]commandField{
	"shutdown": delayFields,
	"restart":  delayFields,
	"message": {
		{Name: "message", KO: "메시지", EN: "Message", Kind: "textarea", Required: true},
		{Name: "duration", KO: "표시 시간(초)", EN: "Shown for (s)", Kind: "number", Min: "1", Max: "86400", Default: "10"},
	},
	"kill_process": {{Name: "process_name", KO: "프로세스 이름", EN: "Process name", Kind: "process", Required: true}},
	"execute":      {{Name: "command", KO: "명령", EN: "Command", Kind: "textarea", Required: true}},
	"install":      {{Name: "app_id", KO: "Chocolatey 패키지 ID", EN: "Chocolatey package id", Kind: "text", Required: true}},
	"uninstall":    {{Name: "app_id", KO: "Chocolatey 패키지 ID", EN: "Chocolatey package id", Kind: "text", Required: true}},
	"download": {
		{Name: "url", KO: "URL", EN: "URL", Kind: "url", Required: true},
		{Name: "destination", KO: "저장 경로(PC)", EN: "Destination (path on the PC)", Kind: "text", Required: true},
	},
	"create_user": {
		{Name: "username", KO: "사용자 이름", EN: "Username", Kind: "text", Required: true},
		{Name: "password", KO: "비밀번호", EN: "Password", Kind: "password", Required: true},
		{Name: "full_name", KO: "전체 이름", EN: "Full name", Kind: "text"},
		{Name: "comment", KO: "설명", EN: "Comment", Kind: "text"},
		{Name: "language", KO: "표시 언어", EN: "Display language", Kind: "language"},
	},
	"delete_user": {{Name: "username", KO: "사용자 이름", EN: "Username", Kind: "text", Required: true}},
	"change_password": {
		{Name: "username", KO: "사용자 이름", EN: "Username", Kind: "text", Required: true},
		{Name: "new_password", KO: "새 비밀번호", EN: "New password", Kind: "password", Required: true},
	},
}

// displayLanguages are the display languages offered for a new user; ko-KR first.
var displayLanguages = []struct{ Tag, Name string }{
	{"ko-KR", "한국어 (ko-KR)"},
	{"en-US", "English (en-US)"},
	{"ja-JP", "日本語 (ja-JP)"},
	{"zh-CN", "中文 简体 (zh-CN)"},
	{"zh-TW", "中文 繁體 (zh-TW)"},
	{"vi-VN", "Tiếng Việt (vi-VN)"},
}

// typeName is a command type's name in the page language.
func typeName(ctx context.Context, typ string) string {
	for _, t := range commandTypes {
		if t.Type == typ {
			return T(ctx, t.KO, t.EN)
		}
	}
	return typ
}

// destructive tells whether a command type ends work or removes something, and so asks first.
func destructive(typ string) bool {
	switch typ {
	case "shutdown", "restart", "delete_user", "kill_process", "execute":
		return true
	}
	return false
}

// confirmText is what the browser asks before a destructive command is sent.
func (f CommandForm) confirmText(ctx context.Context) string {
	if !destructive(f.Type) {
		return ""
	}
	name := typeName(ctx, f.Type)
	if f.Room != "" {
		return T(ctx, "강의실 "+f.Room+"의 PC "+strconv.Itoa(len(f.PCs))+"대에 '"+name+"' 명령을 보낼까요?",
			"Send '"+name+"' to the "+strconv.Itoa(len(f.PCs))+" PCs of room "+f.Room+"?")
	}
	return T(ctx, "PC "+strconv.Itoa(len(f.PCs))+"대에 '"+name+"' 명령을 보낼까요?",
		"Send '"+name+"' to "+strconv.Itoa(len(f.PCs))+" PC(s)?")
}

// targetVals are the form's targets as htmx values (hx-vals): pc_ids, or the room.
func (f CommandForm) targetVals() string {
	v := map[string]any{}
	if f.Room != "" {
		v["room"] = f.Room
	} else {
		ids := make([]string, len(f.PCs))
		for i, pc := range f.PCs {
			ids[i] = itoa64(pc.ID)
		}
		v["pc_ids"] = ids
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// undoURL reopens the form of a pending room command, marked as cancelled.
func (p PendingSend) undoURL() string {
	return "/commands/new?type=" + urlQuery(p.Type) + "&room=" + urlQuery(p.Room) + "&undone=1"
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// hasPassword tells whether a command type carries a password.
func hasPassword(typ string) bool {
	for _, f := range commandFields[typ] {
		if f.Kind == "password" {
			return true
		}
	}
	return false
}
