// Package testbin lets a test find the real binaries it drives (tincd, syncthing, traefik,
// kube-apiserver, etcd, clamscan, ...). scripts/testbin.sh installs and builds them; built ones
// land in the repository's .testbin/bin, which is searched before PATH.
//
// A missing binary skips the test with a message saying how to get it, except under CI=true,
// where it fails the test: CI must prove the real components, never quietly skip them.
package testbin

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvDir names the environment variable that overrides where built binaries are looked up.
const EnvDir = "WEBINFRA_TESTBIN"

const modulePath = "github.com/webinfra/webinfra"

// InCI reports whether the tests run in CI (CI=true), where missing components are failures.
func InCI() bool { return os.Getenv("CI") == "true" }

// Dir returns the directory of built test binaries: $WEBINFRA_TESTBIN if set, otherwise
// .testbin/bin at the root of the webinfra module that holds the working directory. The directory
// may not exist yet.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return filepath.Abs(d)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".testbin", "bin"), nil
}

// moduleRoot walks up from the working directory to the go.mod declaring the webinfra module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isWebinfraModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testbin: no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

func isWebinfraModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == modulePath
		}
	}
	return false
}

// Find returns the path of the named binary: in [Dir] first, then in PATH.
func Find(name string) (string, error) {
	if dir, err := Dir(); err == nil {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("testbin: %s is neither in .testbin/bin nor in PATH (run scripts/testbin.sh to install it): %w", name, err)
	}
	return p, nil
}

// Require returns the path of the named binary, or stops the test: skipped locally, failed under
// CI=true.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := Find(name)
	if err != nil {
		Missing(t, err.Error())
	}
	return p
}

// RequireRoot stops the test unless it runs as root (network namespaces and chown need it):
// skipped locally, failed under CI=true.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "testbin: this test needs root (network namespaces, ownership); run the tests as root")
	}
}

// KubebuilderAssets returns the directory holding kube-apiserver and etcd together, the form
// controller-runtime's envtest wants in KUBEBUILDER_ASSETS, or stops the test as [Require] does.
func KubebuilderAssets(t testing.TB) string {
	t.Helper()
	api := Require(t, "kube-apiserver")
	dir := filepath.Dir(api)
	if _, err := os.Stat(filepath.Join(dir, "etcd")); err != nil {
		Missing(t, fmt.Sprintf("testbin: etcd is not beside %s (run scripts/testbin.sh)", api))
	}
	return dir
}

// Missing stops the test for a missing prerequisite: t.Skip locally, t.Fatal under CI=true.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: real components must not be skipped)", reason)
		return
	}
	t.Skip(reason)
}
