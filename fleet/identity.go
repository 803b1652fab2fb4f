package fleet

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// Identity: who an agent is (its machine id and token), enrolment and re-enrolment.

// Caller is what an agent's request tells of who sends it.
type Caller struct {
	MachineID string
	Token     string // the bearer token; "" when none was sent
	Instance  string // our agent's instance_id; "" from the published clients
	Addr      string // the request's source address
}

// Identify finds the PC of c.MachineID and checks c's agent token. No token is accepted only
// with legacy (tokenless) clients on, and only for a PC whose agent has never used its token:
// the published clients. The first call with the right token marks the PC as using it.
func (f *Fleet) Identify(ctx context.Context, c Caller, legacy bool) (int64, error) {
	f.mu.RLock()
	p := f.byMachine[c.MachineID]
	f.mu.RUnlock()
	if p == nil || (c.Token != "" && !f.holds(p, c.Token)) {
		if f.refresh(ctx, c.MachineID) == nil {
			f.mu.RLock()
			p = f.byMachine[c.MachineID]
			f.mu.RUnlock()
		}
	}
	switch {
	case p == nil:
		return 0, ErrUnknownPC
	case c.Token != "" && !f.holds(p, c.Token):
		return 0, ErrBadToken
	case c.Token == "" && (!legacy || !f.holds(p, "")):
		return 0, ErrTokenRequired
	case c.Token != "":
		if err := f.markTokenUsed(ctx, p); err != nil {
			return 0, err
		}
	}
	f.watch(p, c)
	return p.id, nil
}

// markTokenUsed records, once, that p's agent calls with its token.
func (f *Fleet) markTokenUsed(ctx context.Context, p *pc) error {
	f.mu.RLock()
	used := p.tokenUsed
	f.mu.RUnlock()
	if used {
		return nil
	}
	if err := f.store.MarkTokenUsed(ctx, p.id); err != nil {
		return err
	}
	f.mu.Lock()
	p.tokenUsed = true
	f.mu.Unlock()
	return nil
}

// holds tells whether token (or no token) still stands for p. A long-poll identified before an
// approved re-enrolment replaced the PC's token must not take its commands.
func (f *Fleet) holds(p *pc, token string) bool {
	f.mu.RLock()
	want, used := p.tokenHash, p.tokenUsed
	f.mu.RUnlock()
	if token == "" {
		return !used
	}
	return subtle.ConstantTimeCompare([]byte(tokens.Hash(token)), []byte(want)) == 1
}

// PCOfToken returns the PC whose agent token this is; results use it to bind a result to its PC.
func (f *Fleet) PCOfToken(token string) (int64, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p := f.byToken[tokens.Hash(token)]; p != nil {
		return p.id, true
	}
	return 0, false
}

// Enrolment is a registration as an agent sends it.
type Enrolment struct {
	Caller  Caller
	PINHash string // "" when no PIN was sent
	PC      *models.PC
	Disks   []models.Disk
	Legacy  bool // legacy clients on: a PIN still re-keys a PC whose agent never used its token
}

// ReenrolPending is the answer to an install that asks to take over an enrolled PC: an operator
// must approve. Token, when set, is the token the install gets if approved (made just now).
type ReenrolPending struct{ Token string }

func (e *ReenrolPending) Error() string {
	return "this PC is enrolled with another install's token: an operator must approve the re-enrolment"
}

// Register enrols a PC and returns its new agent token. A caller that proves the PC's current
// token re-keys it without a PIN; a PIN enrols a new PC, and for a known one files a request for
// an operator (*ReenrolPending), except a legacy re-registration (Enrolment.Legacy).
func (f *Fleet) Register(ctx context.Context, e Enrolment) (string, error) {
	token := tokens.New()
	m := e.PC
	m.AgentTokenHash = tokens.Hash(token)
	now := f.now()
	if e.Caller.Token != "" {
		f.mu.RLock()
		p := f.byToken[tokens.Hash(e.Caller.Token)]
		f.mu.RUnlock()
		if p != nil && p.machineID == m.MachineID {
			m.ID = p.id
			if err := f.store.Rekey(ctx, m, e.Disks, now); err != nil {
				return "", err
			}
			f.enrolled(p, m, e.Caller)
			return token, nil
		}
		if err := f.askedBefore(ctx, e.Caller, m.MachineID); err != nil || e.PINHash == "" {
			return "", cmp.Or(err, ErrBadToken)
		}
	}
	out, err := f.store.Register(ctx, models.Enrol{PINHash: e.PINHash, PC: m, Disks: e.Disks, From: e.Caller.Addr,
		PINRekeysTokenless: e.Legacy}, now)
	if err != nil {
		return "", err
	}
	if out == models.ApprovalNeeded {
		f.log.Warn("re-enrolment waits for an operator: a new install asks for an enrolled PC's identity",
			"pc_id", m.ID, "machine_id", m.MachineID, "hostname", m.Hostname, "addr", e.Caller.Addr)
		return "", &ReenrolPending{Token: token}
	}
	f.mu.RLock()
	p := f.byID[m.ID]
	f.mu.RUnlock()
	f.enrolled(p, m, e.Caller)
	return token, nil
}

// askedBefore answers an install that registers with the token of its own re-enrolment request:
// still waiting, or refused. nil: the token is not one.
func (f *Fleet) askedBefore(ctx context.Context, c Caller, machineID string) error {
	r, err := f.store.ReenrolmentByToken(ctx, tokens.Hash(c.Token))
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p := f.get(r.PCID); p == nil || p.machineID != machineID {
		return nil
	}
	if r.RefusedAt != nil {
		return ErrReenrolRefused
	}
	return &ReenrolPending{}
}

// enrolled puts a registered PC's new token and facts in memory (p nil: a new PC) and tells the
// dashboards.
func (f *Fleet) enrolled(p *pc, m *models.PC, c Caller) {
	kind, created := events.PCUpdated, p == nil
	if created {
		p = f.newPC(&models.PCRow{PC: *m}, f.now())
		kind = events.PCAdded
	}
	p.mu.Lock()
	p.mac, p.verified, p.agent = m.MACAddress, m.IsVerified, m.AgentVersion
	p.gen++
	p.mu.Unlock()
	f.setIdentity(p, m.AgentTokenHash, m.TokenUsed, m.Hostname, m.IPAddress, kind)
	f.watch(p, c)
	f.log.Info("PC registered", "pc_id", m.ID, "machine_id", m.MachineID, "new", created)
}

// setIdentity puts a PC's token, name and address (ip "": unchanged) in memory and tells the
// dashboards.
func (f *Fleet) setIdentity(p *pc, tokenHash string, used bool, hostname, ip string, kind events.Kind) {
	f.setToken(p, tokenHash, used)
	p.mu.Lock()
	p.hostname = hostname
	if ip != "" {
		p.ip = ip
	}
	p.gen++
	p.wake() // long-polls held with the old token look again, and take nothing
	v := p.view()
	p.mu.Unlock()
	f.publish(kind, v)
}

// setToken puts a PC's token hash in memory and in the index by token.
func (f *Fleet) setToken(p *pc, tokenHash string, used bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byToken, p.tokenHash)
	p.tokenHash, p.tokenUsed = tokenHash, used
	if tokenHash != "" {
		f.byToken[tokenHash] = p
	}
}

// ApproveReenrolment lets the install that asked take over the PC: its token replaces the PC's,
// so the old install is refused from now on. by is the operator deciding.
func (f *Fleet) ApproveReenrolment(ctx context.Context, id int64, by string) error {
	r, err := f.store.ApproveReenrolment(ctx, id, by, f.now())
	if err != nil {
		return err
	}
	p := f.get(r.PCID)
	if p == nil {
		return nil
	}
	f.setIdentity(p, r.TokenHash, true, r.Hostname, r.IPAddress, events.PCUpdated)
	return nil
}
