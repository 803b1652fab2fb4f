package execute

import "github.com/wcms-lab/wcms/command"

// account is a create_user command's parameters.
type account struct {
	name, password, fullName, comment string
	language                          string // "ll-CC", e.g. "ko-KR"; "" for none
}

// accountOf reads an account from create_user parameters that command.Validate accepted.
func accountOf(p command.Params) account {
	return account{name: p.Text("username"), password: p.Text("password"), fullName: p.Text("full_name"),
		comment: p.Text("comment"), language: p.Text("language")}
}
