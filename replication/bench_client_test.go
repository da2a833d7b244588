package replication_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// benchState is a node with 4 peers and 8 folders, each shared with two peers.
func benchState(self string, dir string) replication.NodeState {
	s := replication.NodeState{DeviceID: self}
	for i := range 4 {
		s.Devices = append(s.Devices, replication.DeviceState{ID: replicationtest.DeviceIDFromSeed(fmt.Sprint("peer", i)), Name: fmt.Sprint("n", i),
			Addresses: []string{fmt.Sprintf("tcp://10.88.1.%d:22000", 21+i)}})
	}
	for i := range 8 {
		s.Folders = append(s.Folders, replication.FolderState{ID: fmt.Sprint("svc-", i), Path: filepath.Join(dir, fmt.Sprint("svc-", i)),
			Devices: []string{s.Devices[i%4].ID, s.Devices[(i+1)%4].ID}})
	}
	return s
}

// naiveApply is the baseline: one GET per object, then a PUT of the whole object.
func naiveApply(ctx context.Context, c *replication.Client, s replication.NodeState) error {
	for _, d := range s.Devices {
		if _, err := c.Device(ctx, d.ID); err != nil && !errors.Is(err, webinfra.ErrNotFound) {
			return err
		}
		if err := c.PutDevice(ctx, replication.Device{DeviceID: d.ID, Name: replication.ManagedPrefix + d.Name, Addresses: d.Addresses, Compression: "metadata"}); err != nil {
			return err
		}
	}
	for _, f := range s.Folders {
		if _, err := c.Folder(ctx, f.ID); err != nil && !errors.Is(err, webinfra.ErrNotFound) {
			return err
		}
		devs := []replication.FolderDevice{{DeviceID: s.DeviceID}}
		for _, id := range f.Devices {
			devs = append(devs, replication.FolderDevice{DeviceID: id})
		}
		if err := c.PutFolder(ctx, replication.Folder{ID: f.ID, Label: replication.ManagedPrefix + f.ID, Path: f.Path, Type: replication.SendReceive,
			Devices: devs, RescanIntervalS: 3600, FSWatcherEnabled: true, FSWatcherDelayS: 10,
			SyncOwnership: true, SendOwnership: true, SyncXattrs: true, SendXattrs: true}); err != nil {
			return err
		}
	}
	return nil
}

func planApply(ctx context.Context, c *replication.Client, s replication.NodeState) error {
	p, err := replication.PlanNode(ctx, c, s)
	if err != nil {
		return err
	}
	return replication.ApplyNode(ctx, c, p)
}

// BenchmarkApplyNodeCalls counts the REST calls of one node's apply against the fake, from
// scratch and when nothing changed, next to the naive baseline measured in the same loop.
func BenchmarkApplyNodeCalls(b *testing.B) {
	for _, fresh := range []bool{true, false} {
		name := "NoChange"
		if fresh {
			name = "FromScratch"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			setup := func() (*replicationtest.Server, *replication.Client, replication.NodeState) {
				srv := replicationtest.NewServer()
				c, err := replication.New(srv.Config())
				if err != nil {
					b.Fatal(err)
				}
				s := benchState(srv.DeviceID(), b.TempDir())
				if !fresh {
					if err := planApply(ctx, c, s); err != nil {
						b.Fatal(err)
					}
				}
				return srv, c, s
			}
			candSrv, cand, s := setup()
			baseSrv, base, _ := setup()
			defer candSrv.Close()
			defer baseSrv.Close()
			var candCalls, baseCalls int
			var candTime, baseTime time.Duration
			for b.Loop() {
				if fresh {
					b.StopTimer()
					candSrv.Close()
					baseSrv.Close()
					candSrv, cand, s = setup()
					baseSrv, base, _ = setup()
					b.StartTimer()
				}
				candSrv.ResetCalls()
				baseSrv.ResetCalls()
				t0 := time.Now()
				if err := naiveApply(ctx, base, s); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := planApply(ctx, cand, s); err != nil {
					b.Fatal(err)
				}
				candTime += time.Since(t1)
				baseTime += t1.Sub(t0)
				candCalls += len(candSrv.Calls())
				baseCalls += len(baseSrv.Calls())
			}
			n := float64(b.N)
			b.ReportMetric(float64(candCalls)/n, "calls/op")
			b.ReportMetric(float64(baseCalls)/n, "naive-calls/op")
			b.ReportMetric(float64(candCalls)/float64(baseCalls), "calls-cand/base")
			b.ReportMetric(float64(candTime)/float64(baseTime), "time-cand/base")
		})
	}
}
