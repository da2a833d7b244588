package mailtest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNSServer is an authoritative DNS server on 127.0.0.1, UDP and TCP on one port, built on
// miekg/dns and serving the records it is given. Names with records of other types answer
// NOERROR with no records; names without any record (and not an ancestor of one) answer
// NXDOMAIN. Safe for concurrent use.
type DNSServer struct {
	// Addr is "127.0.0.1:port", for mail.Checker.Resolver.
	Addr string

	udp, tcp *dns.Server

	mu      sync.Mutex
	rrs     []dns.RR
	drop    bool
	queries int
}

// NewDNSServer starts a server holding the records, given in zone-file form
// ("example.com. 300 IN MX 1 smtp.google.com."). A record that does not parse is an error.
func NewDNSServer(records ...string) (*DNSServer, error) {
	s := &DNSServer{}
	if err := s.Set(records...); err != nil {
		return nil, err
	}
	pc, l, err := listenUDPAndTCP()
	if err != nil {
		return nil, err
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: l, Handler: h}
	udpUp, tcpUp := make(chan struct{}), make(chan struct{})
	s.udp.NotifyStartedFunc = func() { close(udpUp) }
	s.tcp.NotifyStartedFunc = func() { close(tcpUp) }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-udpUp
	<-tcpUp
	return s, nil
}

// StartDNS starts a server and shuts it down when the test ends.
func StartDNS(t testing.TB, records ...string) *DNSServer {
	t.Helper()
	s, err := NewDNSServer(records...)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Set replaces the served records.
func (s *DNSServer) Set(records ...string) error {
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			return fmt.Errorf("mailtest: record %q: %w", r, err)
		}
		if rr != nil {
			rrs = append(rrs, rr)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rrs = rrs
	return nil
}

// Drop makes the server ignore queries (true), so that clients time out.
func (s *DNSServer) Drop(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop = drop
}

// Queries returns how many queries the server answered.
func (s *DNSServer) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// Close shuts both listeners down.
func (s *DNSServer) Close() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
}

func (s *DNSServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	if s.drop {
		s.mu.Unlock()
		return
	}
	s.queries++
	rrs := s.rrs
	s.mu.Unlock()
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	exists := false
	for _, rr := range rrs {
		owner := strings.ToLower(rr.Header().Name)
		if owner == name || strings.HasSuffix(owner, "."+name) {
			exists = true
		}
		if owner == name && (rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY) {
			resp.Answer = append(resp.Answer, dns.Copy(rr))
		}
	}
	if !exists {
		resp.Rcode = dns.RcodeNameError
	}
	// Over UDP, answers beyond the client's buffer are truncated so that it retries over TCP,
	// as real servers make it for long DKIM keys.
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = int(opt.UDPSize())
	}
	if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}

// listenUDPAndTCP opens a UDP and a TCP listener on the same free loopback port, as DNS clients
// expect (TCP after a truncated UDP answer). The UDP port the kernel picks may be taken for
// TCP by another program, so it tries again with another port.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("mailtest: dns listen: %w", err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("mailtest: dns listen tcp: %w", lastErr)
}
