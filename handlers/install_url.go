package handlers

import (
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/views"
)

// reachableFromPCs tells whether a lab PC could reach base, the address the install one-liners
// and agents are given. Without -public-url that is the browser's address, and an admin signed
// in at http://localhost:5050 (as the README says) would hand every PC a URL that names itself.
func reachableFromPCs(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "" {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return true // a DNS name: the lab's DNS decides
	}
	return !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast()
}

// installWarning is the warning the PIN and status pages show when the install address is one
// PCs cannot reach, with the addresses this machine has that they could; nil when it is fine.
func (s *Server) installWarning(c echo.Context) *views.InstallWarning {
	base := s.baseURL(c)
	if reachableFromPCs(base) {
		return nil
	}
	w := &views.InstallWarning{URL: base, Port: "5050"}
	if u, err := url.Parse(base); err == nil && u.Port() != "" {
		w.Port = u.Port()
	}
	addrs, _ := net.InterfaceAddrs() // none found: the warning still says what to do
	for _, a := range addrs {
		p, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(p.IP.To4()); ok && reachableFromPCs("http://"+ip.String()) {
			w.Suggestions = append(w.Suggestions, "http://"+net.JoinHostPort(ip.String(), w.Port))
		}
	}
	return w
}
