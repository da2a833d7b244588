package replication_test

import (
	"testing"

	"github.com/webinfra/webinfra/replication/replicationtest"
)

type fakeHarness struct{}

func (fakeHarness) New(t *testing.T) replicationtest.Target {
	srv := replicationtest.Start(t)
	return replicationtest.Target{BaseURL: srv.URL(), APIKey: srv.APIKey(), DeviceID: srv.DeviceID(), Dir: t.TempDir(), Faults: srv}
}

func (fakeHarness) Caps() replicationtest.Caps { return replicationtest.Caps{Faults: true} }

func TestConformanceFake(t *testing.T) {
	replicationtest.RunConformance(t, fakeHarness{})
}

// realHarness starts a fresh syncthing per subtest (about 1s each).
type realHarness struct{}

func (realHarness) New(t *testing.T) replicationtest.Target {
	in := replicationtest.StartSyncthing(t, replicationtest.Options{Name: "conformance"})
	return replicationtest.Target{BaseURL: in.BaseURL, APIKey: in.APIKey, DeviceID: in.DeviceID, Dir: t.TempDir()}
}

func (realHarness) Caps() replicationtest.Caps { return replicationtest.Caps{} }

// TestConformanceReal runs the suite against the real syncthing from .testbin: skipped when it
// is missing, failed under CI=true.
func TestConformanceReal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the real syncthing suite takes about 30s")
	}
	replicationtest.RunConformance(t, realHarness{})
}
