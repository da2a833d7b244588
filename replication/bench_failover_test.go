package replication_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
)

// BenchmarkFailoverReal measures Failover between two of three real syncthing instances when
// the old writer holds N = 50 fresh files (written, fsynced, not yet scanned), alternating the
// direction each iteration. Its baseline, measured in the same loop, is plain replication of
// 50 fresh files (scan the writer, poll until the other node has them), so failover/baseline
// is the cost of moving the writer on top of the sync it must wait for anyway.
func BenchmarkFailoverReal(b *testing.B) {
	const n = 50
	c := startRealCluster(b, "svc-bench", "a", "a", "b", "c")
	ctx, cl := b.Context(), c.clients()
	cur, other := "a", "b"
	seq := 0
	write := func(host string) {
		b.Helper()
		for range n {
			name := fmt.Sprintf("g-%06d.txt", seq)
			seq++
			if err := writeSynced(filepath.Join(c.dirs[host], name), []byte(name+"\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	var base, fail time.Duration
	for b.Loop() {
		write(cur)
		t0 := time.Now()
		if err := cl[cur].Scan(ctx, c.folder, ""); err != nil {
			b.Fatal(err)
		}
		last := filepath.Join(c.dirs[other], fmt.Sprintf("g-%06d.txt", seq-1))
		testutil.Eventually(b, time.Minute, func() error {
			// Completion alone can claim 100% before the other node has the new index, so the
			// baseline also waits for the last file on the other node's disk.
			if _, err := os.Stat(last); err != nil {
				return err
			}
			comp, err := cl[cur].Completion(ctx, c.folder, c.inst[other].DeviceID)
			if err != nil {
				return err
			}
			if comp.RemoteState != "valid" || comp.Completion < 100 || comp.NeedItems > 0 {
				return fmt.Errorf("completion %+v", comp)
			}
			return nil
		})
		base += time.Since(t0)

		write(cur)
		t1 := time.Now()
		if _, err := replication.Failover(ctx, cl, c.folder, cur, other, &replication.FailoverOptions{PollInterval: 20 * time.Millisecond}); err != nil {
			b.Fatal(err)
		}
		fail += time.Since(t1)
		cur, other = other, cur
	}
	b.ReportMetric(fail.Seconds()/float64(b.N), "failover-s/op")
	b.ReportMetric(base.Seconds()/float64(b.N), "sync50-s/op")
	b.ReportMetric(float64(fail)/float64(base), "failover/sync50")
}
