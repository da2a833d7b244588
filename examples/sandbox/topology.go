package main

import (
	"net/netip"
	"path/filepath"
)

// The sandbox's fixed layout. Every address lives only inside the sandbox's namespaces.
const (
	// site is the demo site's hostname; zone is its Cloudflare zone.
	site = "www.sandbox.test"
	zone = "sandbox.test"
	// folder is the ID of the site's data folder. replication.Place puts it on a (the primary,
	// the active writer) and b; c holds no data.
	folder = "site"
	// meshName is the tinc network and its interface.
	meshName = "sandbox"
	// fwName and edgeName are the firewall and the Cloudflare edge stand-in.
	fwName   = "fw"
	edgeName = "edge"
	// backendPort is where each server's file server listens (all addresses of its namespace).
	backendPort = 8081
	// traefikInternal is Traefik's ping/API entry point, on each namespace's own loopback.
	traefikInternal = "127.0.0.1:8080"
	// syncthingGUI is Syncthing's REST listener, on each namespace's own loopback.
	syncthingGUI = "127.0.0.1:8384"
	// syncthingPort is Syncthing's sync listener; devices dial each other at mesh addresses.
	syncthingPort = 22000
)

var (
	// servers are the web servers, in order.
	servers = []string{"a", "b", "c"}
	// underlay is the bridge the namespaces share: a .1, b .2, c .3, fw .4, edge .5.
	underlay = netip.MustParsePrefix("10.77.0.0/24")
	// overlay is the mesh's address range; pool is its part for service addresses (a MetalLB
	// pool in a real deployment), and vip the address the site is served at.
	overlay = netip.MustParsePrefix("10.89.0.0/16")
	pool    = netip.MustParsePrefix("10.89.255.0/24")
	vip     = netip.MustParseAddr("10.89.255.10")
)

// hosts are the namespaces, in the order internal/netns numbers them.
func hosts() []string { return append(append([]string{}, servers...), fwName, edgeName) }

// layout names the paths under the state directory.
type layout string

func (l layout) stateFile() string          { return filepath.Join(string(l), "sandbox.json") }
func (l layout) tincRoot() string           { return filepath.Join(string(l), "tinc") }
func (l layout) logs() string               { return filepath.Join(string(l), "logs") }
func (l layout) server(name string) string  { return filepath.Join(string(l), "servers", name) }
func (l layout) data(name string) string    { return filepath.Join(l.server(name), "data") }
func (l layout) stHome(name string) string  { return filepath.Join(l.server(name), "syncthing") }
func (l layout) traefik(name string) string { return filepath.Join(l.server(name), "traefik") }

// made lists the entries of the state directory the sandbox creates, which down removes.
var made = []string{"sandbox.json", "tinc", "logs", "servers"}
