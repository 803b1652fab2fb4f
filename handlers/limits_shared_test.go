package handlers_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"
)

// instances starts n servers on one fresh database, as several instances behind a reverse proxy
// share one PostgreSQL database (issue 14).
func instances(t *testing.T, n int, opts ...serverOption) []*testServer {
	t.Helper()
	dsn := testdb.DSN(t)
	var servers []*testServer
	for range n {
		servers = append(servers, newTestServerOn(t, dsn, testPassword, opts...))
	}
	return servers
}

// registerPIN registers machine with pin at ts.
func registerPIN(ts *testServer, machine, pin string) response {
	return ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": machine, "pin": pin,
		"hostname": "h", "mac_address": "00:00:5E:00:53:01"})
}

// loginAnswer is a login's answer in short: "302 /login" (wrong), "302 /" (in) or "429".
func loginAnswer(t *testing.T, ts *testServer, user, password string, header ...string) string {
	t.Helper()
	res := loginRaw(t, ts, user, password, header...)
	if res.StatusCode == http.StatusFound {
		return "302 " + res.Header.Get("Location")
	}
	return strconv.Itoa(res.StatusCode)
}

// Attempts taken in turn by two instances on one database meet the limits after the same number
// of attempts as at one server: the instances count the same failures.
func TestLimitsSharedByInstances(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("instances share a PostgreSQL database: set WCMS_TEST_POSTGRES")
	}
	const wrong, in, held = "302 /login", "302 /", "429"
	spray := func(i int) []string { return from("198.51.100." + strconv.Itoa(i)) }
	tests := []struct {
		name string
		opts []serverOption
		// run makes its attempts at servers[i%len(servers)] in turn.
		run  func(t *testing.T, servers []*testServer) []string
		want []string
	}{
		{
			name: "wrong PINs", // 10 per address
			run: func(t *testing.T, servers []*testServer) []string {
				pin := servers[0].pin(servers[0].admin(), "multi")
				wrongPIN := unusedPIN(t, servers[0], pin)
				var got []string
				for i := range 12 {
					got = append(got, strconv.Itoa(registerPIN(servers[i%len(servers)], "GUESS", wrongPIN).Status))
				}
				return append(got, strconv.Itoa(registerPIN(servers[len(servers)-1], "REAL", pin).Status))
			},
			want: []string{"403", "403", "403", "403", "403", "403", "403", "403", "403", "403", held, held, held},
		},
		{
			name: "wrong passwords from one address",
			opts: []serverOption{func(c *handlers.Config, _ *fleet.Config) { c.LoginFailures = 3 }},
			run: func(t *testing.T, servers []*testServer) []string {
				var got []string
				for i := range 4 {
					got = append(got, loginAnswer(t, servers[i%len(servers)], "admin", "guess "+strconv.Itoa(i)))
				}
				return append(got, loginAnswer(t, servers[len(servers)-1], "admin", testPassword))
			},
			want: []string{wrong, wrong, wrong, held, held},
		},
		{
			// Twice LoginFailures (4) failures make the account take one guess per address.
			name: "wrong passwords for one account from many addresses",
			opts: []serverOption{func(c *handlers.Config, _ *fleet.Config) { c.TrustProxy, c.LoginFailures = true, 2 }},
			run: func(t *testing.T, servers []*testServer) []string {
				var got []string
				at := func(i int, password string, addr []string) {
					got = append(got, loginAnswer(t, servers[i%len(servers)], "admin", password, addr...))
				}
				for i := range 4 {
					at(i, "guess", spray(i))
				}
				at(4, "second guess", spray(0))
				at(5, "guess", spray(5))
				at(6, "second guess", spray(5))
				at(7, testPassword, spray(6))
				return got
			},
			want: []string{wrong, wrong, wrong, wrong, held, wrong, held, in},
		},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s at %d", tt.name, n), func(t *testing.T) {
				if got := tt.run(t, instances(t, n, tt.opts...)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("answers %v, want %v", got, tt.want)
				}
			})
		}
	}
}

// Attempts in flight at once at two instances cannot pass the limit together, and right PINs
// that arrive together from one address (a room behind one router) are all taken.
func TestPINLimitCannotBeRacedAcrossInstances(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("instances share a PostgreSQL database: set WCMS_TEST_POSTGRES")
	}
	servers := instances(t, 2) // 10 wrong PINs per address
	pin := servers[0].pin(servers[0].admin(), "multi")
	wrongPIN := unusedPIN(t, servers[0], pin)
	answers := func(n int, machine func(i int) string, pin string) map[int]int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		count := map[int]int{}
		for i := range n {
			wg.Go(func() {
				status := registerPIN(servers[i%2], machine(i), pin).Status
				mu.Lock()
				count[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return count
	}

	room := answers(10, func(i int) string { return fmt.Sprint("ROOM-", i) }, pin)
	if room[200] != 10 {
		t.Fatalf("10 right PINs at once from one address: %v, want all 200", room)
	}
	guesses := answers(40, func(int) string { return "GUESS" }, wrongPIN)
	t.Logf("40 wrong PINs at once from one address at two instances: %v", guesses)
	if guesses[403] != 10 || guesses[429] != 30 {
		t.Fatalf("40 wrong PINs at once: %v, want 10 checked (403) and 30 refused (429)", guesses)
	}
}
