package mesh

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// DefaultPort is tinc's registered port, used when [Network.Port] is 0.
const DefaultPort = 655

// Network is the desired state of one tinc mesh: its settings and its nodes. The zero values of
// the optional fields select the defaults named on each field. A Network is plain data: copy it
// freely; methods never modify it.
type Network struct {
	// Name is the tinc network name (the directory under /etc/tinc, the default interface name):
	// letters, digits and '_', at most 15 characters. Required.
	Name string `json:"name"`
	// Subnets are the overlay address ranges. The first one holds the nodes' own addresses and
	// is the prefix given to the interface in tinc-up; at least one is required and none may
	// overlap another.
	Subnets []netip.Prefix `json:"subnets"`
	// Reserved are ranges inside the overlay that node addresses are never allocated from (for
	// example a MetalLB pool); they must lie inside a subnet.
	Reserved []netip.Prefix `json:"reserved,omitempty"`
	// Port is the TCP and UDP port tincd listens on; 0 means [DefaultPort].
	Port int `json:"port,omitempty"`
	// Interface is the name of the tun device; "" means the network name. 1 to 15 letters,
	// digits, '_', '-' or '.', not "." or ".." (names Linux accepts that need no quoting in
	// tinc.conf or an nftables ruleset).
	Interface string `json:"interface,omitempty"`
	// Cipher and Digest protect the data channel (tinc 1.0, OpenSSL names); "" means
	// "aes-256-cbc" and "sha256" instead of tinc 1.0's blowfish and sha1.
	Cipher string `json:"cipher,omitempty"`
	Digest string `json:"digest,omitempty"`
	// KeyBits is the size of RSA keys generated for nodes that have none; 0 means 2048 (what
	// `tincd -K` generates). At least 2048.
	KeyBits int `json:"keyBits,omitempty"`
	// Ed25519 also generates a tinc 1.1 Ed25519 key per node and publishes it in the host files
	// (ignored by tinc 1.0, used by 1.1 for its SPTPS protocol).
	Ed25519 bool `json:"ed25519,omitempty"`
	// Failover holds the timers that decide how fast a broken link is noticed; the zero value
	// means [DefaultFailover].
	Failover Failover `json:"failover,omitzero"`
	// Topology decides which nodes dial which; the zero value means [DefaultTopology].
	Topology Topology `json:"topology,omitzero"`
	// Nodes are the servers in the mesh; names must be unique after mapping to tinc names.
	Nodes []Node `json:"nodes"`
}

// Node is one server of the mesh.
type Node struct {
	// Name is the node's name, for example its Kubernetes node name: letters, digits, '_', '-'
	// and '.', not starting with '.', at most 255 bytes (it names the node's directory in a
	// [Dir]). It maps to a tinc name by [TincName] ('-' and '.' become '_'); two nodes may not
	// map to the same tinc name, nor to tinc names that differ only in case.
	Name string `json:"name"`
	// Endpoints are the public addresses other nodes dial ("203.0.113.10", "host.example.com",
	// "[2001:db8::1]:655" or "198.51.100.7:6655"); a port in an endpoint overrides the network's.
	// A node without endpoints only dials out (behind NAT); it is never dialled.
	Endpoints []string `json:"endpoints,omitempty"`
	// Address is the node's overlay address; the zero value lets [Network.Allocate] choose one.
	Address netip.Addr `json:"address,omitzero"`
	// Subnets are further ranges the node routes into the mesh (a service range, a container
	// network). The same subnet on several nodes is how tinc fails over a range between them.
	Subnets []netip.Prefix `json:"subnets,omitempty"`
	// Region groups nodes by location; the topology picks hubs per region.
	Region string `json:"region,omitempty"`
	// Role is free text for operators ("firewall", "worker"); the mesh does not interpret it.
	Role string `json:"role,omitempty"`
	// Hub marks the node as a hub of its region for [TopologyHubs]; the mark is ignored on a
	// node without endpoints, which nobody can dial. Without marked hubs in a region, hubs are
	// chosen by hashing.
	Hub bool `json:"hub,omitempty"`
}

// Failover holds tincd's liveness timers. tinc 1.0's defaults (PingInterval 60 s, PingTimeout 5 s,
// UDP data) took 28 to 92 s here to route around a broken direct link; [DefaultFailover] takes
// about 2 s.
type Failover struct {
	// PingInterval is how long a connection may be idle before tincd pings it (whole seconds).
	PingInterval time.Duration `json:"pingInterval,omitempty"`
	// PingTimeout is how long tincd waits for the answer before closing the connection, which is
	// what makes traffic take another path (whole seconds). It must exceed the worst round trip
	// under load: a metadata connection also carries data when TCPOnly is set.
	PingTimeout time.Duration `json:"pingTimeout,omitempty"`
	// MaxTimeout caps tincd's back-off between attempts to re-dial a node (whole seconds).
	MaxTimeout time.Duration `json:"maxTimeout,omitempty"`
	// TCPOnly sends data over the TCP metadata connections instead of UDP. See [DefaultFailover]
	// for why the default turns it on.
	TCPOnly bool `json:"tcpOnly,omitempty"`
}

// DefaultFailover returns the failover settings used when [Network.Failover] is zero:
// PingInterval 1 s, PingTimeout 1 s, MaxTimeout 2 s, TCPOnly.
//
// Why TCPOnly: with UDP data, tinc 1.0 only learns that a UDP path is broken through its
// path-MTU probes, and right after a start it keeps sending into a broken path for about 30 s
// whatever the ping timers say; with data on the metadata connection the ping timeout alone
// decides, and traffic reroutes through another node about 2 s after a cut. The price is TCP
// inside TCP: on lossy links throughput suffers, so bulk-transfer meshes on clean links may prefer
// UDP data (the same timers with TCPOnly false). Raise PingTimeout where round trips under load
// come near a second. MaxTimeout is short because nodes started together miss each other's first
// connection attempt, and tincd would otherwise wait 5 s and more before the next.
func DefaultFailover() Failover {
	return Failover{PingInterval: time.Second, PingTimeout: time.Second, MaxTimeout: 2 * time.Second, TCPOnly: true}
}

// effective returns f with defaults applied.
func (f Failover) effective() Failover {
	if f == (Failover{}) {
		return DefaultFailover()
	}
	return f
}

// TopologyKind selects how connections are chosen.
type TopologyKind string

const (
	// TopologyAuto is a full mesh up to [Topology.FullMeshMax] nodes and hubs beyond.
	TopologyAuto TopologyKind = ""
	// TopologyFull connects every pair of nodes.
	TopologyFull TopologyKind = "full"
	// TopologyHubs connects the hubs of all regions with each other, and every other node to the
	// hubs of its region plus a few peers chosen by hashing.
	TopologyHubs TopologyKind = "hubs"
)

// Topology decides which nodes dial which. Each pair is dialled from one side only: when both
// ends of a pair dialled each other, tinc 1.0 was seen to keep two sessions whose UDP keys did
// not match.
type Topology struct {
	// Kind selects the shape; "" means [TopologyAuto].
	Kind TopologyKind `json:"kind,omitempty"`
	// FullMeshMax is the largest network TopologyAuto connects fully; 0 means 16.
	FullMeshMax int `json:"fullMeshMax,omitempty"`
	// HubsPerRegion is how many hubs each region gets when none are marked; 0 means 2.
	HubsPerRegion int `json:"hubsPerRegion,omitempty"`
	// Peers is how many extra peers a non-hub node dials besides its region's hubs; 0 means 2.
	Peers int `json:"peers,omitempty"`
}

// DefaultTopology returns the topology used when [Network.Topology] is zero.
func DefaultTopology() Topology {
	return Topology{Kind: TopologyAuto, FullMeshMax: 16, HubsPerRegion: 2, Peers: 2}
}

func (t Topology) effective() Topology {
	d := DefaultTopology()
	if t.Kind != "" {
		d.Kind = t.Kind
	}
	if t.FullMeshMax != 0 {
		d.FullMeshMax = t.FullMeshMax
	}
	if t.HubsPerRegion != 0 {
		d.HubsPerRegion = t.HubsPerRegion
	}
	if t.Peers != 0 {
		d.Peers = t.Peers
	}
	return d
}

// TincName maps a node name to the name tinc uses in tinc.conf and for its host file: tinc
// allows only letters, digits and '_', so '-' and '.' become '_'. Other characters are kept,
// and [Network.Validate] rejects them.
func TincName(node string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return '_'
		}
		return r
	}, node)
}

// port returns the network's port with the default applied.
func (n *Network) port() int {
	if n.Port == 0 {
		return DefaultPort
	}
	return n.Port
}

func (n *Network) iface() string {
	if n.Interface == "" {
		return n.Name
	}
	return n.Interface
}

func (n *Network) cipher() string {
	if n.Cipher == "" {
		return "aes-256-cbc"
	}
	return n.Cipher
}

func (n *Network) digest() string {
	if n.Digest == "" {
		return "sha256"
	}
	return n.Digest
}

func (n *Network) keyBits() int {
	if n.KeyBits == 0 {
		return 2048
	}
	return n.KeyBits
}

// Node returns the node named name, or nil.
func (n *Network) Node(name string) *Node {
	for i := range n.Nodes {
		if n.Nodes[i].Name == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

// sortedNodes returns the nodes sorted by name, so results never depend on input order.
func (n *Network) sortedNodes() []Node {
	nodes := slices.Clone(n.Nodes)
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return nodes
}
