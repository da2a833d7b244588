package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra/internal/netns"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/replication"
)

// indexHTML is the site's first page, written on the active writer and replicated from there.
const indexHTML = "<h1>Hello from the webinfra sandbox</h1>\n"

// up brings the sandbox up, prints what to try, waits for ctx to end and tears everything
// down again (also when bringing it up fails half-way).
func up(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	l := layout(o.state)
	if err := checkFresh(l); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, nftables)")
	}
	bins, err := findBins(o.bins)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.state, 0o755); err != nil {
		return err
	}
	start, err := processStart(os.Getpid())
	if err != nil {
		return err
	}
	rec := &recorder{path: l.stateFile(), rec: record{Pid: os.Getpid(), PidStart: start,
		Namespaces: map[string]string{}, Processes: map[string]int{}, VIP: vip.String()}}
	if err := rec.update(func(*record) {}); err != nil {
		return err
	}
	sb := &sandbox{l: l, rec: rec, bins: bins, out: stdout,
		sup: &supervisor{logDir: l.logs(), rec: rec, stderr: stderr}}
	defer func() {
		fmt.Fprintln(stdout, "sandbox: tearing down")
		if terr := sb.teardown(); terr != nil {
			err = errors.Join(err, fmt.Errorf("teardown: %w", terr))
		} else {
			fmt.Fprintf(stdout, "sandbox: removed everything under %s\n", o.state)
		}
	}()
	if err := sb.bringUp(ctx, o.listen); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// sandbox is one run's parts.
type sandbox struct {
	l    layout
	rec  *recorder
	bins map[string]string
	out  io.Writer
	sup  *supervisor
	net  *netns.Network
	cf   *cloud
}

func (sb *sandbox) say(format string, args ...any) {
	fmt.Fprintf(sb.out, "sandbox: "+format+"\n", args...)
}

func (sb *sandbox) ns(host string) string { return sb.net.Host(host).Netns }

func (sb *sandbox) bringUp(ctx context.Context, listen string) error {
	// Hosts: one namespace each on a bridge of their own.
	n, err := netns.New(ctx, netns.Config{Hosts: hosts(), Subnet: underlay})
	if err != nil {
		return err
	}
	sb.net = n
	all := n.Namespaces()
	if err := sb.rec.update(func(r *record) {
		for i, h := range hosts() {
			r.Namespaces[h] = all[i]
		}
		r.Switch = all[len(all)-1]
	}); err != nil {
		return err
	}
	under := func(h string) netip.Addr { return n.Host(h).Addr }
	var names []string
	for _, h := range hosts() {
		names = append(names, fmt.Sprintf("%s %s", h, under(h)))
	}
	sb.say("hosts (network namespaces %s-*) on bridge %s: %s", strings.TrimSuffix(sb.ns("a"), "-a"), underlay, strings.Join(names, ", "))

	// The mesh: files from package mesh, tincd in each namespace.
	for _, s := range servers {
		if out, err := exec.CommandContext(ctx, "ip", "-n", sb.ns(s), "addr", "add", netip.PrefixFrom(vip, 32).String(), "dev", "lo").CombinedOutput(); err != nil {
			return fmt.Errorf("service address on %s: %w: %s", s, err, out)
		}
	}
	nsOf := map[string]string{}
	for _, h := range append(slices.Clone(servers), fwName) {
		nsOf[h] = sb.ns(h)
	}
	daemon := &tincDaemon{sup: sb.sup, bin: sb.bins["tincd"], root: sb.l.tincRoot(), netns: nsOf}
	planned, err := startMesh(ctx, daemon, meshNetwork(under))
	if err != nil {
		return err
	}
	meshAddr := func(h string) netip.Addr { return planned.Node(h).Address }
	pinger := &mesh.Pinger{Netns: func(node string) string { return nsOf[node] }, Timeout: 500 * time.Millisecond}
	if err := poll(ctx, 60*time.Second, func() error {
		m, err := mesh.Reachability(ctx, planned, pinger, 0)
		if err != nil {
			return err
		}
		if !m.OK() {
			return fmt.Errorf("unreachable pairs %v", m.Unreachable())
		}
		return nil
	}); err != nil {
		return fmt.Errorf("mesh: %w", err)
	}
	names = names[:0]
	for _, h := range append(slices.Clone(servers), fwName) {
		names = append(names, fmt.Sprintf("%s %s", h, meshAddr(h)))
	}
	sb.say("tinc mesh %q up, every pair reaches every other: %s", meshName, strings.Join(names, ", "))
	sb.say("service address %s announced by %s (tinc delivers it to the first live one)", vip, strings.Join(servers, ", "))

	// The data: placed on two servers, a single writer, replicated by Syncthing.
	placed, err := placement()
	if err != nil {
		return err
	}
	holders := placed[folder]
	active := placed.Primary(folder)
	types, err := replication.FolderTypes(placed, folder, active)
	if err != nil {
		return err
	}
	if err := sb.rec.update(func(r *record) { r.Active, r.Replicas = active, holders[1:] }); err != nil {
		return err
	}
	for _, h := range holders {
		if err := os.MkdirAll(sb.l.data(h), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(sb.l.data(active), "index.html"), []byte(indexHTML), 0o644); err != nil {
		return err
	}
	var nodes []*syncNode
	for _, h := range holders {
		sn, err := newSyncNode(ctx, sb.bins["syncthing"], h, sb.l.stHome(h))
		if err != nil {
			return err
		}
		nodes = append(nodes, sn)
	}
	for _, sn := range nodes {
		if err := sn.start(ctx, sb.sup, sb.bins["syncthing"], sb.ns(sn.name)); err != nil {
			return err
		}
	}
	for _, sn := range nodes {
		if err := sn.apply(ctx, sn.desired(nodes, meshAddr, sb.l.data(sn.name), types[sn.name])); err != nil {
			return err
		}
	}
	for _, sn := range nodes {
		sb.say("syncthing on %s: folder %q at %s, %s", sn.name, folder, sb.l.data(sn.name), types[sn.name])
	}

	// The web: a backend per data holder, Traefik on every server.
	var holderAddrs []netip.Addr
	for _, h := range holders {
		holderAddrs = append(holderAddrs, meshAddr(h))
		if err := startBackend(ctx, sb.sup, h, sb.ns(h), sb.l.data(h)); err != nil {
			return err
		}
	}
	for _, s := range servers {
		local := slices.Contains(holders, s)
		static, dynamic, err := traefikConfig(sb.l.traefik(s), local, holderAddrs, meshAddr(fwName))
		if err != nil {
			return err
		}
		if err := startTraefik(ctx, sb.sup, sb.bins["traefik"], s, sb.ns(s), sb.l.traefik(s), static, dynamic); err != nil {
			return err
		}
		if local {
			sb.say("traefik on %s: Host(`%s`) -> its own backend (:%d, serving %s)", s, site, backendPort, sb.l.data(s))
		} else {
			sb.say("traefik on %s: Host(`%s`) -> the backends of %s over the mesh", s, site, strings.Join(holders, " and "))
		}
	}

	// Cloudflare: the fake's DNS record and IP ranges, the firewall's rules, the edge.
	cf, err := newCloud(under(edgeName), sb.ns(edgeName))
	if err != nil {
		return err
	}
	sb.cf = cf
	if err := cf.publish(ctx, under(fwName)); err != nil {
		return fmt.Errorf("cloudflare: %w", err)
	}
	rules, ranges, err := cf.firewallRules(ctx)
	if err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	if err := applyFirewall(ctx, sb.ns(fwName), rules); err != nil {
		return err
	}
	sb.say("cloudflare (fake): %s A %s, proxied; published ranges %v", site, under(fwName), ranges)
	sb.say("firewall %s: port 80 from %v -> %s:80 over the mesh (nftables table inet webinfra_ingress)", under(fwName), ranges, vip)
	if err := cf.serveEdge(listen); err != nil {
		return err
	}
	if err := sb.rec.update(func(r *record) { r.Edge, r.Firewall = cf.addr, under(fwName).String() }); err != nil {
		return err
	}

	// Ready when a request goes all the way through and the replica holds the first page.
	client := &http.Client{Timeout: 5 * time.Second}
	if err := poll(ctx, 60*time.Second, func() error {
		if _, err := fetch(ctx, client, cf.addr, "/"); err != nil {
			return err
		}
		for _, h := range holders {
			if _, err := os.Stat(filepath.Join(sb.l.data(h), "index.html")); err != nil {
				return fmt.Errorf("not yet replicated to %s: %w", h, err)
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	if err := sb.rec.update(func(r *record) { r.Ready = true }); err != nil {
		return err
	}
	sb.say("ready; state and logs in %s", sb.l)
	fmt.Fprintf(sb.out, `
Try:
  curl -i -H 'Host: %[1]s' http://%[2]s/
      through the edge (from %[3]s) -> firewall %[4]s -> mesh -> Traefik on %[5]s -> backend
  echo hi > %[6]s/hello.txt; sleep 3; cat %[7]s/hello.txt
      written on the active writer %[5]s, replicated to %[8]s by Syncthing
  sudo ip netns exec %[9]s curl -m 3 -H 'Host: %[1]s' http://%[4]s/
      from a server, not a Cloudflare range: the firewall drops it
  sudo ip netns pids %[10]s | xargs sudo kill -9
      kill server %[5]s: tinc moves %[11]s to the next live server, which serves the replica
Ctrl-C (or: go run ./examples/sandbox --down --state %[12]s) tears everything down.
`, site, cf.addr, under(edgeName), under(fwName), active, sb.l.data(active), sb.l.data(holders[1]),
		strings.Join(holders[1:], ", "), sb.ns("c"), sb.ns(active), vip, string(sb.l))
	return nil
}

// fetch gets path of the site through the edge at addr and returns the body.
func fetch(ctx context.Context, c *http.Client, addr, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return "", err
	}
	req.Host = site
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// teardown stops the edge and every daemon, deletes the namespaces and removes the files.
func (sb *sandbox) teardown() error {
	var errs []error
	if sb.cf != nil {
		sb.cf.close()
	}
	errs = append(errs, sb.sup.stopAll(10*time.Second))
	if sb.net != nil {
		errs = append(errs, sb.net.Close())
	}
	errs = append(errs, removeMade(sb.l))
	return errors.Join(errs...)
}

// checkFresh refuses a state directory that holds what an earlier run made.
func checkFresh(l layout) error {
	for _, m := range made {
		if _, err := os.Lstat(filepath.Join(string(l), m)); err == nil {
			return fmt.Errorf("%s holds %s from an earlier run: run with --down --state %s first", l, m, l)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeMade removes what the sandbox made under the state directory, and the directory when
// that leaves it empty.
func removeMade(l layout) error {
	var errs []error
	for _, m := range made {
		if err := os.RemoveAll(filepath.Join(string(l), m)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(string(l)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		var pe *fs.PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not empty") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// findBins resolves the programs the sandbox runs.
func findBins(given map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range []string{"tincd", "traefik", "syncthing", "ip", "nft", "ping"} {
		if p := given[name]; p != "" {
			out[name] = p
			continue
		}
		p, err := testbin.Find(name)
		if err != nil {
			if given[name] == "" && !slices.Contains([]string{"tincd", "traefik", "syncthing"}, name) {
				return nil, fmt.Errorf("%s not found: install it (Debian: iproute2, nftables, iputils-ping)", name)
			}
			return nil, fmt.Errorf("%s not found (%v): build it with scripts/testbin.sh or pass --%s", name, err, name)
		}
		out[name] = p
	}
	return out, nil
}
