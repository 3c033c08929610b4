package gateway

import (
	"net"
	"net/netip"
	"strings"
)

// hostAllowList is the set of Host header values media URLs may be built from when no public
// base URL is configured.
type hostAllowList struct {
	names map[string]bool // lower-case host names and addresses, without port
	// fallback is the host[:port] used for a request whose Host is not allowed.
	fallback string
}

// newHostAllowList builds the list from the configured hosts, or, when none are configured,
// from this machine's interface addresses and localhost. listenAddr gives the fallback.
func newHostAllowList(configured, listenAddr string) hostAllowList {
	l := hostAllowList{names: map[string]bool{}}
	for _, h := range strings.Split(configured, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			l.names[stripPort(h)] = true
		}
	}
	var ownAddrs []string
	if len(l.names) == 0 {
		l.names["localhost"] = true
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					ip := p.Addr().Unmap()
					l.names[ip.String()] = true
					if ip.Is4() && !ip.IsLoopback() {
						ownAddrs = append(ownAddrs, ip.String())
					}
				}
			}
		}
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		host, port = "", "80"
	}
	switch {
	case host != "" && host != "0.0.0.0" && host != "::":
	case configured != "":
		host, _, _ = strings.Cut(strings.TrimSpace(configured), ",")
		host = stripPort(strings.TrimSpace(host))
	case len(ownAddrs) > 0:
		host = ownAddrs[0]
	default:
		host = "127.0.0.1"
	}
	l.fallback = net.JoinHostPort(strings.Trim(host, "[]"), port)
	return l
}

// allows reports whether a Host header value (host or host:port) is on the list.
func (l hostAllowList) allows(hostHeader string) bool {
	return hostHeader != "" && l.names[strings.ToLower(stripPort(hostHeader))]
}

// stripPort removes a :port and IPv6 brackets.
func stripPort(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}
