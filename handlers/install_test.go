package handlers_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"

	"github.com/wcms-lab/wcms/fleet"
)

var installScriptNames = []string{"install.sh", "install.ps1", "install.cmd"}

// oneLiners are the lines each script's usage comment must show, for the server at base.
func oneLiners(base string) map[string]string {
	return map[string]string{
		"install.sh": "curl -fsSL " + base + "/install/install.sh | sudo sh -s -- 123456",
		"install.ps1": `powershell -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((iwr -UseBasicParsing ` + base +
			`/install/install.ps1).Content)) -Pin 123456"`,
		"install.cmd": `curl.exe -fsSLo "%TEMP%\wcms-install.cmd" ` + base + `/install/install.cmd && "%TEMP%\wcms-install.cmd" 123456`,
	}
}

// serverLine is where each script takes the server's address.
func serverLine(name, base string) string {
	switch name {
	case "install.ps1":
		return "$Server = '" + base + "'"
	case "install.cmd":
		return `set "SERVER=` + base + `"`
	}
	return "SERVER='" + base + "'"
}

func TestInstallScripts(t *testing.T) {
	ts := newTestServer(t)
	public := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.PublicURL = "https://wcms.lab.example:8443/" })
	for _, srv := range []struct {
		name string
		ts   *testServer
		base string
	}{{"from the request", ts, ts.URL}, {"from the public URL", public, "https://wcms.lab.example:8443"}} {
		for _, name := range installScriptNames {
			t.Run(srv.name+"/"+name, func(t *testing.T) {
				res := srv.ts.do(nil, "GET", "/install/"+name, nil).must(t, 200)
				if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
				body := res.Raw
				for _, want := range []string{serverLine(name, srv.base), oneLiners(srv.base)[name]} {
					if !strings.Contains(body, want) {
						t.Errorf("script lacks %q", want)
					}
				}
				if strings.Contains(body, "{{") {
					t.Error("a template action was left in the script")
				}
				for i, r := range body {
					if r > 0x7e || r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
						t.Fatalf("byte %d is %q: keep scripts ASCII, Windows PowerShell 5.1 misreads the rest", i, r)
					}
				}
				crlf := strings.Count(body, "\r\n")
				lf := strings.Count(body, "\n")
				if name == "install.cmd" && (crlf != lf || lf < 20) {
					t.Errorf("install.cmd: %d of %d line ends are CRLF", crlf, lf)
				}
				if name != "install.cmd" && strings.Contains(body, "\r") {
					t.Errorf("%s has CR characters", name)
				}
			})
		}
	}
	t.Run("sh -n", func(t *testing.T) {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh on this machine")
		}
		script := filepath.Join(t.TempDir(), "install.sh")
		if err := os.WriteFile(script, []byte(ts.do(nil, "GET", "/install/install.sh", nil).must(t, 200).Raw), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
			t.Fatalf("sh -n: %v\n%s", err, out)
		}
	})
	t.Run("unknown script", func(t *testing.T) {
		checkEnvelope(t, ts.do(nil, "GET", "/install/install.bat", nil), 404, "NOT_FOUND")
	})
}

// A hostile Host header never reaches a script: Go's server refuses what no host can contain,
// and baseURL replaces the rest.
func TestInstallScriptHostileHost(t *testing.T) {
	ts := newTestServer(t)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{`evil"; rm -rf /;"`, `evil';reboot;'`, `evil$(reboot)`, "evil`reboot`", `evil&reboot&`} {
		for _, name := range installScriptNames {
			t.Run(name+" "+host, func(t *testing.T) {
				conn, err := net.Dial("tcp", u.Host)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := io.WriteString(conn, "GET /install/"+name+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				res, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				switch {
				case res.StatusCode == 400 && !strings.Contains(string(body), "SERVER"): // refused by net/http
				case res.StatusCode == 200 && strings.Contains(string(body), serverLine(name, "http://localhost")):
				default:
					t.Fatalf("%d:\n%s", res.StatusCode, body)
				}
				if strings.Contains(string(body), "evil") || strings.Contains(string(body), "reboot") {
					t.Fatalf("the Host header reached the script:\n%s", body)
				}
			})
		}
	}
}

func TestCheckPublicURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"", true}, {"http://wcms.lab:5050", true}, {"https://wcms.lab.example/", true}, {"https://10.0.0.5:8443/wcms", true},
		{"http://[fd00::5]:5050", true},
		{"ftp://wcms.lab", false}, {"wcms.lab:5050", false}, {"http://", false}, {"http://wcms.lab/'$(reboot)'", false},
		{`http://wcms.lab/"`, false}, {"http://user@wcms.lab", false}, {"http://wcms.lab/a b", false}, {"http://wcms.lab/%41", false},
		{"http://wcms.lab/&calc", false},
	} {
		t.Run(c.url, func(t *testing.T) {
			if err := handlers.CheckPublicURL(c.url); (err == nil) != c.ok {
				t.Fatalf("CheckPublicURL(%q) = %v", c.url, err)
			}
		})
	}
}
