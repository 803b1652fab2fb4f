package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/agent/collect"
	"github.com/wcms-lab/wcms/wire"
)

// Config is how one agent runs. Zero durations take the defaults (docs/AGENT.md).
type Config struct {
	Server string // base URL of the WCMS server, e.g. http://10.0.0.5:5050
	// PIN is for the first enrolment only: it is never saved, and forgotten once the server has
	// given a token, which alone proves who this PC is from then on.
	PIN string
	// MachineID, when set, is used instead of the id made of the hardware facts (CheckMachineID),
	// so one host can run several agents; it is saved at enrolment.
	MachineID string
	DataDir   string // config, token, result spool and executed-command ledger
	Version   string // this build's version, compared with the server's newest
	// Executable is the file a self-update replaces; empty means this program.
	Executable string

	PollInterval   time.Duration // between light heartbeats (the contract's minimum: 2 s)
	FullInterval   time.Duration // between full heartbeats (5 min)
	UpdateInterval time.Duration // between self-update checks (1 h); negative: never
	UpdateConfirm  time.Duration // how long a new build has to reach the server before it is rolled back
	MaxBackoff     time.Duration // longest wait between retries while the server is away
	// ApprovalInterval is how often a new install asks again while an operator's approval of
	// its re-enrolment is pending (30 s).
	ApprovalInterval time.Duration
}

var machineIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withDefaults fills unset fields.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PollInterval, 2*time.Second)
	def(&c.FullInterval, 5*time.Minute)
	def(&c.UpdateInterval, time.Hour)
	def(&c.UpdateConfirm, 2*time.Minute)
	def(&c.MaxBackoff, 30*time.Second)
	def(&c.ApprovalInterval, 30*time.Second)
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}

// CheckServer validates a server base URL.
func CheckServer(server string) error {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("server %q: want a URL such as http://10.0.0.5:5050", server)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("server %q: no user, query or fragment, just scheme://host:port[/path]", server)
	}
	return nil
}

// CheckPIN validates a registration PIN.
func CheckPIN(pin string) error {
	if !wire.IsPIN(pin) {
		return errors.New("the PIN is the 6 digits shown on the dashboard (Registration PINs)")
	}
	return nil
}

// CheckMachineID validates a machine id given to override the computed one.
func CheckMachineID(id string) error {
	if !machineIDPattern.MatchString(id) {
		return fmt.Errorf("machine id %q: want 1 to 64 letters, digits, dots, underscores or dashes, e.g. lab1-pc03", id)
	}
	return nil
}

// state is what the agent keeps between runs, in DataDir/agent.json (mode 0600: it holds the
// agent token).
type state struct {
	Server string `json:"server"`
	// PIN is only ever read, from older agents' files: it is dropped at load when a token is held,
	// and at the next successful registration.
	PIN        string `json:"pin,omitempty"`
	MachineID  string `json:"machine_id,omitempty"`
	PCID       int64  `json:"pc_id,omitempty"`
	AgentToken string `json:"agent_token,omitempty"`
}

func statePath(dataDir string) string { return filepath.Join(dataDir, "agent.json") }

func loadState(dataDir string) (state, error) {
	var st state
	data, err := os.ReadFile(statePath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("config %s is damaged (%v): reinstall with a new PIN", statePath(dataDir), err)
	}
	return st, nil
}

func saveState(dataDir string, st state) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(statePath(dataDir), data, 0o600); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// merge applies the server and machine id given on the command line over the saved ones. Another
// server or machine id means another registration: the old token and PC id mean nothing there.
func (st state) merge(server, machineID string) state {
	server = strings.TrimRight(server, "/")
	if server != "" && server != st.Server {
		st = state{Server: server, PIN: st.PIN, MachineID: st.MachineID}
	}
	if machineID != "" && machineID != st.MachineID {
		st = state{Server: st.Server, PIN: st.PIN, MachineID: machineID}
	}
	return st
}

// enrolled tells whether the server has given this agent a PC id or a token (one still pending an
// operator's approval included).
func (st state) enrolled() bool { return st.PCID != 0 || st.AgentToken != "" }

// withMachineID fills in the machine id when none is saved. An agent enrolled before machine ids
// were saved keeps the id it enrolled under, the OS id's hash, so an upgrade never makes a new PC;
// a new one takes the id of all the hardware facts, which tells clones of one disk image apart.
func (st state) withMachineID(id collect.Identity) state {
	switch {
	case st.MachineID != "":
	case st.enrolled():
		st.MachineID = id.LegacyMachineID()
	default:
		st.MachineID = id.MachineID()
	}
	return st
}
