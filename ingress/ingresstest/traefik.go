// Package ingresstest runs the real Traefik binary for tests of package ingress and of programs
// built on it: [Start] launches traefik from the repository's .testbin with a static
// configuration made by [ingress.NewStatic] on free loopback ports and a file-provider directory
// the test writes dynamic files into; [StartEcho] starts an HTTP backend that answers with what it
// received. All traffic stays on loopback.
//
// A missing traefik binary skips the test locally and fails it under CI=true (see
// internal/testbin).
package ingresstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
)

// Config adjusts the Traefik that [Start] runs. The zero value runs Traefik with the SDK's
// defaults (100ms providers throttle, no forwarded-header trust, no PROXY protocol).
type Config struct {
	// Static edits the static options after Start has filled in the loopback addresses and the
	// file-provider directory; nil keeps them. It must not change those three addresses or the
	// directory.
	Static func(*ingress.StaticOptions)
	// StartTimeout bounds the wait for /ping; 0 means 30s.
	StartTimeout time.Duration
}

// Proxy is a running Traefik. Its methods are safe for concurrent use; those taking a
// testing.TB fail the test on error.
type Proxy struct {
	// Web, WebSecure and Internal are the entry points' loopback addresses (host:port).
	Web, WebSecure, Internal string
	// Dir is the file-provider directory.
	Dir string
	// Static is the static configuration Traefik runs with.
	Static *ingress.Static
	// LogPath is the file holding Traefik's standard output and error.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	mu   sync.Mutex
}

// Start runs the real traefik with a generated static configuration and waits until it answers
// /ping. Traefik listens on free 127.0.0.1 ports. The process is killed by its PID and waited for
// when the test ends; if the test failed, the tail of Traefik's log is printed.
func Start(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	bin := testbin.Require(t, "traefik")
	root := t.TempDir()
	dir := filepath.Join(root, "dynamic")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ports := FreePorts(t, 3)
	opts := ingress.StaticOptions{
		WebAddress:       ports[0],
		WebSecureAddress: ports[1],
		InternalAddress:  ports[2],
		FileDirectory:    dir,
	}
	if cfg.Static != nil {
		cfg.Static(&opts)
	}
	st, err := ingress.NewStatic(opts)
	if err != nil {
		t.Fatalf("ingresstest: static configuration: %v", err)
	}
	staticPath := filepath.Join(root, "traefik.yml")
	if err := os.WriteFile(staticPath, st.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(root, "traefik.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--configFile="+staticPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = root
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("ingresstest: start traefik: %v", err)
	}
	p := &Proxy{Web: opts.WebAddress, WebSecure: opts.WebSecureAddress, Internal: opts.InternalAddress,
		Dir: dir, Static: st, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // this process, by its PID
		<-p.done
		_ = logf.Close()
		if t.Failed() {
			t.Logf("ingresstest: traefik log tail (%s):\n%s", logPath, p.LogTail(40))
		}
	})
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	err = testutil.Poll(t.Context(), timeout, 20*time.Millisecond, func() error {
		select {
		case <-p.done:
			return fmt.Errorf("traefik exited: %v", waitErr)
		default:
		}
		resp, err := http.Get("http://" + p.Internal + "/ping")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/ping: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ingresstest: traefik did not answer /ping: %v\nlog:\n%s", err, p.LogTail(40))
	}
	return p
}

// Exited reports whether the Traefik process has ended (used by tests of configurations Traefik
// refuses at start).
func (p *Proxy) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// FreePorts returns n distinct 127.0.0.1:PORT addresses that were free a moment ago.
func FreePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for _, p := range testutil.FreePorts(t, n) {
		out = append(out, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	return out
}

// LogTail returns the last n lines of Traefik's log.
func (p *Proxy) LogTail(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Log returns Traefik's whole log so far.
func (p *Proxy) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// WriteDynamic renders d with [ingress.Dynamic.FileYAML] and writes it as name in the
// file-provider directory, atomically (Traefik never sees a half-written file).
func (p *Proxy) WriteDynamic(t testing.TB, name string, d *ingress.Dynamic) {
	t.Helper()
	y, err := d.FileYAML()
	if err != nil {
		t.Fatal(err)
	}
	p.WriteFile(t, name, y)
}

// WriteFile writes raw content as name in the file-provider directory, atomically (a temporary
// file outside the directory renamed into it).
func (p *Proxy) WriteFile(t testing.TB, name string, content []byte) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	tmp, err := os.CreateTemp(filepath.Dir(p.Dir), ".dyn-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(p.Dir, name)); err != nil {
		t.Fatal(err)
	}
}

// RemoveFile removes name from the file-provider directory; an absent file is not an error.
func (p *Proxy) RemoveFile(t testing.TB, name string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := os.Remove(filepath.Join(p.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

// RouterInfo is what Traefik's API says about a router (GET /api/http/routers/NAME@file).
type RouterInfo struct {
	// Name is the qualified name, NAME@file.
	Name string `json:"name"`
	// Rule is the router's rule.
	Rule string `json:"rule"`
	// Service is the qualified service name.
	Service string `json:"service"`
	// Status is "enabled", "disabled" or "warning".
	Status string `json:"status"`
	// Error lists the problems Traefik found.
	Error []string `json:"error"`
	// Using lists the entry points the router is on.
	Using []string `json:"using"`
}

// ErrNoRouter is returned by [Proxy.Router] when Traefik does not know the router.
var ErrNoRouter = errors.New("ingresstest: no such router")

// Router returns Traefik's view of the file-provider router name, or an error wrapping
// [ErrNoRouter] if Traefik does not know it (yet).
func (p *Proxy) Router(name string) (RouterInfo, error) {
	var ri RouterInfo
	resp, err := http.Get("http://" + p.Internal + "/api/http/routers/" + url.PathEscape(name+"@file"))
	if err != nil {
		return ri, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return ri, fmt.Errorf("%w: %s", ErrNoRouter, name)
	}
	if resp.StatusCode != http.StatusOK {
		return ri, fmt.Errorf("ingresstest: router %s: %s: %s", name, resp.Status, body)
	}
	if err := json.Unmarshal(body, &ri); err != nil {
		return ri, fmt.Errorf("ingresstest: router %s: %w", name, err)
	}
	return ri, nil
}

// WaitRouter waits until Traefik knows router name and returns its info.
func (p *Proxy) WaitRouter(t testing.TB, name string, timeout time.Duration) RouterInfo {
	t.Helper()
	var ri RouterInfo
	testutil.Eventually(t, timeout, func() error {
		var err error
		ri, err = p.Router(name)
		return err
	})
	return ri
}

// Request describes a request sent through an entry point with [Proxy.Do].
type Request struct {
	// Method defaults to GET.
	Method string
	// Host is the Host header (and TLS server name); "" means the entry point address.
	Host string
	// Path defaults to "/"; it may carry a query.
	Path string
	// Header is added to the request.
	Header http.Header
	// Secure sends it to websecure over TLS (certificate not verified) instead of web.
	Secure bool
	// LocalAddr, when set, is the source IP the connection is made from (any 127.x.y.z).
	LocalAddr string
	// Timeout defaults to 5s.
	Timeout time.Duration
}

// Response is the answer to a [Request]; redirects are not followed.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the whole body.
	Body []byte
}

// Echo decodes the body as the JSON an [Echo] backend answers.
func (r *Response) Echo() (Echoed, error) {
	var e Echoed
	err := json.Unmarshal(r.Body, &e)
	return e, err
}

// Do sends one request through an entry point on a new connection.
func (p *Proxy) Do(req Request) (*Response, error) {
	addr := p.Web
	scheme := "http"
	if req.Secure {
		addr, scheme = p.WebSecure, "https"
	}
	path := req.Path
	if path == "" {
		path = "/"
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	d := &net.Dialer{Timeout: timeout}
	if req.LocalAddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(req.LocalAddr)}
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
		TLSClientConfig:   insecureTLS(req.Host),
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hreq, err := http.NewRequest(method, scheme+"://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if req.Host != "" {
		hreq.Host = req.Host
	}
	resp, err := c.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Get is [Proxy.Do] of a GET for host and path on web that fails the test on a transport error.
func (p *Proxy) Get(t testing.TB, host, path string) *Response {
	t.Helper()
	r, err := p.Do(Request{Host: host, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// WaitStatus sends req until the answer has status want, and returns that answer. It is how a
// test waits for a route change to be served.
func (p *Proxy) WaitStatus(t testing.TB, req Request, want int, timeout time.Duration) *Response {
	t.Helper()
	r, err := p.PollStatus(t.Context(), req, want, timeout, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("ingresstest: %s%s never answered %d: %v", req.Host, req.Path, want, err)
	}
	return r
}

// PollStatus sends req every interval until the answer has status want (it returns that
// answer), timeout passes or ctx ends (it returns the last problem).
func (p *Proxy) PollStatus(ctx context.Context, req Request, want int, timeout, interval time.Duration) (*Response, error) {
	var last *Response
	err := testutil.Poll(ctx, timeout, interval, func() error {
		r, err := p.Do(req)
		if err != nil {
			return err
		}
		last = r
		if r.Status != want {
			return fmt.Errorf("status %d: %s", r.Status, bytes.TrimSpace(r.Body))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return last, nil
}
