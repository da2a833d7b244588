package securitytest

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// EICAR is the standard antivirus test string; the stand-in odscan detects it.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// BuildOdscan builds the stand-in odscan (package securitytest/odscan) into a temporary
// directory and returns its path. It needs the go command, which every test run has.
func BuildOdscan(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "odscan")
	cmd := exec.Command("go", "build", "-o", out, "github.com/webinfra/webinfra/security/securitytest/odscan")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build stand-in odscan: %v\n%s", err, b)
	}
	return out
}
