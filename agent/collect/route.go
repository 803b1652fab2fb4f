package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// routeTTL is how long a route lookup is reused: long enough that the poll every 2 s stays
// cheap (the server's name may need DNS), short enough to follow a DHCP change soon.
const routeTTL = 30 * time.Second

// route is the local end of the path to the server: its address, that interface's MAC, and its
// address with the prefix (subnet, IPv4 only).
type route struct {
	ip     string
	err    error // why ip is unknown
	mac    string
	macErr error // why mac is unknown, when listing the interfaces failed
	subnet string
	at     time.Time
}

// nic is what macFor needs to know about one network interface.
type nic struct {
	flags net.Flags
	mac   net.HardwareAddr
	nets  []*net.IPNet // its addresses, with their prefixes
}

// localIP returns the address this PC uses to reach the server, from a recent lookup if any.
func (c *Collector) localIP(ctx context.Context) (string, error) {
	r := c.currentRoute(ctx)
	return r.ip, r.err
}

// currentRoute is the route of a recent lookup, or a new one.
func (c *Collector) currentRoute(ctx context.Context) route {
	c.mu.Lock()
	r := c.route
	c.mu.Unlock()
	if r.at.IsZero() || time.Since(r.at) > routeTTL {
		r = c.refreshRoute(ctx)
	}
	return r
}

// refreshRoute looks the route up now and caches the outcome, failures included, so a dead
// DNS server is asked once per routeTTL rather than on every poll. A lookup cut short by the
// caller's context says nothing about the network and is not cached.
func (c *Collector) refreshRoute(ctx context.Context) route {
	r := c.lookupRoute(ctx)
	if ctx.Err() != nil {
		return r
	}
	r.at = time.Now()
	c.mu.Lock()
	c.route = r
	c.mu.Unlock()
	return r
}

// lookupRoute finds the local address towards the server and the MAC to report with it. The MAC
// falls back to the first real interface's even when the route is unknown (Wine cannot dial UDP),
// so a registration still carries one.
func (c *Collector) lookupRoute(ctx context.Context) route {
	var r route
	local, err := c.dialLocal(ctx)
	if err != nil {
		r.err = err
	} else {
		r.ip = local.String()
	}
	nics, err := interfaces()
	if err != nil {
		r.macErr = err
		return r
	}
	r.mac = macFor(nics, local)
	r.subnet = subnetFor(nics, local)
	return r
}

// dialLocal returns the local address of the route to the server. A UDP "connection" only asks
// the kernel for a route: no packet is sent. Where UDP connect is refused (Wine, some
// hardened stacks) a TCP connection to the server itself, which the agent talks to anyway, says
// the same.
func (c *Collector) dialLocal(ctx context.Context) (net.IP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", c.server)
	if err != nil {
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		var terr error
		if conn, terr = d.DialContext(tctx, "tcp", c.server); terr != nil {
			return nil, fmt.Errorf("route: dial %s: %w (tcp: %v)", c.server, err, terr)
		}
	}
	defer conn.Close()
	switch addr := conn.LocalAddr().(type) {
	case *net.UDPAddr:
		return addr.IP, nil
	case *net.TCPAddr:
		return addr.IP, nil
	}
	return nil, fmt.Errorf("route: local address %v is not an IP address", conn.LocalAddr())
}

func interfaces() ([]nic, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("route: list interfaces: %w", err)
	}
	nics := make([]nic, 0, len(ifaces))
	var errs []error
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			errs = append(errs, fmt.Errorf("route: addresses of %s: %w", iface.Name, err))
			continue
		}
		n := nic{flags: iface.Flags, mac: iface.HardwareAddr}
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok {
				n.nets = append(n.nets, ipnet)
			}
		}
		nics = append(nics, n)
	}
	if len(nics) == 0 {
		return nil, errors.Join(errs...)
	}
	return nics, nil
}

// macFor returns the MAC of the interface holding ip, formatted AA:BB:CC:DD:EE:FF. When that
// interface has none (a loopback server) or ip is nil it falls back to the first interface that is up, not
// loopback and has one, so the PC still registers with a real MAC; else "".
func macFor(nics []nic, ip net.IP) string {
	for _, n := range nics {
		if len(n.mac) > 0 && holding(n.nets, ip) != nil {
			return strings.ToUpper(n.mac.String())
		}
	}
	for _, n := range nics {
		if len(n.mac) > 0 && n.flags&net.FlagUp != 0 && n.flags&net.FlagLoopback == 0 {
			return strings.ToUpper(n.mac.String())
		}
	}
	return ""
}

// holding returns the address of nets that is ip, with its prefix; nil if none is.
func holding(nets []*net.IPNet, ip net.IP) *net.IPNet {
	for _, candidate := range nets {
		if candidate.IP.Equal(ip) {
			return candidate
		}
	}
	return nil
}

// subnetFor returns ip with its interface's prefix, as 192.168.10.23/24, for Wake-on-LAN; "" for
// an IPv6 route or one no interface holds.
func subnetFor(nics []nic, ip net.IP) string {
	if ip.To4() == nil {
		return ""
	}
	for _, n := range nics {
		if a := holding(n.nets, ip); a != nil {
			ones, _ := a.Mask.Size()
			return fmt.Sprintf("%s/%d", ip.To4(), ones)
		}
	}
	return ""
}
