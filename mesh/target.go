package mesh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/atomicfile"
)

// Target is where one node's tinc directory lives: a local directory ([Dir]), a directory on a
// remote server, or a Kubernetes Secret mounted by a DaemonSet (Secret keys cannot hold '/', so
// such a target maps "hosts/NAME" to a key like "hosts.NAME" and back, and keeps each file's
// mode for the pod that copies the files into place). Implementations must be safe for
// concurrent use by different nodes' targets.
type Target interface {
	// Read returns the managed files present ([Managed] paths), in any order. A target that
	// does not exist yet has no files: that is not an error.
	Read(ctx context.Context) ([]File, error)
	// Write replaces each file of put and deletes each path of remove; removing an absent file
	// succeeds. Each file is replaced atomically (readers see the old or the new content), the
	// whole call need not be: a failed Write may have done part of its work, and a new Plan
	// sees what it did.
	Write(ctx context.Context, put []File, remove []string) error
}

// Targets finds the target of each node.
type Targets interface {
	// Target returns the target of the named node.
	Target(node string) Target
	// Nodes lists the nodes that have files at some target, so that [Manager.Plan] can clean up
	// nodes that left the network. Order does not matter.
	Nodes(ctx context.Context) ([]string, error)
}

// Managed reports whether a path is one the mesh package writes; targets refuse others, so a
// bug or a hostile plan cannot write outside a tinc directory.
func Managed(p string) bool {
	switch p {
	case FileTincConf, FileTincUp, FileTincDown, FileSubnetUp, FileSubnetDown, FileRSAKey, FileEd25519Key, filePendingState:
		return true
	}
	name, ok := strings.CutPrefix(p, hostsDir)
	return ok && tincName.MatchString(name)
}

// Dir is a local directory holding one directory per node, named after the node: the layout
// of /etc/tinc/NETNAME on a single machine, or of a staging area that is copied to the servers.
type Dir struct {
	// Root holds the node directories; it is created on the first write.
	Root string
}

var _ Targets = Dir{}

// Target returns the node's directory Root/NODE.
func (d Dir) Target(node string) Target { return dirTarget(filepath.Join(d.Root, node)) }

// Nodes lists the subdirectories of Root that hold a tinc.conf or a pending marker.
func (d Dir) Nodes(context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mesh: list nodes in %q: %w", d.Root, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for _, f := range []string{FileTincConf, filePendingState} {
			if _, err := os.Stat(filepath.Join(d.Root, e.Name(), f)); err == nil {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out, nil
}

// dirTarget is one node's directory.
type dirTarget string

// Read implements [Target].
func (d dirTarget) Read(context.Context) ([]File, error) {
	var out []File
	read := func(rel string) error {
		full := filepath.Join(string(d), filepath.FromSlash(rel))
		fi, err := os.Lstat(full)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%q is not a regular file", full)
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		out = append(out, File{Path: rel, Data: data, Mode: fi.Mode().Perm()})
		return nil
	}
	for _, f := range []string{FileTincConf, FileTincUp, FileTincDown, FileSubnetUp, FileSubnetDown, FileRSAKey, FileEd25519Key, filePendingState} {
		if err := read(f); err != nil {
			return nil, fmt.Errorf("mesh: read %q: %w", string(d), err)
		}
	}
	hosts, err := os.ReadDir(filepath.Join(string(d), hostsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("mesh: read %q: %w", string(d), err)
	}
	for _, h := range hosts {
		if rel := hostsDir + h.Name(); Managed(rel) {
			if err := read(rel); err != nil {
				return nil, fmt.Errorf("mesh: read %q: %w", string(d), err)
			}
		}
	}
	return out, nil
}

// Write implements [Target]: files go through internal/atomicfile (temp file, fsync, rename,
// directory fsync) with exactly their mode, whatever the umask.
func (d dirTarget) Write(_ context.Context, put []File, remove []string) error {
	for _, p := range slices.Concat(pathsOf(put), remove) {
		if !Managed(p) || path.Clean(p) != p {
			return fmt.Errorf("mesh: write %q: %q is not a tinc file this package manages: %w", string(d), p, webinfra.ErrInvalidArgument)
		}
	}
	for _, f := range put {
		full := filepath.Join(string(d), filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("mesh: write %q: %w", full, err)
		}
		if err := atomicfile.WriteFile(full, f.Data, f.Mode); err != nil {
			return fmt.Errorf("mesh: %w", err)
		}
	}
	for _, p := range remove {
		full := filepath.Join(string(d), filepath.FromSlash(p))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("mesh: remove %q: %w", full, err)
		}
	}
	return nil
}

func pathsOf(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}
