package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/internal/testdb"
)

// roundRobin is the reverse proxy of a deployment of several instances (docs/SCALING.md), in
// small: each request goes to the next instance; one that refuses the connection is skipped,
// as nginx's proxy_next_upstream does (nothing was sent, so even a POST may go elsewhere).
// Answers are flushed as they come, so event streams and long-polls pass.
type roundRobin struct {
	backends []*url.URL
	next     atomic.Uint64
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	var last error
	for range rr.backends {
		to := rr.backends[rr.next.Add(1)%uint64(len(rr.backends))]
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = to.Scheme, to.Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		res, err := http.DefaultTransport.RoundTrip(out)
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			last = err
			continue
		}
		return res, err
	}
	return nil, last
}

func startProxy(t *testing.T, servers ...*server) string {
	rr := &roundRobin{}
	for _, s := range servers {
		u, _ := url.Parse(s.URL)
		rr.backends = append(rr.backends, u)
	}
	p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetXForwarded() }, Transport: rr, FlushInterval: -1}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// cluster is two server instances on one PostgreSQL database, sharing a data folder (the PIN
// key), behind a round-robin proxy.
func startCluster(t *testing.T) (a, b *server, proxy, dsn string) {
	if testing.Short() {
		t.Skip("runs two servers and agents")
	}
	if !testdb.Postgres() {
		t.Skip("several instances share a PostgreSQL database: WCMS_TEST_POSTGRES is not set")
	}
	dsn, data := testdb.DSN(t), t.TempDir()
	// A's first admin exists before B starts, as in a deployment: one instance is set up first.
	a = startServerIn(t, t.TempDir(), "-db", dsn, "-data-dir", data, "-trust-proxy")
	b = startServerIn(t, t.TempDir(), "-db", dsn, "-data-dir", data, "-trust-proxy")
	return a, b, startProxy(t, a, b), dsn
}

// probe is a PC the test plays itself, to choose which instance each call goes to.
type probe struct {
	t     *testing.T
	id    string
	pcID  float64
	token string
}

func newProbe(t *testing.T, at *server, machineID string) *probe {
	var reg struct {
		PCID  float64 `json:"pc_id"`
		Token string  `json:"agent_token"`
	}
	if err := send(http.DefaultClient, "POST", at.URL+"/api/client/register", "", "", map[string]any{"machine_id": machineID,
		"pin": at.pin(), "hostname": machineID, "mac_address": "AA:BB:CC:00:00:09"}, &reg); err != nil {
		t.Fatal(err)
	}
	return &probe{t: t, id: machineID, pcID: reg.PCID, token: reg.Token}
}

// poll polls at an instance with a heartbeat of cpu, waiting up to wait seconds for a command.
func (p *probe) poll(at *server, cpu float64, wait int) map[string]any {
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := send(http.DefaultClient, "POST", at.URL+"/api/client/commands", p.token, "", map[string]any{"machine_id": p.id,
		"heartbeat": map[string]any{"cpu_usage": cpu, "ram_usage_percent": 30.0}, "wait": wait}, &out); err != nil {
		p.t.Fatal(err)
	}
	return out.Data
}

// stream opens a live stream as s's signed-in browser and sends on the channel each event's
// data.
func (s *server) stream(ctx context.Context, base, path string) (<-chan string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: %d", path, res.StatusCode)
	}
	out := make(chan string, 1000)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				select {
				case out <- line:
				default:
				}
			}
		}
	}()
	return out, nil
}

// until reads events until one contains want, for up to within.
func until(events <-chan string, want string, within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return false
			}
			if strings.Contains(e, want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestTwoInstancesBehindAProxy: a heartbeat at A reaches a browser's stream at B; a command
// queued at B reaches a long-poll held at A; a result at A shows at B. Then real agents work
// through the proxy, A is killed, and they carry on through B: every command acknowledged is
// run once, no PC goes offline, and a browser's stream reconnects.
func TestTwoInstancesBehindAProxy(t *testing.T) {
	a, b, proxy, dsn := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	p := newProbe(t, a, "PROBE-1")
	p.poll(a, 10, 0)
	var atB <-chan string
	waitFor(t, "B to know the PC registered at A", 5*time.Second, func() bool {
		var err error
		atB, err = b.stream(ctx, b.URL, fmt.Sprintf("/stream?pc=%d", int64(p.pcID)))
		return err == nil
	})
	p.poll(a, 87, 0)
	if !until(atB, `tile-cpu">87%`, 5*time.Second) {
		t.Fatal("a heartbeat at A did not reach the browser's stream at B")
	}

	got := make(chan map[string]any, 1)
	go func() { got <- p.poll(a, 20, 20) }()
	time.Sleep(300 * time.Millisecond) // held at A
	queued := time.Now()
	id := b.command(p.pcID, "message", map[string]any{"message": "hello"})
	var answer map[string]any
	select {
	case answer = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("a command queued at B did not reach the long-poll held at A")
	}
	t.Logf("queued at B → answered at A: %v", time.Since(queued))
	if cmd, _ := answer["command"].(map[string]any); cmd == nil || cmd["id"] != float64(id) {
		t.Fatalf("the long-poll at A answered %v, want command %d", answer, id)
	}
	if err := send(http.DefaultClient, "POST", fmt.Sprintf("%s/api/client/commands/%d/result", a.URL, id), p.token, "",
		map[string]any{"status": "success", "output": "seen"}, nil); err != nil {
		t.Fatal(err)
	}
	if c := b.commandState(id); c["status"] != "completed" || c["output"] != "seen" {
		t.Fatalf("the result at A, read at B: %v", c)
	}
	if !until(atB, fmt.Sprintf(`cmd-%d`, id), 5*time.Second) {
		t.Error("the result at A did not reach the browser's stream at B")
	}

	// Real agents, through the proxy.
	agentBin := build(t, "./cmd/wcms-agent", "wcms-agent", "linux", "0.9.0")
	dir := t.TempDir()
	pin := b.newPIN("multi", 600)
	const agents = 3
	for i := range agents {
		data := filepath.Join(dir, fmt.Sprintf("agent-%d", i))
		start(t, filepath.Join(dir, fmt.Sprintf("agent-%d.log", i)), nil,
			agentBin, "run", "-server", proxy, "-pin", pin, "-data", data, "-machine-id", fmt.Sprintf("E2E-CLUSTER-%d", i))
	}
	var ids []float64
	waitFor(t, "the agents online", 30*time.Second, func() bool {
		ids = ids[:0]
		for _, pc := range b.pcs() {
			if pc["is_online"] == true && strings.HasPrefix(pc["machine_id"].(string), "E2E-CLUSTER-") {
				ids = append(ids, pc["id"].(float64))
			}
		}
		return len(ids) == agents
	})
	runs := func(round int) []int64 {
		var cmds []int64
		for i, id := range ids {
			cmds = append(cmds, b.command(id, "execute", map[string]any{"command": fmt.Sprintf("echo %d >> %s", round,
				filepath.Join(dir, fmt.Sprintf("ran-%d", i)))}))
		}
		return cmds
	}
	for _, c := range runs(1) {
		if got := b.waitCommand(c, 30*time.Second); got["status"] != "completed" {
			t.Fatalf("before the kill: %v", got)
		}
	}

	// A browser on the proxy; then A dies, with commands queued and acknowledged just before.
	// The browser's stream is held by A (round robin: the next open goes to the other).
	watched := fmt.Sprintf("/stream?pc=%d", int64(ids[0]))
	var browser <-chan string
	for try := 0; browser == nil; try++ {
		sctx, stop := context.WithCancel(ctx)
		events, err := b.stream(sctx, proxy, watched)
		if err != nil {
			t.Fatal(err)
		}
		if a.api("GET", "/api/admin/status", nil)["event_subscribers"] == 1.0 {
			browser = events
			defer stop()
		} else if stop(); try > 4 {
			t.Fatal("no stream through the proxy reached A")
		}
	}
	pending := runs(2)
	a.proc.signal(syscall.SIGKILL)
	<-a.proc.done
	killed := time.Now()
	pending = append(pending, runs(3)...)
	for _, c := range pending {
		if got := b.waitCommand(c, 45*time.Second); got["status"] != "completed" {
			t.Fatalf("a command acknowledged around the kill: %v", got)
		}
	}
	t.Logf("every command acknowledged around the kill completed %v after it", time.Since(killed))
	for i := range ids {
		data, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("ran-%d", i)))
		if string(data) != "1\n2\n3\n" && string(data) != "1\n3\n2\n" {
			t.Errorf("agent %d ran %q, want each round once", i, data)
		}
	}
	// Through B the agents stay online past -offline-after (10 s) from the kill.
	time.Sleep(time.Until(killed.Add(12 * time.Second)))
	for _, pc := range b.pcs() {
		if pc["id"] != p.pcID && pc["is_online"] != true {
			t.Errorf("PC %v offline after A was killed", pc["hostname"])
		}
	}
	if n := outagesOf(t, dsn, "E2E-CLUSTER-"); n != 0 {
		t.Errorf("%d outages recorded for agents that never stopped", n)
	}
	// The browser's stream ended with A; it opens again through the proxy, at B.
	for range browser {
	}
	again, err := b.stream(ctx, proxy, watched)
	if err != nil {
		t.Fatalf("the browser's stream reconnecting through the proxy: %v", err)
	}
	if !until(again, "tile-cpu", 10*time.Second) {
		t.Error("no tile on the reconnected stream")
	}
	// B's status page: B leads, A stopped answering.
	waitFor(t, "B's status page: B leads, A not answering", 20*time.Second, func() bool {
		rows := b.instances()
		return len(rows) == 2 && strings.Contains(rows[0], `data-leader="true"`) && strings.Contains(rows[1], `data-silent="true"`)
	})
}

// instances are the status page's rows of server instances, this one first.
func (s *server) instances() []string {
	req, _ := http.NewRequest("GET", s.URL+"/status", nil)
	req.Header.Set("HX-Request", "true")
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	rows := strings.Split(string(page), `data-testid="instance" `)
	return rows[1:]
}

// outagesOf counts the outages stored for PCs whose machine id starts with prefix.
func outagesOf(t *testing.T, dsn, prefix string) int {
	db, err := sql.Open(testdb.Driver(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(testdb.Bind("SELECT COUNT(*) FROM pc_outages o JOIN pcs p ON p.id = o.pc_id WHERE p.machine_id LIKE ?"), prefix+"%").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pgRestart restarts PostgreSQL with WCMS_TEST_PG_RESTART (e.g. "pg_ctlcluster 15 main
// restart"; the Makefile runs this test alone, after the others).
func pgRestart(t *testing.T) {
	cmd := os.Getenv("WCMS_TEST_PG_RESTART")
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// TestInstancesSurvivePostgresRestart: PostgreSQL restarts under two instances and their
// agents. The instances reconnect, their listeners resync, and the cluster works as before: a
// heartbeat at A reaches B, a command queued at B wakes a long-poll at A, agents' commands run,
// and exactly one instance leads.
func TestInstancesSurvivePostgresRestart(t *testing.T) {
	if os.Getenv("WCMS_TEST_PG_RESTART") == "" {
		t.Skip("WCMS_TEST_PG_RESTART is not set: restarting PostgreSQL cuts every other test's connections")
	}
	a, b, proxy, _ := startCluster(t)
	p := newProbe(t, a, "PROBE-2")
	agentBin := build(t, "./cmd/wcms-agent", "wcms-agent", "linux", "0.9.0")
	dir := t.TempDir()
	pin := a.newPIN("multi", 600)
	for i := range 2 {
		start(t, filepath.Join(dir, fmt.Sprintf("agent-%d.log", i)), nil, agentBin, "run", "-server", proxy, "-pin", pin,
			"-data", filepath.Join(dir, fmt.Sprintf("agent-%d", i)), "-machine-id", fmt.Sprintf("E2E-RESTART-%d", i))
	}
	var agents []float64
	waitFor(t, "the agents online", 30*time.Second, func() bool {
		agents = agents[:0]
		for _, pc := range b.pcs() {
			if pc["is_online"] == true && strings.HasPrefix(pc["machine_id"].(string), "E2E-RESTART-") {
				agents = append(agents, pc["id"].(float64))
			}
		}
		return len(agents) == 2
	})

	const resynced = "fleet resynchronised from the database"
	before := []int{strings.Count(a.proc.output(), resynced), strings.Count(b.proc.output(), resynced)}
	restarting := time.Now()
	pgRestart(t)
	t.Logf("PostgreSQL restarted in %v", time.Since(restarting))
	for i, s := range []*server{a, b} {
		waitFor(t, "both listeners back and resynchronised", 30*time.Second, func() bool {
			return strings.Count(s.proc.output(), resynced) > before[i]
		})
	}
	t.Logf("both listeners resynchronised %v after the restart began", time.Since(restarting))

	// The probe polls A at its 2 s pace (a store connection the restart broke may fail a poll
	// once); B must show its figure.
	seen := false
	for try := 0; try < 10 && !seen; try++ {
		time.Sleep(2100 * time.Millisecond)
		var out struct{}
		if err := send(http.DefaultClient, "POST", a.URL+"/api/client/commands", p.token, "", map[string]any{"machine_id": p.id,
			"heartbeat": map[string]any{"cpu_usage": 66.0 + float64(try), "ram_usage_percent": 30.0}}, &out); err != nil {
			t.Logf("a poll at A after the restart: %v", err)
			continue
		}
		waitFor(t, "B's view of the probe", 5*time.Second, func() bool {
			for _, pc := range b.pcs() {
				if pc["id"] == p.pcID && pc["cpu_usage"] == 66.0+float64(try) {
					seen = true
				}
			}
			return seen
		})
	}
	if !seen {
		t.Fatal("after the restart, no heartbeat at A reached B")
	}
	time.Sleep(2100 * time.Millisecond) // the probe's pace
	got := make(chan map[string]any, 1)
	go func() { got <- p.poll(a, 20, 20) }()
	time.Sleep(300 * time.Millisecond)
	id := b.command(p.pcID, "message", map[string]any{"message": "after the restart"})
	select {
	case answer := <-got:
		if cmd, _ := answer["command"].(map[string]any); cmd == nil || cmd["id"] != float64(id) {
			t.Fatalf("the long-poll at A answered %v, want command %d", answer, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("after the restart, a command queued at B did not wake the long-poll at A")
	}
	for _, pc := range agents {
		c := b.waitCommand(b.command(pc, "execute", map[string]any{"command": "echo ok"}), 30*time.Second)
		if c["status"] != "completed" {
			t.Errorf("an agent's command after the restart: %v", c)
		}
	}
	waitFor(t, "two instances running, one leading", 20*time.Second, func() bool {
		rows := a.instances()
		leaders := 0
		for _, r := range rows {
			leaders += strings.Count(r[:strings.Index(r, ">")], `data-leader="true"`)
		}
		return len(rows) == 2 && !strings.Contains(strings.Join(rows, ""), `data-silent="true"`) && leaders == 1
	})
}
