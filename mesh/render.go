package mesh

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// File is one file of a node's tinc directory. It never prints its content: every fmt verb, slog
// and JSON show the path, mode and size only, because rsa_key.priv is among them. Data is an
// exported field, so a struct holding a File in an unexported field, which fmt prints without
// asking File, shows the bytes: keep Files in exported fields.
type File struct {
	// Path is slash-separated and relative to the node's tinc directory ("tinc.conf",
	// "hosts/node_a", "rsa_key.priv").
	Path string
	// Data is the content.
	Data []byte
	// Mode is the permission bits: 0600 for private keys, 0755 for scripts, 0644 otherwise.
	Mode fs.FileMode
}

// Private reports whether the file holds a secret (a private key).
func (f File) Private() bool { return f.Mode&0o077 == 0 }

// String gives the path, mode and size: "rsa_key.priv (0600, 1679 bytes)".
func (f File) String() string { return fmt.Sprintf("%s (%#o, %d bytes)", f.Path, f.Mode, len(f.Data)) }

// GoString returns the same as [File.String].
func (f File) GoString() string { return f.String() }

// Format redacts the content for every verb.
func (f File) Format(s fmt.State, _ rune) { _, _ = s.Write([]byte(f.String())) }

// LogValue makes slog log the path, mode and size only.
func (f File) LogValue() slog.Value {
	return slog.GroupValue(slog.String("path", f.Path), slog.String("mode", fmt.Sprintf("%#o", f.Mode)), slog.Int("size", len(f.Data)))
}

// MarshalJSON encodes the path, mode and size ({"path":"rsa_key.priv","mode":"0600","size":1679}),
// never the content: a File is not stored as JSON.
func (f File) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Path string `json:"path"`
		Mode string `json:"mode"`
		Size int    `json:"size"`
	}{f.Path, fmt.Sprintf("%#o", f.Mode), len(f.Data)})
}

// Names of the files in a node's tinc directory.
const (
	FileTincConf     = "tinc.conf"
	FileTincUp       = "tinc-up"
	FileTincDown     = "tinc-down"
	FileSubnetUp     = "subnet-up"
	FileSubnetDown   = "subnet-down"
	FileRSAKey       = "rsa_key.priv"
	FileEd25519Key   = "ed25519_key.priv"
	hostsDir         = "hosts/"
	filePendingState = ".webinfra-pending"
)

// HostFile returns the path of a node's host file, "hosts/" and its tinc name.
func HostFile(node string) string { return hostsDir + TincName(node) }

// Render returns the files of every node, by node name, in path order. The network must be
// valid with every node's address set (see [Network.Allocate]), and keys must hold an RSA key
// for every node (and an Ed25519 key when [Network.Ed25519] is set); otherwise Render fails
// with an error matching webinfra.ErrInvalidArgument. Host files are rendered once and their
// data shared between nodes: treat File.Data as read-only.
func (n *Network) Render(keys map[string]Keys) (map[string][]File, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var missing []string
	for _, node := range n.Nodes {
		k := keys[node.Name]
		switch {
		case !node.Address.IsValid():
			missing = append(missing, fmt.Sprintf("node %q has no address (call Allocate first)", node.Name))
		case k.RSA == nil:
			missing = append(missing, fmt.Sprintf("node %q has no RSA key", node.Name))
		case n.Ed25519 && k.Ed25519 == nil:
			missing = append(missing, fmt.Sprintf("node %q has no Ed25519 key", node.Name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("mesh: render: %s: %w", strings.Join(missing, "; "), webinfra.ErrInvalidArgument)
	}
	hosts := make([]File, 0, len(n.Nodes))
	for _, node := range n.sortedNodes() {
		hosts = append(hosts, File{Path: HostFile(node.Name), Data: n.hostConfig(node, keys[node.Name]).Marshal(), Mode: 0o644})
	}
	shared := n.sharedSubnets()
	conns := n.Connections()
	out := make(map[string][]File, len(n.Nodes))
	for _, node := range n.Nodes {
		k := keys[node.Name]
		files := []File{
			{Path: FileTincConf, Data: n.serverConfig(node, conns[node.Name]).Marshal(), Mode: 0o644},
			{Path: FileTincUp, Data: n.tincUp(node), Mode: 0o755},
			{Path: FileTincDown, Data: []byte(scriptHeader(node, "takes the mesh interface down") + "ip link set dev \"$INTERFACE\" down\n"), Mode: 0o755},
			{Path: FileSubnetUp, Data: n.subnetScript(node, true, shared), Mode: 0o755},
			{Path: FileSubnetDown, Data: n.subnetScript(node, false, shared), Mode: 0o755},
			{Path: FileRSAKey, Data: MarshalRSAPrivateKey(k.RSA), Mode: 0o600},
		}
		if n.Ed25519 {
			files = append(files, File{Path: FileEd25519Key, Data: k.Ed25519.MarshalPrivate(), Mode: 0o600})
		}
		files = append(files, hosts...)
		slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
		out[node.Name] = files
	}
	return out, nil
}

func (n *Network) serverConfig(node Node, dials []string) *ServerConfig {
	f := n.Failover.effective()
	s := &ServerConfig{
		Name:         TincName(node.Name),
		PingInterval: int(f.PingInterval / time.Second),
		PingTimeout:  int(f.PingTimeout / time.Second),
		MaxTimeout:   int(f.MaxTimeout / time.Second),
		Interface:    n.iface(),
	}
	for _, d := range dials {
		s.ConnectTo = append(s.ConnectTo, TincName(d))
	}
	return s
}

func (n *Network) hostConfig(node Node, k Keys) *HostConfig {
	h := &HostConfig{
		Port:      n.port(),
		Subnets:   append([]netip.Prefix{netip.PrefixFrom(node.Address, node.Address.BitLen())}, node.Subnets...),
		Cipher:    n.cipher(),
		Digest:    n.digest(),
		TCPOnly:   n.Failover.effective().TCPOnly,
		PublicKey: &k.RSA.PublicKey,
	}
	for _, e := range node.Endpoints {
		h.Addresses = append(h.Addresses, hostAddress(e))
	}
	if n.Ed25519 && k.Ed25519 != nil {
		pub := k.Ed25519.Public()
		h.Ed25519PublicKey = &pub
	}
	return h
}

func scriptHeader(node Node, what string) string {
	return fmt.Sprintf("#!/bin/sh\n# Written by webinfra for mesh node %s: %s.\n", node.Name, what)
}

// tincUp gives the interface the node's address with the prefix of the node subnet, so the
// kernel sends the whole overlay into tincd, plus routes for the further overlay subnets.
func (n *Network) tincUp(node Node) []byte {
	var b strings.Builder
	b.WriteString(scriptHeader(node, "brings the mesh interface up"))
	b.WriteString("set -e\n")
	b.WriteString("ip link set dev \"$INTERFACE\" up\n")
	fmt.Fprintf(&b, "ip addr replace %s dev \"$INTERFACE\"\n", netip.PrefixFrom(node.Address, n.Subnets[0].Bits()))
	for _, s := range n.Subnets[1:] {
		fmt.Fprintf(&b, "ip route replace %s dev \"$INTERFACE\"\n", s)
	}
	return []byte(b.String())
}

// subnetScript renders subnet-up or subnet-down, which tincd runs whenever another node's subnet
// appears or goes. They route further subnets (outside the overlay) into the mesh. A node's own
// subnets stay local: a route into the tun device would loop them back to tincd. A subnet that
// several nodes announce keeps its route when one of them goes, because the others still serve
// it: that is tinc's failover of a shared range. tincd reads the scripts whenever it runs them,
// so a change needs no restart.
func (n *Network) subnetScript(node Node, up bool, shared map[netip.Prefix]bool) []byte {
	var b strings.Builder
	var keep []string
	for _, s := range node.Subnets {
		keep = append(keep, s.String())
	}
	if up {
		b.WriteString(scriptHeader(node, "routes a subnet another node announces into the mesh"))
	} else {
		b.WriteString(scriptHeader(node, "removes the route of a subnet another node withdrew"))
		for _, nd := range n.sortedNodes() {
			for _, s := range nd.Subnets {
				if shared[s] && !slices.Contains(keep, s.String()) {
					keep = append(keep, s.String())
				}
			}
		}
	}
	b.WriteString("[ \"$NODE\" = \"$NAME\" ] && exit 0\n")
	if len(keep) > 0 {
		fmt.Fprintf(&b, "case \"$SUBNET\" in %s) exit 0 ;; esac\n", strings.Join(keep, "|"))
	}
	if up {
		b.WriteString("exec ip route replace \"$SUBNET\" dev \"$INTERFACE\"\n")
	} else {
		b.WriteString("ip route del \"$SUBNET\" dev \"$INTERFACE\" 2>/dev/null || true\n")
	}
	return []byte(b.String())
}

// sharedSubnets returns the node subnets that more than one node announces.
func (n *Network) sharedSubnets() map[netip.Prefix]bool {
	count := map[netip.Prefix]int{}
	for _, node := range n.Nodes {
		for _, s := range node.Subnets {
			count[s]++
		}
	}
	out := map[netip.Prefix]bool{}
	for s, c := range count {
		if c > 1 {
			out[s] = true
		}
	}
	return out
}
