package replicationtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/retry"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
)

// Options configure [StartSyncthing]; the zero value is ready to use.
type Options struct {
	// Name is the instance's device name, shown in logs; "" means "st".
	Name string
	// Home is the Syncthing home directory; "" means a fresh t.TempDir().
	Home string
}

// Instance is a real syncthing process started by [StartSyncthing].
type Instance struct {
	// Name is Options.Name.
	Name string
	// Client talks to the instance's REST API.
	Client *replication.Client
	// DeviceID is the instance's own device ID.
	DeviceID string
	// ListenAddress is the sync protocol listener, "tcp://127.0.0.1:PORT".
	ListenAddress string
	// BaseURL is the REST/GUI address, "http://127.0.0.1:PORT".
	BaseURL string
	// APIKey is the REST API key.
	APIKey webinfra.Secret
	// Home is the Syncthing home directory (config.xml, keys, database).
	Home string

	cmd  *exec.Cmd
	logs *tailBuffer
	done chan struct{}
}

// StartSyncthing runs the syncthing from .testbin on loopback, isolated: `syncthing generate`
// into a fresh home, config.xml edited before the first start (no global or local discovery,
// relays, NAT, usage or crash reporting, upgrades or browser; sync listener and GUI on free
// loopback ports; a known API key), then `syncthing serve` with STNOUPGRADE=1 STMONITORED=1
// STNORESTART=1. It waits for /rest/noauth/health (about 0.7s). The process is stopped by its
// PID (SIGTERM, then SIGKILL after 10s) in t.Cleanup, and the tail of its log is printed when
// the test failed. A missing binary skips the test, or fails it under CI=true.
func StartSyncthing(t testing.TB, opts Options) *Instance {
	t.Helper()
	bin := testbin.Require(t, "syncthing")
	if opts.Name == "" {
		opts.Name = "st"
	}
	home := opts.Home
	if home == "" {
		home = t.TempDir()
	}
	gen := exec.Command(bin, "generate", "--home", home, "--no-default-folder", "--skip-port-probing")
	gen.Env = syncthingEnv(home)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("syncthing generate: %v\n%s", err, out)
	}
	ports := testutil.FreePorts(t, 2)
	guiPort, syncPort := ports[0], ports[1]
	key := "webinfra-test-" + RandomDeviceID()[:7]
	listen := fmt.Sprintf("tcp://127.0.0.1:%d", syncPort)
	if err := editConfig(filepath.Join(home, "config.xml"), guiPort, listen, key); err != nil {
		t.Fatalf("edit config.xml: %v", err)
	}
	in := &Instance{Name: opts.Name, ListenAddress: listen, BaseURL: fmt.Sprintf("http://127.0.0.1:%d", guiPort),
		APIKey: webinfra.NewSecret(key), Home: home, logs: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	cmd := exec.Command(bin, "serve", "--home", home, "--no-browser", "--no-upgrade", "--logfile=-")
	cmd.Env = append(syncthingEnv(home), "STNOUPGRADE=1", "STMONITORED=1", "STNORESTART=1")
	cmd.Stdout, cmd.Stderr = in.logs, in.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start syncthing: %v", err)
	}
	in.cmd = cmd
	go func() { _ = cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		in.stop()
		if t.Failed() {
			t.Logf("syncthing %s (%s) log tail:\n%s", in.Name, in.BaseURL, in.logs.tail(60))
		}
	})
	c, err := replication.New(replication.Config{BaseURL: in.BaseURL, APIKey: in.APIKey,
		Retry: retry.Policy{Attempts: 3, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	in.Client = c
	ctx := t.Context()
	exited := false
	err = testutil.Poll(ctx, 30*time.Second, 50*time.Millisecond, func() error {
		select {
		case <-in.done:
			exited = true
			return nil
		default:
		}
		return c.Health(ctx)
	})
	if exited {
		t.Fatalf("syncthing %s exited at start: %v\n%s", in.Name, cmd.ProcessState, in.logs.tail(60))
	}
	if err != nil {
		t.Fatalf("syncthing %s did not become healthy: %v\n%s", in.Name, err, in.logs.tail(60))
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("syncthing %s status: %v", in.Name, err)
	}
	in.DeviceID = st.MyID
	return in
}

// syncthingEnv keeps the child away from the user's own Syncthing state.
func syncthingEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ST") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home)
}

// stop ends the process by its PID and waits for it.
func (in *Instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	select {
	case <-in.done:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.done
	}
}

// Log returns the tail of the instance's log (at most 64 KiB).
func (in *Instance) Log() string { return in.logs.tail(0) }

// Introduce makes every instance know every other one: each adds the others' devices, named
// after them and dialled at their static ListenAddress, with PUT /rest/config/devices/{id}.
func Introduce(t testing.TB, instances ...*Instance) {
	t.Helper()
	for _, a := range instances {
		for _, b := range instances {
			if a == b {
				continue
			}
			d, err := a.Client.DefaultDevice(t.Context())
			if err != nil {
				t.Fatalf("introduce %s to %s: %v", b.Name, a.Name, err)
			}
			d.DeviceID, d.Name, d.Addresses = b.DeviceID, b.Name, []string{b.ListenAddress}
			if err := a.Client.PutDevice(t.Context(), *d); err != nil {
				t.Fatalf("introduce %s to %s: %v", b.Name, a.Name, err)
			}
		}
	}
}

// editConfig applies the harness's settings to a freshly generated config.xml.
func editConfig(path string, guiPort int, listen, key string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
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
	set("listenAddress", listen)
	set("apikey", key)
	gui := regexp.MustCompile(`(<gui [^>]*>\s*<address>)[^<]*(</address>)`)
	if !gui.MatchString(s) {
		return fmt.Errorf("%s: no gui address", path)
	}
	s = gui.ReplaceAllString(s, fmt.Sprintf("${1}127.0.0.1:%d${2}", guiPort))
	return os.WriteFile(path, []byte(s), 0o600)
}

// tailBuffer keeps the last max bytes written to it; it is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

// tail returns the last n lines, or everything for n <= 0.
func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
