package webinfra_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/webinfra/webinfra"

// concerns lists the concern packages. Each may import the standard library, its upstream
// libraries, the root package and internal/ only: never another concern or its <pkg>test fake,
// so that every concern can be used, tested and replaced alone. A new concern is added here.
var concerns = []string{"cloudflare", "mesh", "cluster", "ingress", "replication", "backup", "mail", "security"}

// testOnly are packages that production code must not link: they belong in tests and fakes.
var testOnly = map[string]string{
	"testing":                     "production code must not link the testing package",
	module + "/internal/testbin":  "test helper",
	module + "/internal/testutil": "test helper",
	module + "/internal/netns":    "test harness",
}

type listed struct {
	ImportPath string
	Deps       []string
}

func goList(t *testing.T, patterns ...string) []listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json=ImportPath,Deps"}, patterns...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestConcernPackagesStayIndependent(t *testing.T) {
	var patterns []string
	for _, c := range concerns {
		patterns = append(patterns, "./"+c+"/...")
	}
	pkgs := goList(t, patterns...)

	// The rule cannot rot: every listed concern must still exist.
	var found []string
	for _, p := range pkgs {
		found = append(found, p.ImportPath)
	}
	for _, c := range concerns {
		require.Contains(t, found, module+"/"+c, "concern %q is listed but does not exist", c)
	}

	for _, p := range pkgs {
		own := concernOf(p.ImportPath)
		isFake := strings.HasSuffix(p.ImportPath, "/"+own+"test")
		for _, dep := range p.Deps {
			if other := concernOf(dep); other != "" && other != own {
				t.Errorf("%s imports %s: concern packages must not import each other (declare a small interface and compose in examples/)", p.ImportPath, dep)
			}
			if why, bad := testOnly[dep]; bad && !isFake {
				t.Errorf("%s imports %s: %s", p.ImportPath, dep, why)
			}
		}
	}
}

func TestRootPackageImportsNoConcern(t *testing.T) {
	for _, p := range goList(t, ".", "./internal/...") {
		for _, dep := range p.Deps {
			if c := concernOf(dep); c != "" {
				t.Errorf("%s imports concern %s: the root and internal/ hold shared vocabulary and mechanics only", p.ImportPath, dep)
			}
		}
	}
}

// concernOf returns the concern a package belongs to, or "".
func concernOf(importPath string) string {
	rest, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	if slices.Contains(concerns, first) {
		return first
	}
	return ""
}
