package handlers_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"
)

func TestClientVersion(t *testing.T) {
	ts := newTestServer(t)
	linux := "os=linux&arch=" + runtime.GOARCH
	legacy := func(t *testing.T, res response) {
		t.Helper()
		res.must(t, 200)
		if res.get("status") != "success" || res.get("version") != "test" || res.get("changelog") != "WCMS agent test" ||
			res.get("download_url") != ts.URL+"/download/wcms-agent.exe" || strings.Contains(res.Raw, "sha256") {
			t.Fatalf("not the answer of a server without builds: %s", res.Raw)
		}
	}
	legacy(t, ts.do(nil, "GET", "/api/client/version", nil))
	legacy(t, ts.do(nil, "GET", "/api/client/version?"+linux, nil))

	a := ts.admin()
	// 1.10.0 goes up first: the newest by version, not the newest uploaded, must win.
	ten := ts.upload(a, readFile(t, standin(t, "linux", "1.10.0")), "Ten.", false).must(t, 200)
	ts.uploadFile(a, standin(t, "linux", "1.9.0"))
	win := ts.uploadFile(a, standin(t, "windows", "1.2.3"))

	for _, c := range []struct {
		name, query            string
		version, url, checksum string
		changelog              string
	}{
		{"linux by semantic version", "?" + linux, "1.10.0",
			ts.URL + "/download/builds/" + itoa(ten.num("build.id")) + "/wcms-agent", ten.get("build.sha256").(string), "Ten."},
		{"windows/amd64 by default", "", "1.2.3", ts.URL + "/download/builds/" + itoa(win) + "/wcms-agent.exe",
			sha256Hex(readFile(t, standin(t, "windows", "1.2.3"))), "WCMS agent 1.2.3"},
		{"windows/amd64 asked for", "?os=windows&arch=amd64", "1.2.3", ts.URL + "/download/builds/" + itoa(win) + "/wcms-agent.exe",
			sha256Hex(readFile(t, standin(t, "windows", "1.2.3"))), "WCMS agent 1.2.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := ts.do(nil, "GET", "/api/client/version"+c.query, nil).must(t, 200)
			if res.get("status") != "success" || res.get("version") != c.version || res.get("download_url") != c.url ||
				res.get("sha256") != c.checksum || res.get("changelog") != c.changelog {
				t.Fatalf("got %s, want %s at %s (%s)", res.Raw, c.version, c.url, c.checksum)
			}
		})
	}
	t.Run("a platform without builds", func(t *testing.T) {
		legacy(t, ts.do(nil, "GET", "/api/client/version?os=windows&arch=386", nil))
	})
	t.Run("unknown platforms", func(t *testing.T) {
		checkEnvelope(t, ts.do(nil, "GET", "/api/client/version?os=darwin&arch=amd64", nil), 400, "INVALID_FIELD", "os", "darwin")
		checkEnvelope(t, ts.do(nil, "GET", "/api/client/version?os=linux&arch=sparc", nil), 400, "INVALID_FIELD", "arch", "sparc")
	})
}

func TestDownloads(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	files := map[string][]byte{}
	ids := map[string]int64{}
	for _, b := range []struct{ goos, version string }{{"linux", "1.10.0"}, {"linux", "1.9.0"}, {"windows", "1.2.3"}} {
		path := standin(t, b.goos, b.version)
		files[b.version], ids[b.version] = readFile(t, path), ts.uploadFile(a, path)
	}
	linuxName := "wcms-agent-linux-" + runtime.GOARCH

	for _, c := range []struct {
		path, version, filename string
		newest                  bool // a "newest" alias: never cached
	}{
		{"/download/builds/" + itoa(ids["1.9.0"]) + "/wcms-agent", "1.9.0", "wcms-agent", false},
		{"/download/builds/" + itoa(ids["1.2.3"]) + "/wcms-agent.exe", "1.2.3", "wcms-agent.exe", false},
		{"/download/wcms-agent.exe", "1.2.3", "wcms-agent.exe", true},
		{"/download/wcms-agent-windows-amd64", "1.2.3", "wcms-agent.exe", true},
		{"/download/wcms-agent-windows-amd64.exe", "1.2.3", "wcms-agent.exe", true},
		{"/download/" + linuxName, "1.10.0", "wcms-agent", true},
	} {
		t.Run(c.path, func(t *testing.T) {
			res := ts.do(nil, "GET", c.path, nil).must(t, 200)
			want := files[c.version]
			if res.Raw != string(want) {
				t.Fatalf("got %d bytes, not the %s build", len(res.Raw), c.version)
			}
			h := res.Header
			sum := sha256Hex([]byte(res.Raw))
			for name, value := range map[string]string{
				"X-Checksum-SHA256": sum, "X-Agent-Version": c.version, "Content-Type": "application/octet-stream",
				"Content-Length": strconv.Itoa(len(want)), "Content-Disposition": "attachment; filename=" + c.filename,
			} {
				if got := h.Get(name); got != value {
					t.Errorf("%s: %q, want %q", name, got, value)
				}
			}
			if cc := h.Get("Cache-Control"); c.newest != (cc == "no-store") {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		res := ts.do(nil, "HEAD", "/download/"+linuxName, nil).must(t, 200)
		if res.Raw != "" || res.Header.Get("Content-Length") != strconv.Itoa(len(files["1.10.0"])) ||
			res.Header.Get("X-Checksum-SHA256") != sha256Hex(files["1.10.0"]) || res.Header.Get("X-Agent-Version") != "1.10.0" {
			t.Fatalf("HEAD: %v %q", res.Header, res.Raw)
		}
	})
	t.Run("a range resumes a download", func(t *testing.T) {
		res := ts.do(nil, "GET", "/download/"+linuxName, nil, "Range", "bytes=4-9").must(t, 206)
		if res.Raw != string(files["1.10.0"][4:10]) || res.Header.Get("X-Checksum-SHA256") != sha256Hex(files["1.10.0"]) {
			t.Fatalf("range: %q", res.Raw)
		}
	})
	t.Run("nothing to download", func(t *testing.T) {
		for _, path := range []string{
			"/download/wcms-agent-windows-arm64", // no build for it
			"/download/wcms-agent-linux-mips",    // no such platform
			"/download/" + linuxName + ".exe",    // .exe is for windows
			"/download/wcms-agent",
			"/download/builds/999999/wcms-agent",
			"/download/builds/" + itoa(ids["1.9.0"]) + "/wcms-agent.exe", // not that build's name
		} {
			t.Run(path, func(t *testing.T) { checkEnvelope(t, ts.do(nil, "GET", path, nil), 404, "NOT_FOUND") })
		}
	})

	t.Run("delete", func(t *testing.T) {
		op := ts.account(a, "op", "operator")
		checkEnvelope(t, op.do("DELETE", "/api/admin/agent-build/"+itoa(ids["1.10.0"]), nil), 403, "FORBIDDEN")
		res := a.do("DELETE", "/api/admin/agent-build/"+itoa(ids["1.10.0"]), nil).must(t, 200)
		if res.get("status") != "success" {
			t.Fatalf("delete: %s", res.Raw)
		}
		if _, err := os.Stat(filepath.Join(ts.buildFolder(), sha256Hex(files["1.10.0"]))); !os.IsNotExist(err) {
			t.Fatalf("the deleted build's file: %v", err)
		}
		if n := len(ts.buildFiles()); n != 2 {
			t.Fatalf("build folder holds %d files, want 2", n)
		}
		list := a.do("GET", "/api/admin/agent-builds", nil).must(t, 200)
		if builds := list.get("builds").([]any); len(builds) != 2 || strings.Contains(list.Raw, `"1.10.0"`) {
			t.Fatalf("list after delete: %s", list.Raw)
		}
		// Agents now get the next newest.
		if got := ts.do(nil, "GET", "/download/"+linuxName, nil).must(t, 200); got.Header.Get("X-Agent-Version") != "1.9.0" {
			t.Fatalf("after delete the newest linux build is %s", got.Header.Get("X-Agent-Version"))
		}
		if v := ts.do(nil, "GET", "/api/client/version?os=linux&arch="+runtime.GOARCH, nil).must(t, 200); v.get("version") != "1.9.0" {
			t.Fatalf("version after delete: %s", v.Raw)
		}
		checkEnvelope(t, ts.do(nil, "GET", "/download/builds/"+itoa(ids["1.10.0"])+"/wcms-agent", nil), 404, "NOT_FOUND")
		checkEnvelope(t, a.do("DELETE", "/api/admin/agent-build/"+itoa(ids["1.10.0"]), nil), 404, "NOT_FOUND")
	})
}

func TestDownloadPlatform(t *testing.T) {
	for _, c := range []struct {
		name, os, arch string
	}{
		{"wcms-agent.exe", "windows", "amd64"},
		{"wcms-agent-windows-386", "windows", "386"},
		{"wcms-agent-windows-arm64.exe", "windows", "arm64"},
		{"wcms-agent-linux-arm64", "linux", "arm64"},
		{"wcms-agent-linux-amd64.exe", "", ""},
		{"wcms-agent-linux", "", ""},
		{"wcms-agent-linux-amd64-extra", "", ""},
		{"wcms-agent-darwin-arm64", "", ""},
		{"agent-linux-amd64", "", ""},
		{"wcms-agent", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			goos, arch, ok := handlers.DownloadPlatform(c.name)
			if goos != c.os || arch != c.arch || ok != (c.os != "") {
				t.Fatalf("got %q %q %v", goos, arch, ok)
			}
		})
	}
}
