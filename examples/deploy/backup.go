package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/replication"
)

// backupPolicies are the backup policy of every worker that is the primary of a data folder:
// the primary holds the writer's copy, so each folder is snapshotted once, from there, under
// the stack's schedule and retention.
func backupPolicies(st *stack.Stack, placed replication.Placement, remote string) (map[string]backup.Policy, error) {
	paths := map[string]string{}
	for _, site := range st.Sites {
		for _, d := range site.Data {
			paths[d.Name] = d.Path
		}
	}
	out := map[string]backup.Policy{}
	for _, folder := range slices.Sorted(maps.Keys(placed)) {
		node := placed.Primary(folder)
		p := out[node]
		p.Remote, p.Schedule = remote, "@every "+st.Backup.Every
		p.Encryption = st.Backup.Encryption
		if p.Encryption != backup.EncryptionNone {
			p.Key = webinfra.NewSecret(os.Getenv("BACKUP_KEY"))
		}
		k := st.Backup.Keep
		p.Retention = backup.Retention{Last: k.Last, Hourly: k.Hourly, Daily: k.Daily, Weekly: k.Weekly, Monthly: k.Monthly, Yearly: k.Yearly}
		p.Sets = append(p.Sets, backup.Set{Name: folder, Paths: []string{paths[folder]}})
		out[node] = p
	}
	var errs webinfra.ValidationError
	for _, node := range slices.Sorted(maps.Keys(out)) {
		pol := out[node]
		if pol.Key.IsZero() && pol.Encryption != backup.EncryptionNone {
			// The key comes from the environment, not the stack: say where it goes, once
			// (the same entry for every node is merged), and check the rest of the policy.
			errs.Add(webinfra.NewPath("backup").Child("encryption"), nil,
				`backups are encrypted: set BACKUP_KEY to the key, or say encryption: none`)
			pol.Encryption = backup.EncryptionNone
		}
		errs.Merge(webinfra.NewPath("backup").Key(node), pol.Validate())
	}
	return out, errs.Err()
}

// backupRemote returns the stack's remote, for real when it is on Google Cloud Storage and
// GOOGLE_APPLICATION_CREDENTIALS is set (rclone reads it with env_auth), and otherwise the same
// bucket and prefix on a built-in simulated Google Cloud Storage.
func backupRemote(remote string) (string, service, func(), error) {
	const gcs = ":googlecloudstorage"
	rest, isGCS := strings.CutPrefix(remote, gcs)
	if creds := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); isGCS && creds != "" {
		return gcs + ",env_auth=true" + rest, service{name: "Google Cloud Storage", detail: "GOOGLE_APPLICATION_CREDENTIALS=" + creds}, func() {}, nil
	}
	if !isGCS {
		return remote, service{name: "rclone remote", detail: backup.RedactRemote(remote)}, func() {}, nil
	}
	// ":googlecloudstorage[,options]:bucket/prefix"
	_, target, _ := strings.Cut(rest, ":")
	bucket, prefix, _ := strings.Cut(target, "/")
	fake, err := backuptest.NewGCS(bucket)
	if err != nil {
		return "", service{}, nil, err
	}
	return fake.Remote(prefix), service{name: "Google Cloud Storage", simulated: true, detail: "set GOOGLE_APPLICATION_CREDENTIALS for the real one"}, fake.Close, nil
}

// backupStep plans each node's backup policy, after checking that the remote answers.
func backupStep(st *stack.Stack, sd *stateDir) (step, func(), error) {
	state := sd.root
	if st.Backup == nil {
		return nil, func() {}, nil
	}
	placed, err := placeData(st)
	if err != nil {
		return nil, nil, err
	}
	remote, svc, closeRemote, err := backupRemote(st.Backup.Remote)
	if err != nil {
		return nil, nil, err
	}
	// The plan shows the stack's remote, not the simulated stand-in's address.
	shown, err := backupPolicies(st, placed, st.Backup.Remote)
	if err != nil {
		closeRemote()
		return nil, nil, err
	}
	// This client only checks that the remote answers (a listing of its root): it reads no
	// snapshot, so it needs no key, whatever the policies' encryption.
	client, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "deploy", Logger: sd.log})
	if err != nil {
		closeRemote()
		return nil, nil, err
	}
	return &planner[*policyPlan]{
		name:  "backup",
		where: placement{concern: "backup", service: svc, node: firstWord},
		plan: func(ctx context.Context) (*policyPlan, error) {
			if err := client.Check(ctx); err != nil {
				return nil, err
			}
			want := map[string]any{}
			for node, p := range shown {
				for _, s := range p.Sets {
					want[node+" "+s.Name] = p.Fields(s)
				}
			}
			return planPolicies(filepath.Join(state, "policies", "backup.json"), "backup_policy", want)
		},
		apply: sd.applyPolicies,
	}, closeRemote, nil
}
