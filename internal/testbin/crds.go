package testbin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The upstream modules whose own CRD definitions the real Kubernetes tests install: MetalLB's
// and Traefik's, at the versions the ingress package renders for.
const (
	MetalLBModule = "go.universe.tf/metallb@v0.15.2"
	TraefikModule = "github.com/traefik/traefik/v3@v3.6.12"
	// traefikCRDFile is the file of TraefikModule holding every Traefik CRD.
	traefikCRDFile = "docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
)

// ModuleDir downloads a module (or finds it in the Go module cache) and returns its folder. It
// runs `go mod download` outside the webinfra module, so go.mod and go.sum stay untouched. When
// the go command or the module is unavailable it calls [Missing]: a skip locally, a failure
// under CI=true.
func ModuleDir(t testing.TB, module string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		Missing(t, "the go command is needed to fetch "+module+": "+err.Error())
	}
	cmd := exec.CommandContext(t.Context(), goBin, "mod", "download", "-json", module)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		Missing(t, fmt.Sprintf("go mod download %s: %v %s", module, err, info.Error))
	}
	return info.Dir
}

// UpstreamCRDs returns the paths of MetalLB's CRD folder and Traefik's CRD file, for
// envtest.Environment.CRDDirectoryPaths (or CRDInstallOptions.Paths).
func UpstreamCRDs(t testing.TB) []string {
	t.Helper()
	return []string{
		filepath.Join(ModuleDir(t, MetalLBModule), "config", "crd", "bases"),
		filepath.Join(ModuleDir(t, TraefikModule), traefikCRDFile),
	}
}
