package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A redirect to a caller-given target stays on this site: anything a browser could read as
// another host becomes "/".
func TestLocalRedirects(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct{ next, want string }{
		{"/pc/3?tab=x", "/pc/3?tab=x"},
		{"/", "/"},
		{"/log?kind=a%20b&page=2", "/log?kind=a%20b&page=2"},
		{"/?room=LAB%201", "/?room=LAB%201"},
		{"/pc/3#commands", "/pc/3#commands"},
		{"/pc/a%2fb", "/pc/a%2fb"}, // an encoded slash past the start is just a name

		{"", "/"},
		{"evil.example", "/"},
		{"https://evil.example/x", "/"},
		{"javascript:alert(1)", "/"},
		{"//evil.example/x", "/"},
		{"///evil.example/x", "/"},
		{`/\evil.example/x`, "/"},
		{`\\evil.example/x`, "/"},
		{`/pc/3\x`, "/"},
		{"/\t/evil.example/x", "/"},
		{"/\r\nSet-Cookie: a=b", "/"},
		{"/pc\n/3", "/"},
		{"\t//evil.example", "/"},
		{" /pc/3", "/"},
		{"/%09/evil.example/x", "/"},
		{"/%2f/evil.example/x", "/"},
		{"/%2F/evil.example/x", "/"},
		{"/%5c/evil.example/x", "/"},
		{"/%5C/evil.example/x", "/"},
		{"/%252f/evil.example/x", "/"},
		{"/%zz", "/"},
		{"/pc/3\x7f", "/"},
	}
	for _, tt := range tests {
		t.Run(url.QueryEscape(tt.next), func(t *testing.T) {
			// The transport alone, as Go's client refuses to even read some of these Locations.
			req, err := http.NewRequest("GET", ts.URL+"/lang/en?next="+url.QueryEscape(tt.next), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Location"); res.StatusCode != 303 || got != tt.want {
				t.Errorf("next=%q: %d to %q, want 303 to %q", tt.next, res.StatusCode, got, tt.want)
			}
		})
	}
}
