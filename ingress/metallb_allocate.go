package ingress

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// Allocate assigns each service (a "namespace/name" key) one fixed address of the pool, for its
// Service's [MetalLBAnnotationIPs] annotation. Addresses are stable:
//
//   - a service's previous address (prev, by key) is kept while it is still a usable address of
//     the pool and no other service with a smaller key keeps it too;
//   - otherwise the service gets the first free address at or after a slot hashed from its key,
//     wrapping around the pool.
//
// The pool's usable addresses are its entries in address order (the order of
// [PoolSpec.Addresses] does not matter) without the network address of a CIDR entry and, for
// IPv4, its broadcast address; /31 and /32 (/127 and /128) entries are used whole. The result
// does not depend on the order of services, and keys of prev that are not in services only free
// their addresses. Without prev, two services hashing to the same slot are ordered by key, so
// removing the first moves the second: pass prev to rule that out.
//
// Allocate fails with a *webinfra.ValidationError (matching webinfra.ErrInvalidArgument) when
// the pool is invalid or a key is not namespace/name or repeats, and with an error matching
// webinfra.ErrFailedPrecondition when the pool has fewer usable addresses than services. It
// modifies neither its receiver nor its arguments, and the returned map is the caller's.
func (s *PoolSpec) Allocate(services []string, prev map[string]netip.Addr) (map[string]netip.Addr, error) {
	var errs webinfra.ValidationError
	entries := s.validate(&errs, webinfra.Path{})
	seen := map[string]webinfra.Path{}
	for i, key := range services {
		p := webinfra.NewPath("services").Index(i)
		if first, dup := seen[key]; dup {
			errs.Duplicate(p, key, first)
			continue
		}
		seen[key] = p
		if msg := poolCheckServiceKey(key); msg != "" {
			errs.Invalid(p, key, msg)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	pool := newPoolAddrs(entries)
	keys := slices.Sorted(slices.Values(services))
	out := make(map[string]netip.Addr, len(keys))
	taken := map[netip.Addr]bool{}
	var fresh []string
	for _, k := range keys {
		if a, ok := prev[k]; ok && !taken[a] && pool.contains(a) {
			taken[a] = true
			out[k] = a
			continue
		}
		fresh = append(fresh, k)
	}
	slices.SortFunc(fresh, func(a, b string) int {
		return cmp.Or(cmp.Compare(pool.slot(a), pool.slot(b)), strings.Compare(a, b))
	})
	for _, k := range fresh {
		a, ok := pool.next(pool.slot(k), taken)
		if !ok {
			return nil, fmt.Errorf("ingress: allocate an address for service %q: pool %q is full (%d usable addresses, %d services): %w",
				k, s.Name, pool.total, len(services), webinfra.ErrFailedPrecondition)
		}
		taken[a] = true
		out[k] = a
	}
	return out, nil
}

func poolCheckServiceKey(key string) string {
	ns, name, ok := strings.Cut(key, "/")
	if !ok {
		return "want namespace/name"
	}
	var msgs []string
	for _, m := range k8svalidation.IsDNS1123Label(ns) {
		msgs = append(msgs, "namespace: "+m)
	}
	for _, m := range k8svalidation.IsDNS1035Label(name) {
		msgs = append(msgs, "name: "+m)
	}
	return strings.Join(msgs, "; ")
}

// poolMaxSlots caps the hashed slot space of a segment, so that huge IPv6 entries neither
// overflow counters nor make the slot depend on more than 40 bits.
const poolMaxSlots = 1 << 40

// poolAddrs numbers the usable addresses of a pool: segment after segment, in address order.
type poolAddrs struct {
	segs  []poolSegment
	total uint64
}

type poolSegment struct {
	from, to netip.Addr
	count    uint64 // usable addresses, capped at poolMaxSlots
}

func newPoolAddrs(entries []poolEntry) *poolAddrs {
	var p poolAddrs
	for _, e := range entries {
		from, to := e.r.From, e.r.To
		if pfx := e.r.Prefix; pfx.IsValid() {
			hostBits := pfx.Addr().BitLen() - pfx.Bits()
			if hostBits >= 2 {
				from = from.Next() // network address
				if from.Is4() {
					to = to.Prev() // broadcast address
				}
			}
		}
		p.segs = append(p.segs, poolSegment{from: from, to: to, count: poolSpan(from, to)})
	}
	slices.SortFunc(p.segs, func(a, b poolSegment) int { return a.from.Compare(b.from) })
	for _, s := range p.segs {
		p.total += s.count
	}
	return &p
}

// poolSpan returns the number of addresses from..to, capped at poolMaxSlots.
func poolSpan(from, to netip.Addr) uint64 {
	a, b := from.As16(), to.As16()
	hi := binary.BigEndian.Uint64(b[:8]) - binary.BigEndian.Uint64(a[:8])
	lo := binary.BigEndian.Uint64(b[8:]) - binary.BigEndian.Uint64(a[8:])
	if binary.BigEndian.Uint64(b[8:]) < binary.BigEndian.Uint64(a[8:]) {
		hi-- // borrow
	}
	if hi != 0 || lo >= poolMaxSlots-1 {
		return poolMaxSlots
	}
	return lo + 1
}

// poolAdd returns a + n; the caller keeps it inside a segment.
func poolAdd(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	lo := binary.BigEndian.Uint64(b[8:])
	hi := binary.BigEndian.Uint64(b[:8])
	if lo+n < lo {
		hi++
	}
	binary.BigEndian.PutUint64(b[8:], lo+n)
	binary.BigEndian.PutUint64(b[:8], hi)
	r := netip.AddrFrom16(b)
	if a.Is4() {
		r = r.Unmap()
	}
	return r
}

func (p *poolAddrs) slot(key string) uint64 {
	if p.total == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64() % p.total
}

// at returns usable address number i < total.
func (p *poolAddrs) at(i uint64) netip.Addr {
	for _, s := range p.segs {
		if i < s.count {
			return poolAdd(s.from, i)
		}
		i -= s.count
	}
	return netip.Addr{}
}

// contains reports whether a is one of the numbered usable addresses.
func (p *poolAddrs) contains(a netip.Addr) bool {
	for _, s := range p.segs {
		if a.IsValid() && a.Is4() == s.from.Is4() && !a.Less(s.from) && !s.to.Less(a) {
			return poolSpan(s.from, a) <= s.count
		}
	}
	return false
}

// next returns the first address at or after slot, wrapping around, that is not taken. Only
// taken addresses are skipped, so it looks at most len(taken)+1 of them.
func (p *poolAddrs) next(slot uint64, taken map[netip.Addr]bool) (netip.Addr, bool) {
	if uint64(len(taken)) >= p.total {
		return netip.Addr{}, false
	}
	for i := uint64(0); i <= uint64(len(taken)); i++ {
		if a := p.at((slot + i) % p.total); !taken[a] {
			return a, true
		}
	}
	return netip.Addr{}, false
}
