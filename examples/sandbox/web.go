package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/internal/netns"
)

// The backend is this program started again inside a server's namespace: a process there, so
// that killing a server's processes kills its backend too. roleEnv selects the mode, because
// under `go test` the program is the test binary, whose arguments belong to the test flags.
const (
	roleEnv     = "WEBINFRA_SANDBOX_ROLE"
	roleBackend = "backend"
)

// traefikConfig renders a server's static and dynamic Traefik configuration. The site's router
// sends requests to the local backend on a server holding the data, and to the holders' backends
// over the mesh on one that does not (with health checks, so a dead holder leaves the rotation).
// The origin settings admit only requests whose TCP peer is the firewall's mesh address, which
// the firewall's masquerade makes every public request's peer.
func traefikConfig(dir string, local bool, holders []netip.Addr, firewall netip.Addr) (static, dynamic []byte, err error) {
	origin, err := ingress.CloudflareOrigin(ingress.OriginOptions{Firewalls: []netip.Prefix{netip.PrefixFrom(firewall, 32)}})
	if err != nil {
		return nil, nil, err
	}
	so := ingress.StaticOptions{
		WebAddress:       ":80",
		WebSecureAddress: ":443",
		InternalAddress:  traefikInternal,
		FileDirectory:    filepath.Join(dir, "dynamic"),
		AccessLog:        &ingress.AccessLogOptions{},
	}
	origin.ApplyStatic(&so)
	st, err := ingress.NewStatic(so)
	if err != nil {
		return nil, nil, err
	}
	lb := &ingress.LoadBalancer{}
	if local {
		lb.Servers = []ingress.Server{{URL: "http://127.0.0.1:" + strconv.Itoa(backendPort)}}
	} else {
		for _, h := range holders {
			lb.Servers = append(lb.Servers, ingress.Server{URL: "http://" + net.JoinHostPort(h.String(), strconv.Itoa(backendPort))})
		}
		lb.HealthCheck = &ingress.HealthCheck{Path: "/", Interval: ingress.Duration(time.Second), Timeout: ingress.Duration(time.Second)}
	}
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers:  map[string]ingress.Router{"site": {EntryPoints: []string{ingress.EntryPointWeb}, Rule: ingress.Host(site).String(), Service: "site"}},
		Services: map[string]ingress.Service{"site": {LoadBalancer: lb}},
	}}
	origin.Apply(d)
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	y, err := d.FileYAML()
	if err != nil {
		return nil, nil, err
	}
	return st.YAML(), y, nil
}

// startTraefik writes the configuration and runs traefik in the server's namespace until it
// answers /ping and serves the site's router.
func startTraefik(ctx context.Context, sup *supervisor, bin, server, ns, dir string, static, dynamic []byte) error {
	if err := os.MkdirAll(filepath.Join(dir, "dynamic"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "traefik.yml"), static, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "dynamic", "site.yml"), dynamic, 0o644); err != nil {
		return err
	}
	c, err := sup.start(server+"/traefik", ns, nil, bin, "--configFile="+filepath.Join(dir, "traefik.yml"))
	if err != nil {
		return err
	}
	hc := nsClient(ns)
	err = poll(ctx, 60*time.Second, func() error {
		if c.exited() {
			return fmt.Errorf("traefik exited: %v", c.err)
		}
		return getOK(ctx, hc, "http://"+traefikInternal+"/api/http/routers/site@file")
	})
	if err != nil {
		return fmt.Errorf("traefik on %s: %w\n%s", server, err, logTail(c.logPath, 20))
	}
	return nil
}

// startBackend runs the file server of a server's data folder in its namespace.
func startBackend(ctx context.Context, sup *supervisor, server, ns, data string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), roleEnv+"="+roleBackend)
	c, err := sup.start(server+"/backend", ns, env, exe, "--name", server, "--dir", data, "--listen", ":"+strconv.Itoa(backendPort))
	if err != nil {
		return err
	}
	hc := nsClient(ns)
	err = poll(ctx, 30*time.Second, func() error {
		if c.exited() {
			return fmt.Errorf("backend exited: %v", c.err)
		}
		return getOK(ctx, hc, "http://127.0.0.1:"+strconv.Itoa(backendPort)+"/healthz")
	})
	if err != nil {
		return fmt.Errorf("backend on %s: %w\n%s", server, err, logTail(c.logPath, 20))
	}
	return nil
}

// serveBackend is the backend mode: an HTTP file server of --dir that names the server it runs
// on in an X-Served-By header. Syncthing's own files are not served.
func serveBackend(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "server name")
	dir := fs.String("dir", "", "directory to serve")
	listen := fs.String("listen", ":8081", "listen address")
	if err := fs.Parse(args); err != nil || *dir == "" {
		fmt.Fprintln(stderr, "sandbox backend: need --dir")
		return 2
	}
	files := http.FileServer(http.Dir(*dir))
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", *name)
		if slices.Contains([]string{"/.stfolder", "/.stignore", "/.stversions"}, filepath.Clean(r.URL.Path)) ||
			filepath.Dir(filepath.Clean(r.URL.Path)) == "/.stfolder" {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "sandbox backend %s: serving %s on %s\n", *name, *dir, *listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "sandbox backend: %v\n", err)
		return 1
	}
	return 0
}

// nsClient is an HTTP client whose connections start inside a namespace.
func nsClient(ns string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: netns.Dialer(ns), DisableKeepAlives: true}}
}

func getOK(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// poll calls cond until it succeeds, ctx ends or timeout passes, and returns its last error.
func poll(ctx context.Context, timeout time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", timeout, err)
		case <-t.C:
		}
	}
}
