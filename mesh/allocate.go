package mesh

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/netaddr"
)

// Allocate returns a copy of the network in which every node has an overlay address, chosen so
// that addresses are stable:
//
//   - a node's own [Node.Address] always wins;
//   - otherwise the address it had before (prev, by node name; [Manager.Plan] reads it back from
//     each node's own host file) is kept while it is still valid and free;
//   - otherwise the node gets the first free address at or after a slot hashed from its name.
//
// The result does not depend on the order of the nodes, and removing a node never renumbers
// another one that has a previous address. Without previous addresses, two nodes whose names
// hash to the same slot are ordered by name, so removing the first of them moves the second to
// its slot: pass prev to rule that out. Allocate fails with an error matching
// webinfra.ErrInvalidArgument on an invalid network and webinfra.ErrFailedPrecondition when the
// subnet has no free address left. It does not modify n.
func (n *Network) Allocate(prev map[string]netip.Addr) (*Network, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	out := *n
	out.Nodes = slices.Clone(n.Nodes)
	// Node subnets are routed to their nodes, so no node address may fall inside one either.
	reserved := slices.Clone(n.Reserved)
	for _, node := range n.Nodes {
		reserved = append(reserved, node.Subnets...)
	}
	pool := newAddrPool(n.Subnets[0], reserved)
	for _, node := range out.Nodes {
		if node.Address.IsValid() {
			pool.take(node.Address)
		}
	}
	order := make([]int, 0, len(out.Nodes))
	for i, node := range out.Nodes {
		if !node.Address.IsValid() {
			order = append(order, i)
		}
	}
	// Previous addresses first, so that a new node hashing onto an old node's address cannot take it.
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(out.Nodes[a].Name, out.Nodes[b].Name) })
	var fresh []int
	for _, i := range order {
		if a, ok := prev[out.Nodes[i].Name]; ok && pool.free(a) {
			pool.take(a)
			out.Nodes[i].Address = a
			continue
		}
		fresh = append(fresh, i)
	}
	slices.SortFunc(fresh, func(a, b int) int {
		sa, sb := pool.slot(out.Nodes[a].Name), pool.slot(out.Nodes[b].Name)
		if sa != sb {
			if sa < sb {
				return -1
			}
			return 1
		}
		return strings.Compare(out.Nodes[a].Name, out.Nodes[b].Name)
	})
	for _, i := range fresh {
		a, ok := pool.next(pool.slot(out.Nodes[i].Name))
		if !ok {
			return nil, fmt.Errorf("mesh: allocate an address for node %q: subnet %s is full: %w", out.Nodes[i].Name, n.Subnets[0], webinfra.ErrFailedPrecondition)
		}
		pool.take(a)
		out.Nodes[i].Address = a
	}
	return &out, nil
}

// addrPool hands out the host addresses of one subnet, skipping reserved ranges and the
// addresses already taken.
type addrPool struct {
	subnet   netip.Prefix
	size     uint64 // number of usable addresses
	reserved []netip.Prefix
	taken    map[netip.Addr]bool
}

// newAddrPool covers the whole subnet for IPv4, and the first /64 of a larger IPv6 subnet (a
// slot space of 2^64 addresses is more than any mesh uses).
func newAddrPool(subnet netip.Prefix, reserved []netip.Prefix) *addrPool {
	hostBits := subnet.Addr().BitLen() - subnet.Bits()
	size := uint64(math.MaxUint64) // all of a /64 but its first address
	if hostBits < 64 {
		size = 1<<hostBits - 1 // without the network address
		if subnet.Addr().Is4() {
			size-- // and without the broadcast address
		}
	}
	return &addrPool{subnet: subnet, size: size, reserved: reserved, taken: map[netip.Addr]bool{}}
}

// slot is where a name's search for a free address starts.
func (p *addrPool) slot(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() % p.size
}

// at returns the usable address number i (0 is the first after the network address).
func (p *addrPool) at(i uint64) netip.Addr {
	b := p.subnet.Addr().As16()
	binary.BigEndian.PutUint64(b[8:], binary.BigEndian.Uint64(b[8:])+i+1)
	a := netip.AddrFrom16(b)
	if p.subnet.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}

// lastIndex returns the index of the last usable address of r, clamped to the pool.
func (p *addrPool) lastIndex(r netip.Prefix) uint64 {
	first, last := p.subnet.Addr().As16(), netaddr.Last(r).As16()
	if [8]byte(first[:8]) != [8]byte(last[:8]) {
		return p.size - 1 // r reaches past the pool's /64
	}
	off := binary.BigEndian.Uint64(last[8:]) - binary.BigEndian.Uint64(first[8:]) // > 0: r is inside
	return min(off-1, p.size-1)
}

func (p *addrPool) free(a netip.Addr) bool {
	if !p.subnet.Contains(a) || a == p.subnet.Addr() || (a.Is4() && a == netaddr.Last(p.subnet)) || p.taken[a] {
		return false
	}
	return p.reservedAt(a) == nil
}

func (p *addrPool) reservedAt(a netip.Addr) *netip.Prefix {
	for i, r := range p.reserved {
		if r.Contains(a) {
			return &p.reserved[i]
		}
	}
	return nil
}

func (p *addrPool) take(a netip.Addr) { p.taken[a] = true }

// next returns the first free address at or after slot, wrapping around. A reserved range is
// skipped in one step, so a large reserved block costs nothing.
func (p *addrPool) next(slot uint64) (netip.Addr, bool) {
	i := slot
	for walked := uint64(0); walked < p.size; {
		a := p.at(i)
		step := uint64(1)
		if r := p.reservedAt(a); r != nil {
			step = p.lastIndex(*r) - i + 1 // i <= lastIndex, since r holds at(i)
		} else if !p.taken[a] {
			return a, true
		}
		walked += step
		if i += step; i >= p.size || i == 0 {
			i = 0
		}
	}
	return netip.Addr{}, false
}
