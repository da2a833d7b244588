package security_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

// BenchmarkClamdVersusClamscanPerFile scans a tree of small files (10,000 by default;
// WEBINFRA_BENCH_FILES overrides) through clamd with 4 parallel INSTREAM sessions, and compares
// with the baseline of one clamscan process per file. clamscan loads its database on every run,
// which is the cost measured; to keep one iteration short the baseline runs on a sample of
// WEBINFRA_BENCH_SAMPLE files (default 100) and is scaled to the tree size.
// Metrics: clamd-s (whole tree), clamscan-per-file-s-scaled, clamscan-sample-s (raw), and
// clamd/clamscan (the ratio; smaller is better for clamd).
func BenchmarkClamdVersusClamscanPerFile(b *testing.B) {
	clamscan := testbin.Require(b, "clamscan")
	files, sample := envInt("WEBINFRA_BENCH_FILES", 10000), envInt("WEBINFRA_BENCH_SAMPLE", 100)
	db := securitytest.WorldReadableDir(b)
	securitytest.SignatureDB(b, db, map[string][]byte{"Webinfra.Bench": infectedPayload})
	dbFile := filepath.Join(db, "webinfra.hdb")
	tree := b.TempDir()
	var paths []string
	for i := range files {
		dir := filepath.Join(tree, strconv.Itoa(i/500))
		if i%500 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("f%05d.html", i))
		content := fmt.Appendf(nil, "<p>page %d</p>\n", i)
		if i == files/2 {
			content = infectedPayload
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	d := securitytest.StartClamd(b, securitytest.ClamdOptions{DatabaseDir: db})
	c, err := security.NewClamd(security.ClamdConfig{Network: d.Network, Address: d.Address, Streams: 4})
	if err != nil {
		b.Fatal(err)
	}
	var clamdT, baseT time.Duration
	for b.Loop() {
		t0 := time.Now()
		for _, p := range paths[:sample] {
			out, err := exec.CommandContext(b.Context(), clamscan, "--no-summary", "-d", dbFile, p).CombinedOutput()
			if err != nil && p != paths[files/2] {
				b.Fatalf("clamscan %s: %v\n%s", p, err, out)
			}
		}
		t1 := time.Now()
		rep, err := c.Scan(b.Context(), []string{tree}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Scanned != files || len(rep.Findings) != 1 {
			b.Fatalf("clamd scanned %d files with %d findings", rep.Scanned, len(rep.Findings))
		}
		baseT += t1.Sub(t0)
		clamdT += time.Since(t1)
	}
	n := float64(b.N)
	scaled := baseT.Seconds() / n * float64(files) / float64(sample)
	b.ReportMetric(clamdT.Seconds()/n, "clamd-s")
	b.ReportMetric(baseT.Seconds()/n, "clamscan-sample-s")
	b.ReportMetric(scaled, "clamscan-per-file-s-scaled")
	b.ReportMetric(clamdT.Seconds()/n/scaled, "clamd/clamscan")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
