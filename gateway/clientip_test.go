package gateway

import (
	"net"
	"testing"
)

// hostOf formats what splitting addr.String() gives, for every kind of address.
func TestHostOfMatchesSplitHostPort(t *testing.T) {
	var nilTCP *net.TCPAddr
	for _, addr := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		&net.TCPAddr{IP: net.ParseIP("192.168.1.20").To4(), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.1"), Port: 9},
		&net.TCPAddr{Port: 80},
		nilTCP,
		&net.UnixAddr{Name: "/tmp/sock", Net: "unix"},
	} {
		want, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			want = addr.String()
		}
		if got := hostOf(addr); got != want {
			t.Errorf("hostOf(%v) = %q, want %q", addr, got, want)
		}
	}
}
