package securitytest

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/security"
)

// WorldReadableDir makes a fresh directory that other users can read and traverse (mode 0755),
// removed at cleanup: t.TempDir is 0700, which a clamd running as nobody cannot enter.
func WorldReadableDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "webinfra-clam-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// SignatureDB writes a ClamAV hash database (.hdb, lines "md5:size:Name") with one signature
// per entry of sigs (threat name → exact file content) into dir and returns its path. No
// official signatures are reachable offline; clamscan and clamd report matches as
// "Name.UNOFFICIAL".
func SignatureDB(t testing.TB, dir string, sigs map[string][]byte) string {
	t.Helper()
	names := make([]string, 0, len(sigs))
	for n := range sigs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		sum := md5.Sum(sigs[n])
		fmt.Fprintf(&b, "%s:%d:%s\n", hex.EncodeToString(sum[:]), len(sigs[n]), n)
	}
	p := filepath.Join(dir, "webinfra.hdb")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ClamdOptions configure [StartClamd].
type ClamdOptions struct {
	// DatabaseDir holds the signature databases (only those); required. With User set it must
	// be readable by that user (see [WorldReadableDir]).
	DatabaseDir string
	// User, if set, makes clamd drop to that user after start ("nobody"), so that it cannot read
	// files only root can: how the tests produce "Access denied" as root.
	User string
}

// Clamd is a running clamd.
type Clamd struct {
	// Network and Address are for security.ClamdConfig.
	Network, Address string
	cmd              *exec.Cmd
}

// StartClamd runs a real clamd (testbin "clamd") on a free loopback port with a generated
// clamd.conf, waits until it answers PING, and kills it (by PID) at cleanup. A missing clamd
// skips the test locally and fails it under CI=true.
func StartClamd(t testing.TB, opts ClamdOptions) *Clamd {
	t.Helper()
	bin := testbin.Require(t, "clamd")
	dir := WorldReadableDir(t)
	port := testutil.FreePorts(t, 1)[0]
	conf := []string{
		"Foreground yes", "TCPSocket " + strconv.Itoa(port), "TCPAddr 127.0.0.1",
		"DatabaseDirectory " + opts.DatabaseDir, "TemporaryDirectory " + dir,
		"LogFile " + filepath.Join(dir, "clamd.log"), "LogFileUnlock yes",
		"MaxThreads 8", "MaxConnectionQueueLength 64", "SelfCheck 0",
	}
	if opts.User != "" {
		conf = append(conf, "User "+opts.User)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	cf := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(cf, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cf)
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	c := &Clamd{Network: "tcp", Address: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	client, err := security.NewClamd(security.ClamdConfig{Network: c.Network, Address: c.Address, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = testutil.Poll(t.Context(), 60*time.Second, 100*time.Millisecond, func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("clamd exited: %v", err)
		default:
		}
		return client.Ping(t.Context())
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
		t.Fatalf("clamd did not answer: %v\n%s", err, log)
	}
	return c
}
