package testutil

import (
	"net"
	"testing"
)

// FreePorts returns n distinct TCP ports of 127.0.0.1 that were free a moment ago. All n are
// held open until every one is chosen: asking for ports one at a time can give the same port
// twice (seen here: a Syncthing GUI and listener handed one port, and the second bind failed).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out
}
