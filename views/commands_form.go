package views

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wcms-lab/wcms/command"
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
}

// CommandResults is the result matrix of a send: one row per PC, each live.
type CommandResults struct {
	Commands []CommandView
	// Retryable is false when the commands carried a password: it is removed from the store
	// after delivery, so they cannot be sent again from what is stored.
	Retryable bool
	// Skipped counts failed commands a retry did not re-send for that reason.
	Skipped int
	// Off are the hostnames of PCs that are off, left out of a power command that may not wait.
	Off []string
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
	if t, ok := command.Lookup(typ); ok {
		return T(ctx, t.KO, t.EN)
	}
	return typ
}

// fieldsOf are the inputs of a command type's form: its parameters in the catalogue.
func fieldsOf(typ string) []command.Param {
	if t, ok := command.Lookup(typ); ok {
		return t.Params
	}
	return nil
}

// waitsOf is how long the form offers, by default, to keep a command of type typ for a PC that is
// off (command.Type.Waits).
func waitsOf(typ string) time.Duration {
	t, _ := command.Lookup(typ)
	return t.Waits
}

// waitText names a wait for a PC that is off.
func waitText(ctx context.Context, w time.Duration) string {
	switch {
	case w == 0:
		return T(ctx, "기다리지 않음 (시간 제한 뒤 끝남)", "do not wait (ends after the timeout)")
	case w < 24*time.Hour:
		h := strconv.Itoa(int(w.Hours()))
		return T(ctx, h+"시간 동안 기다림", "wait "+h+" hour(s)")
	}
	d := strconv.Itoa(int(w.Hours() / 24))
	return T(ctx, d+"일 동안 기다림", "wait "+d+" day(s)")
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

// confirmField is the parameter a destructive command's confirmation quotes (static/app.js): what
// will run, be killed or be deleted — its first required parameter that is not a secret.
func confirmField(typ string) string {
	if !destructive(typ) {
		return ""
	}
	t, ok := command.Lookup(typ)
	if !ok {
		return ""
	}
	for _, p := range t.Params {
		if p.Required && !p.Secret() {
			return p.Name
		}
	}
	return ""
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

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
