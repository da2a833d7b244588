package backup_test

import (
	"testing"

	"github.com/webinfra/webinfra/backup/backuptest"
)

func TestConformanceLocal(t *testing.T) {
	backuptest.RunConformance(t, backuptest.LocalHarness{})
}

func TestConformanceFakeGCS(t *testing.T) {
	backuptest.RunConformance(t, &backuptest.GCSHarness{GCS: backuptest.StartGCS(t)})
}
