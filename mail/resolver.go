package mail

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/webinfra/webinfra"
)

// answer is the result of one DNS query: the records of the asked type, and whether the name
// exists at all.
type answer struct {
	rrs []dns.RR
	nx  bool
}

// empty reports a void lookup in RFC 7208's sense: NXDOMAIN or no records of the type.
func (a answer) empty() bool { return a.nx || len(a.rrs) == 0 }

func (c *Checker) resolverAddr() string {
	if c.Resolver != "" {
		return c.Resolver
	}
	if cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil && len(cfg.Servers) > 0 {
		return net.JoinHostPort(cfg.Servers[0], cfg.Port)
	}
	return "127.0.0.1:53"
}

func (c *Checker) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 5 * time.Second
}

// query asks the resolver once over UDP, and again over TCP when the answer is truncated (long
// DKIM keys). SERVFAIL, REFUSED, timeouts and network errors are errors matching
// webinfra.ErrUnavailable; context errors stay visible.
func (c *Checker) query(ctx context.Context, name string, qtype uint16) (answer, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, false)
	m.RecursionDesired = true
	addr := c.resolverAddr()
	var resp *dns.Msg
	var err error
	for _, network := range []string{"udp", "tcp"} {
		cl := &dns.Client{Net: network, Timeout: c.timeout()}
		qctx, cancel := context.WithTimeout(ctx, c.timeout())
		resp, _, err = cl.ExchangeContext(qctx, m, addr)
		cancel()
		if err != nil || !resp.Truncated {
			break
		}
	}
	typ := dns.TypeToString[qtype]
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return answer{}, fmt.Errorf("mail: query %s %s: %w", name, typ, ctxErr)
		}
		return answer{}, fmt.Errorf("mail: query %s %s at %s: %w: %w", name, typ, addr, webinfra.ErrUnavailable, err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return answer{nx: true}, nil
	default:
		return answer{}, fmt.Errorf("mail: query %s %s at %s: %w: %s", name, typ, addr, webinfra.ErrUnavailable, dns.RcodeToString[resp.Rcode])
	}
	var a answer
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == qtype {
			a.rrs = append(a.rrs, rr)
		}
	}
	return a, nil
}

// txt returns the TXT records at name, each record's strings joined as RFC 7208 and RFC 6376
// require.
func (c *Checker) txt(ctx context.Context, name string) ([]string, answer, error) {
	a, err := c.query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, a, err
	}
	var out []string
	for _, rr := range a.rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, a, nil
}

// LookupTXT returns the TXT records at name through the checker's resolver, one string per
// record. A name with no TXT records gives an error wrapping *net.DNSError with IsNotFound
// (so go-msgauth treats it as a permanent failure); resolver failures give a *net.DNSError
// with IsTemporary that unwraps to an error matching webinfra.ErrUnavailable; context errors
// are returned as they are.
func (c *Checker) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txts, a, err := c.txt(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true, UnwrapErr: err}
	}
	if a.empty() {
		return nil, &net.DNSError{Err: "no TXT record", Name: name, IsNotFound: true}
	}
	return txts, nil
}
