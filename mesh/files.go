package mesh

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/webinfra/webinfra"
)

// ServerConfig is tinc.conf, the file naming the node and the nodes it dials. Variables it does
// not model are kept in Extra, so a parsed file marshals back with nothing lost.
type ServerConfig struct {
	// Name is this node's tinc name.
	Name string
	// ConnectTo are the tinc names of the nodes this one dials.
	ConnectTo []string
	// Interface is the tun device name; "" leaves tincd's default (the network name).
	Interface string
	// PingInterval, PingTimeout and MaxTimeout are tincd's timers in seconds; 0 leaves tincd's
	// default (60, 5 and 900).
	PingInterval, PingTimeout, MaxTimeout int
	// Extra holds every other variable, in file order.
	Extra []Var
}

// HostConfig is a host file (hosts/NAME): how to reach a node and what it routes. Every node
// keeps the host file of every node it talks to. Variables it does not model are kept in Extra
// and PEM blocks other than the RSA public key in ExtraBlocks.
type HostConfig struct {
	// Addresses are where the node can be dialled.
	Addresses []HostAddress
	// Port is the port the node listens on; 0 leaves tincd's default (655).
	Port int
	// Subnets are the ranges the node routes, its own overlay address first.
	Subnets []netip.Prefix
	// Cipher and Digest protect the data channel to this node; "" leaves tinc 1.0's defaults.
	Cipher, Digest string
	// TCPOnly sends data to this node over the metadata connection.
	TCPOnly bool
	// PublicKey is the node's RSA key (tinc 1.0); nil when the file has none.
	PublicKey *rsa.PublicKey
	// Ed25519PublicKey is the node's tinc 1.1 key; nil when the file has none.
	Ed25519PublicKey *Ed25519PublicKey
	// Extra holds every other variable, in file order.
	Extra []Var
	// ExtraBlocks holds PEM blocks other than the RSA public key.
	ExtraBlocks []string
}

// HostAddress is one Address line: a hostname or IP address and an optional port.
type HostAddress struct {
	// Host is a hostname or IP address.
	Host string
	// Port is the port; 0 means the node's Port.
	Port int
}

// ParseServerConfig parses tinc.conf; see [ParseConf] for the syntax and errors. A numeric
// variable that is not a non-negative number is an error naming it.
func ParseServerConfig(data []byte) (*ServerConfig, error) {
	c, err := ParseConf(data)
	if err != nil {
		return nil, err
	}
	s := &ServerConfig{}
	for _, v := range c.Vars {
		var n *int
		switch strings.ToLower(v.Key) {
		case "name":
			if s.Name == "" {
				s.Name = v.Value
				continue
			}
		case "connectto":
			s.ConnectTo = append(s.ConnectTo, v.Value)
			continue
		case "interface":
			if s.Interface == "" {
				s.Interface = v.Value
				continue
			}
		case "pinginterval":
			n = &s.PingInterval
		case "pingtimeout":
			n = &s.PingTimeout
		case "maxtimeout":
			n = &s.MaxTimeout
		}
		if n != nil && *n == 0 {
			if *n, err = seconds(v); err != nil {
				return nil, err
			}
			continue
		}
		s.Extra = append(s.Extra, v)
	}
	if c.Blocks != nil {
		return nil, fmt.Errorf("mesh: parse tinc.conf: unexpected PEM block: %w", webinfra.ErrInvalidArgument)
	}
	return s, nil
}

func seconds(v Var) (int, error) {
	n, err := strconv.Atoi(v.Value)
	if err != nil || n <= 0 || strconv.Itoa(n) != v.Value {
		return 0, fmt.Errorf("mesh: parse config: %s %q: want a positive number of seconds: %w", v.Key, v.Value, webinfra.ErrInvalidArgument)
	}
	return n, nil
}

// Marshal renders tinc.conf; ParseServerConfig of the result gives s back.
func (s *ServerConfig) Marshal() []byte {
	c := &Conf{}
	if s.Name != "" {
		c.Add("Name", s.Name)
	}
	if s.Interface != "" {
		c.Add("Interface", s.Interface)
	}
	for _, t := range []struct {
		key string
		n   int
	}{{"PingInterval", s.PingInterval}, {"PingTimeout", s.PingTimeout}, {"MaxTimeout", s.MaxTimeout}} {
		if t.n > 0 {
			c.Add(t.key, strconv.Itoa(t.n))
		}
	}
	c.Vars = append(c.Vars, s.Extra...)
	for _, to := range s.ConnectTo {
		c.Add("ConnectTo", to)
	}
	return c.Marshal()
}

// ParseHostConfig parses a host file; see [ParseConf] for the syntax and errors. Subnet lines
// with a weight ("#10") or a MAC address (switch mode) are kept in Extra.
func ParseHostConfig(data []byte) (*HostConfig, error) {
	c, err := ParseConf(data)
	if err != nil {
		return nil, err
	}
	h := &HostConfig{}
	for _, v := range c.Vars {
		if !h.parseVar(v) {
			h.Extra = append(h.Extra, v)
		}
	}
	for _, blk := range c.Blocks {
		p, rest := pem.Decode([]byte(blk))
		if p == nil || len(strings.TrimSpace(string(rest))) > 0 {
			return nil, fmt.Errorf("mesh: parse host file: malformed PEM block: %w", webinfra.ErrInvalidArgument)
		}
		if p.Type == rsaPublicType && h.PublicKey == nil && len(p.Headers) == 0 && slices.Equal(pem.EncodeToMemory(p), []byte(blk)) {
			if h.PublicKey, err = x509.ParsePKCS1PublicKey(p.Bytes); err != nil {
				return nil, fmt.Errorf("mesh: parse host file: RSA public key: %w: %w", err, webinfra.ErrInvalidArgument)
			}
			continue
		}
		h.ExtraBlocks = append(h.ExtraBlocks, blk)
	}
	return h, nil
}

// parseVar takes v into a modelled field and reports whether it did.
func (h *HostConfig) parseVar(v Var) bool {
	switch strings.ToLower(v.Key) {
	case "address":
		f := strings.Fields(v.Value) // may be empty: Unicode spaces are a value to ParseConf
		if len(f) == 0 || len(f) > 2 {
			return false
		}
		a := HostAddress{Host: f[0]}
		if len(f) == 2 {
			p, err := strconv.Atoi(f[1])
			if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != f[1] {
				return false
			}
			a.Port = p
		}
		h.Addresses = append(h.Addresses, a)
	case "port":
		p, err := strconv.Atoi(v.Value)
		if h.Port != 0 || err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != v.Value {
			return false
		}
		h.Port = p
	case "subnet":
		p, err := netip.ParsePrefix(v.Value)
		if err != nil {
			a, aerr := netip.ParseAddr(v.Value)
			if aerr != nil || a.Zone() != "" {
				return false
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p != p.Masked() || slices.Contains(h.Subnets, p) {
			return false
		}
		h.Subnets = append(h.Subnets, p)
	case "cipher":
		if h.Cipher != "" {
			return false
		}
		h.Cipher = v.Value
	case "digest":
		if h.Digest != "" {
			return false
		}
		h.Digest = v.Value
	case "tcponly":
		if v.Value != "yes" || h.TCPOnly {
			return false
		}
		h.TCPOnly = true
	case "ed25519publickey":
		k, err := ParseEd25519PublicKey(v.Value)
		if err != nil || h.Ed25519PublicKey != nil || k.String() != v.Value {
			return false
		}
		h.Ed25519PublicKey = &k
	default:
		return false
	}
	return true
}

const (
	rsaPublicType  = "RSA PUBLIC KEY"
	rsaPrivateType = "RSA PRIVATE KEY"
)

// Marshal renders the host file: variables first, then the RSA public key block, as tincd -K
// leaves a host file. ParseHostConfig of the result gives h back.
func (h *HostConfig) Marshal() []byte {
	c := &Conf{}
	for _, a := range h.Addresses {
		if a.Port != 0 {
			c.Add("Address", a.Host+" "+strconv.Itoa(a.Port))
		} else {
			c.Add("Address", a.Host)
		}
	}
	if h.Port != 0 {
		c.Add("Port", strconv.Itoa(h.Port))
	}
	for _, s := range h.Subnets {
		c.Add("Subnet", s.String())
	}
	if h.Cipher != "" {
		c.Add("Cipher", h.Cipher)
	}
	if h.Digest != "" {
		c.Add("Digest", h.Digest)
	}
	if h.TCPOnly {
		c.Add("TCPOnly", "yes")
	}
	if h.Ed25519PublicKey != nil {
		c.Add("Ed25519PublicKey", h.Ed25519PublicKey.String())
	}
	c.Vars = append(c.Vars, h.Extra...)
	if h.PublicKey != nil {
		c.Blocks = append(c.Blocks, string(MarshalRSAPublicKey(h.PublicKey)))
	}
	c.Blocks = append(c.Blocks, h.ExtraBlocks...)
	return c.Marshal()
}

// hostAddress turns an endpoint ("host", "host:port", "[v6]:port") into an Address line.
func hostAddress(endpoint string) HostAddress {
	host, port, err := splitEndpoint(endpoint)
	if err != nil {
		// Validate refuses such endpoints; keep the text so nothing is silently dropped.
		return HostAddress{Host: endpoint}
	}
	return HostAddress{Host: strings.Trim(host, "[]"), Port: port}
}

// endpointString is the inverse of hostAddress, for messages.
func (a HostAddress) String() string {
	if a.Port == 0 {
		return a.Host
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}
