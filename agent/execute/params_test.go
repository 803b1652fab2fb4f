package execute

import (
	"testing"

	"github.com/wcms-lab/wcms/command"
)

func TestAccountParams(t *testing.T) {
	p, err := command.Validate("create_user", map[string]any{
		"username": "kim", "password": "pw", "full_name": "Kim Minsu", "comment": "Lab 3", "language": "ko_kr",
	})
	want := account{name: "kim", password: "pw", fullName: "Kim Minsu", comment: "Lab 3", language: "ko-KR"}
	if a := accountOf(p); err != nil || a != want {
		t.Fatalf("accountOf = %+v, %v; want %+v", a, err, want)
	}
	p, err = command.Validate("create_user", map[string]any{"username": "kim", "password": "pw", "full_name": nil})
	if a, want := accountOf(p), (account{name: "kim", password: "pw"}); err != nil || a != want {
		t.Fatalf("accountOf = %+v, %v; want %+v", a, err, want)
	}
}
