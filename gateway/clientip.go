package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
)

// proxySet is the set of addresses whose X-Forwarded-For and X-Forwarded-Proto are believed:
// the load balancers and sidecars in front of the gateway.
type proxySet []netip.Prefix

// parseProxies reads a comma-separated list of CIDRs or single addresses.
func parseProxies(list string) (proxySet, error) {
	var out proxySet
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			addr, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("http.trusted-proxies: %q is neither an address nor a CIDR", s)
			}
			out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("http.trusted-proxies: %q is neither an address nor a CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps proxySet) contains(ip string) bool {
	if len(ps) == 0 {
		return false // no parse of the peer on every request when no proxy is trusted
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range ps {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// peerIP is the address of the TCP peer.
func peerIP(c *app.RequestContext) string { return hostOf(c.RemoteAddr()) }

// hostOf is the host part of addr.String(). A TCP address's is formatted directly: every
// request asks (access log, rate limits), and formatting the port only to split it off again
// cost three allocations.
func hostOf(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok && a != nil {
		ip := ""
		if len(a.IP) > 0 {
			ip = a.IP.String()
		}
		if a.Zone != "" {
			return ip + "%" + a.Zone
		}
		return ip
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// clientIP is the address rate limits are keyed by. The peer is the client unless it is a
// trusted proxy; then X-Forwarded-For is walked from the right (each proxy appends the address
// it saw) and the first hop that is not a trusted proxy is the client. The leftmost hops are
// whatever the client wrote and are never believed.
func (g *Gateway) clientIP(c *app.RequestContext) string {
	peer := peerIP(c)
	if !g.proxies.contains(peer) {
		return peer
	}
	var headers []string
	c.Request.Header.VisitAll(func(k, v []byte) {
		if strings.EqualFold(string(k), "X-Forwarded-For") {
			headers = append(headers, string(v))
		}
	})
	return g.proxies.client(peer, headers)
}

// client returns the client address of a request from a trusted proxy peer with the given
// X-Forwarded-For header values.
func (ps proxySet) client(peer string, forwardedFor []string) string {
	var hops []string
	for _, h := range forwardedFor {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return peer // a malformed hop: nothing left of it can be trusted
		}
		if !ps.contains(hop) {
			return hop
		}
	}
	return peer
}

// fromTrustedProxy reports whether the request came through a trusted proxy, whose
// X-Forwarded-Proto may be believed.
func (g *Gateway) fromTrustedProxy(c *app.RequestContext) bool {
	return g.proxies.contains(peerIP(c))
}
