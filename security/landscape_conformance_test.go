package security_test

import (
	"testing"

	"github.com/webinfra/webinfra/security/securitytest"
)

type fakeLandscape struct{}

func (fakeLandscape) NewLandscape(t *testing.T) securitytest.LandscapeTarget {
	srv := securitytest.StartLandscape(t)
	id := srv.AddComputer(securitytest.FakeComputer{Hostname: "node-1"})
	srv.AddScript(7, "true")
	return securitytest.LandscapeTarget{Config: srv.Config(), ScriptID: 7, ScriptUnknown: 8, ComputerID: id}
}

func TestLandscapeConformanceFake(t *testing.T) {
	securitytest.RunLandscapeConformance(t, fakeLandscape{})
}
