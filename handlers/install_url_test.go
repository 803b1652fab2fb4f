package handlers

import "testing"

// The install address is checked as a lab PC would see it.
func TestReachableFromPCs(t *testing.T) {
	for base, want := range map[string]bool{
		"http://localhost:5050":      false,
		"http://LOCALHOST":           false,
		"http://lab.localhost:5050":  false,
		"http://127.0.0.1:5050":      false,
		"http://127.0.0.2":           false,
		"http://[::1]:5050":          false,
		"http://0.0.0.0:5050":        false,
		"http://[::]:5050":           false,
		"http://169.254.10.20:5050":  false,
		"http://[fe80::1]:5050":      false,
		"http://10.0.0.5:5050":       true,
		"http://192.168.1.10":        true,
		"https://wcms.school.ac.kr":  true,
		"http://[2001:db8::10]:5050": true,
		"http://203.0.113.7:5050":    true,
		"::not a url":                false,
	} {
		if got := reachableFromPCs(base); got != want {
			t.Errorf("%s: reachable %v, want %v", base, got, want)
		}
	}
}
