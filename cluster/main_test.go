package cluster_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/webinfra/webinfra/cluster/clustertest"
)

// controlPlane is shared by every test of the package: starting one takes seconds.
var controlPlane *clustertest.ControlPlane

func TestMain(m *testing.M) {
	controlPlane = clustertest.StartControlPlane()
	code := m.Run()
	if err := controlPlane.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop control plane:", err)
	}
	os.Exit(code)
}
