package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// idLayout formats snapshot IDs: UTC, sortable as text, millisecond resolution.
const idLayout = "20060102T150405.000Z"

// SnapshotInfo identifies a snapshot found on the remote, from its manifest's name alone.
type SnapshotInfo struct {
	// Host and Set name the set.
	Host string `json:"host"`
	Set  string `json:"set"`
	// ID is the snapshot's UTC start time as "20060102T150405.000Z".
	ID string `json:"id"`
	// Time is ID parsed.
	Time time.Time `json:"time"`
}

// Ref names a snapshot: Host ("" means the client's host), Set, and ID ("" or "latest" means
// the newest snapshot).
type Ref struct {
	Host string
	Set  string
	ID   string
	// FallBack lets "latest" resolve to the newest manifest that decodes when newer ones are
	// damaged (each skipped one is logged). Without it, a damaged newest manifest is an
	// [ErrCorrupt] naming it: a restore never silently goes back in time.
	FallBack bool
}

// List returns the snapshots of host and set ("" host means the client's; "" set means all of
// the host's sets), oldest first. It reads only the listing, so a manifest cut short by an
// interrupted upload on a remote without atomic uploads is listed until [Client.Manifest]
// refuses it; the latest snapshot is always chosen among manifests that decode.
func (c *Client) List(ctx context.Context, host, set string) ([]SnapshotInfo, error) {
	if host == "" {
		host = c.cfg.Host
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	dir := "snapshots/" + host
	if set != "" {
		dir = snapDir(host, set)
	}
	objs, err := listObjects(rcloneCtx(ctx), f, dir)
	if err != nil {
		return nil, err
	}
	var out []SnapshotInfo
	for remote := range objs {
		rest, ok := strings.CutPrefix(remote, "snapshots/")
		if !ok || !strings.HasSuffix(rest, manifestSuffix()) {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(rest, manifestSuffix()), "/")
		if len(parts) != 3 {
			continue
		}
		t, err := time.Parse(idLayout, parts[2])
		if err != nil {
			continue
		}
		out = append(out, SnapshotInfo{Host: parts[0], Set: parts[1], ID: parts[2], Time: t})
	}
	slices.SortFunc(out, func(a, b SnapshotInfo) int {
		if c := strings.Compare(a.Set, b.Set); c != 0 {
			return c
		}
		return a.Time.Compare(b.Time)
	})
	return out, nil
}

// Manifest reads and decodes the manifest of ref. With an empty or "latest" ID it is the newest
// manifest of the set; when that one does not decode the result is an [ErrCorrupt] naming it,
// unless ref.FallBack takes the newest one that does. An absent snapshot (a set with none)
// gives [ErrSnapshotNotFound]; a set whose manifests are all damaged, [ErrCorrupt].
func (c *Client) Manifest(ctx context.Context, ref Ref) (*Manifest, error) {
	if ref.Host == "" {
		ref.Host = c.cfg.Host
	}
	if !nameRE.MatchString(ref.Set) || !nameRE.MatchString(ref.Host) {
		return nil, fmt.Errorf("backup: snapshot %s/%s: bad host or set name: %w", ref.Host, ref.Set, webinfra.ErrInvalidArgument)
	}
	if ref.ID != "" && ref.ID != "latest" {
		if _, err := time.Parse(idLayout, ref.ID); err != nil {
			return nil, fmt.Errorf("backup: snapshot id %q: want %s: %w", ref.ID, idLayout, webinfra.ErrInvalidArgument)
		}
		return c.readManifest(ctx, ref.Host, ref.Set, ref.ID)
	}
	snaps, err := c.List(ctx, ref.Host, ref.Set)
	if err != nil {
		return nil, err
	}
	var damaged []string
	for _, s := range slices.Backward(snaps) {
		m, err := c.readManifest(ctx, s.Host, s.Set, s.ID)
		if errors.Is(err, ErrCorrupt) {
			if !ref.FallBack {
				return nil, fmt.Errorf("backup: latest snapshot of %s/%s is damaged (FallBack takes an older one): %w", ref.Host, ref.Set, err)
			}
			c.log.Warn("backup: skipping damaged manifest", "host", s.Host, "set", s.Set, "id", s.ID, "err", err)
			damaged = append(damaged, s.ID)
			continue
		}
		return m, err
	}
	if len(damaged) > 0 {
		return nil, fmt.Errorf("backup: latest snapshot of %s/%s: every manifest is damaged (%s): %w", ref.Host, ref.Set, strings.Join(damaged, ", "), ErrCorrupt)
	}
	return nil, fmt.Errorf("backup: latest snapshot of %s/%s: %w", ref.Host, ref.Set, ErrSnapshotNotFound)
}

func (c *Client) readManifest(ctx context.Context, host, set, id string) (*Manifest, error) {
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	remote := path.Join(snapDir(host, set), id+manifestSuffix())
	data, err := readObject(rcloneCtx(ctx), f, remote, maxManifestBytes)
	if isNotFound(err) {
		return nil, fmt.Errorf("backup: snapshot %s/%s/%s: %w", host, set, id, ErrSnapshotNotFound)
	}
	if err != nil {
		return nil, err
	}
	m, err := DecodeManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("backup: snapshot %s/%s/%s: %w", host, set, id, err)
	}
	if m.Host != host || m.Set != set || m.Time.UTC().Format(idLayout) != id {
		return nil, fmt.Errorf("backup: snapshot %s/%s/%s: manifest names %s/%s/%s: %w", host, set, id, m.Host, m.Set, m.Time.UTC().Format(idLayout), ErrCorrupt)
	}
	return m, nil
}
