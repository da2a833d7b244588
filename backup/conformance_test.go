package backup_test

import (
	"testing"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup/backuptest"
)

func TestConformanceLocal(t *testing.T) {
	backuptest.RunConformance(t, backuptest.LocalHarness{})
}

func TestConformanceFakeGCS(t *testing.T) {
	backuptest.RunConformance(t, &backuptest.GCSHarness{GCS: backuptest.StartGCS(t)})
}

func TestConformanceLocalEncrypted(t *testing.T) {
	backuptest.RunConformance(t, backuptest.LocalHarness{Key: webinfra.NewSecret("conformance key, local")})
}

func TestConformanceFakeGCSEncrypted(t *testing.T) {
	backuptest.RunConformance(t, &backuptest.GCSHarness{GCS: backuptest.StartGCS(t), Key: webinfra.NewSecret("conformance key, gcs")})
}
