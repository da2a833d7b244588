package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
)

// A snapshot to an in-process fake Google Cloud Storage, a second one that uploads nothing,
// a verify and a restore.
func Example() {
	gcs, err := backuptest.NewGCS("backups")
	if err != nil {
		panic(err)
	}
	defer gcs.Close()
	src, _ := os.MkdirTemp("", "example-src")
	defer os.RemoveAll(src)
	_ = os.WriteFile(filepath.Join(src, "index.html"), []byte("<h1>hi</h1>\n"), 0o644)
	_ = os.WriteFile(filepath.Join(src, "copy.html"), []byte("<h1>hi</h1>\n"), 0o600)

	c, err := backup.New(backup.Config{Remote: gcs.Remote("web"), Key: webinfra.NewSecret("correct horse battery staple"), Host: "web-1"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	set := backup.Set{Name: "www", Paths: []string{src}}
	first, err := c.Snapshot(ctx, set, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("first:", first.Files, "files,", first.Uploaded, "object uploaded")
	second, _ := c.Snapshot(ctx, set, nil)
	fmt.Println("second:", second.Uploaded, "uploaded,", second.Unchanged, "unchanged")
	rep, _ := c.Verify(ctx, backup.Ref{Set: "www"}, &backup.VerifyOptions{Full: true})
	fmt.Println("verify ok:", rep.OK())

	target, _ := os.MkdirTemp("", "example-restore")
	defer os.RemoveAll(target)
	_, err = c.Restore(ctx, backup.Ref{Set: "www"}, target, nil)
	if err != nil {
		panic(err)
	}
	fi, _ := os.Stat(filepath.Join(target, src, "copy.html"))
	fmt.Println("restored mode:", fi.Mode())
	// Output:
	// first: 2 files, 1 object uploaded
	// second: 0 uploaded, 2 unchanged
	// verify ok: true
	// restored mode: -rw-------
}

// Retention decided for a few snapshots, restic style.
func ExampleApplyRetention() {
	var snaps []backup.SnapshotInfo
	for _, id := range []string{"20260101T100000.000Z", "20260101T220000.000Z", "20260102T080000.000Z", "20260103T090000.000Z"} {
		s := backup.SnapshotInfo{Host: "h", Set: "s", ID: id}
		s.Time, _ = parseID(id)
		snaps = append(snaps, s)
	}
	for _, d := range backup.ApplyRetention(snaps, backup.Retention{Daily: 2}) {
		fmt.Println(d)
	}
	// Output:
	// keep   20260103T090000.000Z [daily newest]
	// keep   20260102T080000.000Z [daily]
	// remove 20260101T220000.000Z
	// remove 20260101T100000.000Z
}

// A policy as a stack file holds it, validated.
func ExamplePolicy_Validate() {
	p := backup.Policy{
		Remote:     ":googlecloudstorage,bucket_policy_only=true:backups/web",
		Encryption: backup.EncryptionNone,
		Schedule:   "@every 90s",
		Sets:       []backup.Set{{Name: "www", Paths: []string{"/srv/www/"}}},
	}
	fmt.Println(p.Validate())
	// Output:
	// sets[0].paths[0]: invalid value "/srv/www/": not clean (want /srv/www)
}
