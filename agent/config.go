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
)

// Config is how one agent runs. Zero durations take the defaults of CONTRACT.md.
type Config struct {
	Server  string // base URL of the WCMS server, e.g. http://10.0.0.5:5050
	PIN     string // registration PIN; kept to re-register when the server forgets this PC
	DataDir string // config, token, result spool and executed-command ledger
	Version string // this build's version, compared with the server's newest
	// Executable is the file a self-update replaces; empty means this program.
	Executable string

	PollInterval   time.Duration // between light heartbeats (the contract's minimum: 2 s)
	FullInterval   time.Duration // between full heartbeats (5 min)
	UpdateInterval time.Duration // between self-update checks (1 h); negative: never
	UpdateConfirm  time.Duration // how long a new build has to reach the server before it is rolled back
	MaxBackoff     time.Duration // longest wait between retries while the server is away
}

var pinPattern = regexp.MustCompile(`^[0-9]{6}$`)

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
	if !pinPattern.MatchString(pin) {
		return errors.New("the PIN is the 6 digits shown on the dashboard (Registration PINs)")
	}
	return nil
}

// state is what the agent keeps between runs, in DataDir/agent.json (mode 0600: it holds the
// agent token and the PIN).
type state struct {
	Server     string `json:"server"`
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

// merge applies the server and PIN given on the command line over the saved ones. Another server
// means another registration: the old token and PC id mean nothing there.
func (st state) merge(server, pin string) state {
	server = strings.TrimRight(server, "/")
	if server != "" && server != st.Server {
		st = state{Server: server, PIN: st.PIN}
	}
	if pin != "" {
		st.PIN = pin
	}
	return st
}
