package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
)

// placement puts the site's data folder on two of the three servers.
func placement() (replication.Placement, error) {
	var cands []replication.Candidate
	for _, s := range servers {
		cands = append(cands, replication.Candidate{Name: s})
	}
	return replication.Place([]replication.FolderSpec{{ID: folder, Replicas: 2}}, cands)
}

// syncNode is one server's Syncthing.
type syncNode struct {
	name   string
	home   string
	id     *replication.Identity
	client *replication.Client
}

// newSyncNode makes the server's Syncthing identity (so every device ID is known before any
// Syncthing starts) and its home: `syncthing generate` adopts the identity, and the generated
// config.xml is edited before the first start, since some settings (announcements, relays,
// usage reporting, listeners) take effect at once.
func newSyncNode(ctx context.Context, bin, name, home string) (*syncNode, error) {
	id, err := replication.NewIdentity()
	if err != nil {
		return nil, err
	}
	if err := id.WriteHome(home); err != nil {
		return nil, err
	}
	gen := exec.CommandContext(ctx, bin, "generate", "--home", home, "--no-default-folder", "--skip-port-probing")
	gen.Env = syncthingEnv(home)
	if out, err := gen.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("syncthing generate for %s: %w\n%s", name, err, out)
	}
	return &syncNode{name: name, home: home, id: id}, nil
}

// configure edits config.xml: nothing leaves the sandbox (no discovery, relays, NAT traversal,
// usage or crash reports, upgrades), the sync listener is on every address of the namespace
// (peers dial the mesh address) and the REST API on the namespace's loopback with a fresh key.
// Syncthing's config.xml has no Go schema outside its own module, so the few elements are
// replaced by pattern, on a file `syncthing generate` has just written.
func (n *syncNode) configure() (webinfra.Secret, error) {
	path := filepath.Join(n.home, "config.xml")
	b, err := os.ReadFile(path)
	if err != nil {
		return webinfra.Secret{}, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	apiKey := hex.EncodeToString(key)
	s := string(b)
	set := func(elem, value string) {
		re := regexp.MustCompile(`<` + elem + `>[^<]*</` + elem + `>`)
		s = re.ReplaceAllString(s, "<"+elem+">"+value+"</"+elem+">")
	}
	for _, e := range []string{"globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled", "natEnabled", "crashReportingEnabled", "startBrowser"} {
		set(e, "false")
	}
	set("urAccepted", "-1")
	set("autoUpgradeIntervalH", "0")
	set("listenAddress", fmt.Sprintf("tcp://0.0.0.0:%d", syncthingPort))
	set("apikey", apiKey)
	gui := regexp.MustCompile(`(<gui [^>]*>\s*<address>)[^<]*(</address>)`)
	if !gui.MatchString(s) {
		return webinfra.Secret{}, fmt.Errorf("%s: no gui address", path)
	}
	s = gui.ReplaceAllString(s, "${1}"+syncthingGUI+"${2}")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		return webinfra.Secret{}, err
	}
	return webinfra.NewSecret(apiKey), nil
}

// start runs `syncthing serve` in the server's namespace and waits for its REST API, which the
// client reaches through the namespace.
func (n *syncNode) start(ctx context.Context, sup *supervisor, bin, ns string) error {
	key, err := n.configure()
	if err != nil {
		return err
	}
	env := append(syncthingEnv(n.home), "STNOUPGRADE=1", "STMONITORED=1", "STNORESTART=1")
	c, err := sup.start(n.name+"/syncthing", ns, env, bin, "serve", "--home", n.home, "--no-browser", "--no-upgrade", "--logfile=-")
	if err != nil {
		return err
	}
	client, err := replication.New(replication.Config{BaseURL: "http://" + syncthingGUI, APIKey: key, HTTPClient: nsClient(ns)})
	if err != nil {
		return err
	}
	n.client = client
	err = poll(ctx, 60*time.Second, func() error {
		if c.exited() {
			return fmt.Errorf("syncthing exited: %v", c.err)
		}
		return client.Health(ctx)
	})
	if err != nil {
		return fmt.Errorf("syncthing on %s: %w\n%s", n.name, err, logTail(c.logPath, 20))
	}
	return nil
}

// desired is the server's Syncthing state: the other holders as devices at their mesh
// addresses, and the site's folder with the type the single-writer rule gives this server.
// Ownership and modes replicate (the default of managed folders; Syncthing runs as root here).
func (n *syncNode) desired(peers []*syncNode, addr func(string) netip.Addr, data string, typ replication.FolderType) replication.NodeState {
	st := replication.NodeState{DeviceID: n.id.DeviceID()}
	f := replication.FolderState{ID: folder, Label: site, Path: data, Type: typ,
		FSWatcherDelay: time.Second, RescanInterval: 10 * time.Second}
	for _, p := range peers {
		if p == n {
			continue
		}
		st.Devices = append(st.Devices, replication.DeviceState{ID: p.id.DeviceID(), Name: p.name,
			Addresses: []string{fmt.Sprintf("tcp://%s:%d", addr(p.name), syncthingPort)}})
		f.Devices = append(f.Devices, p.id.DeviceID())
	}
	st.Folders = []replication.FolderState{f}
	return st
}

// apply plans and applies the node's desired state.
func (n *syncNode) apply(ctx context.Context, want replication.NodeState) error {
	p, err := replication.PlanNode(ctx, n.client, want)
	if err != nil {
		return fmt.Errorf("syncthing on %s: plan: %w", n.name, err)
	}
	if err := replication.ApplyNode(ctx, n.client, p); err != nil {
		return fmt.Errorf("syncthing on %s: apply: %w", n.name, err)
	}
	return nil
}

// syncthingEnv keeps Syncthing away from the user's own Syncthing state.
func syncthingEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ST") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home)
}
