package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/atomicfile"
	"github.com/webinfra/webinfra/mesh"
)

// lockFileName is the lock under --state that one applying deploy holds at a time.
const lockFileName = "deploy.lock"

// The crash test hook, read by this program only (never set it outside tests): with
// WEBINFRA_DEPLOY_CRASH_AT=N the process kills itself with SIGKILL at its Nth write under
// --state, at the point WEBINFRA_DEPLOY_CRASH_POINT names: "before-rename" (the default: the new
// content is complete in its temporary, the target is still the old one) or "after-rename"
// (the new content is in place, its directory not yet synced); "stop-after-rename" stops the
// process there with SIGSTOP instead, holding the lock, until a SIGCONT (for the test of two
// deploys at once). Writes are counted from 1 in
// the order they happen; the mesh writes its nodes in parallel, so which file is the Nth can
// differ between runs.
const (
	crashAtEnv    = "WEBINFRA_DEPLOY_CRASH_AT"
	crashPointEnv = "WEBINFRA_DEPLOY_CRASH_POINT"
)

// stateDir is the --state directory of one run: every file written under it goes through
// write (atomically, counted for the crash test hook).
type stateDir struct {
	root  string
	log   *slog.Logger
	hooks *atomicfile.Hooks
}

// newStateDir reads the crash test hook from the environment.
func newStateDir(root string, log *slog.Logger) (*stateDir, error) {
	s := &stateDir{root: root, log: log}
	at := os.Getenv(crashAtEnv)
	if at == "" {
		return s, nil
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%s=%q: want a write number from 1", crashAtEnv, at)
	}
	var writes atomic.Int64
	crash := func(p string) {
		if writes.Add(1) == n {
			log.Debug("crash test hook: killing the process", "write", n, "path", p)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	switch point := os.Getenv(crashPointEnv); point {
	case "stop-after-rename":
		s.hooks = &atomicfile.Hooks{AfterRename: func(p string) {
			if writes.Add(1) == n {
				log.Debug("crash test hook: stopping the process", "write", n, "path", p)
				_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
			}
		}}
	case "", "before-rename":
		s.hooks = &atomicfile.Hooks{BeforeRename: crash}
	case "after-rename":
		s.hooks = &atomicfile.Hooks{AfterRename: crash}
	default:
		return nil, fmt.Errorf("%s=%q: want before-rename, after-rename or stop-after-rename", crashPointEnv, point)
	}
	return s, nil
}

// writeFile replaces the file at path (under root) atomically with exactly mode perm, creating
// its directory with dirPerm.
func (s *stateDir) writeFile(p string, data []byte, perm, dirPerm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), dirPerm); err != nil {
		return err
	}
	if err := atomicfile.WriteFileHooks(p, data, perm, s.hooks); err != nil {
		return err
	}
	s.log.Debug("state file written", "path", p, "size", len(data))
	return nil
}

// writeDir creates the directory p holding exactly files, all at once (see
// [atomicfile.WriteDir]); files are 0600 and the directory 0700.
func (s *stateDir) writeDir(p string, files map[string][]byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteDir(p, files, 0o600, 0o700, s.hooks); err != nil {
		return err
	}
	s.log.Debug("state directory written", "path", p, "files", len(files))
	return nil
}

// removeTemps deletes the temporaries a killed run left under root. Only the holder of the
// lock may call it: another run's write in progress would lose its temporary.
func (s *stateDir) removeTemps() error {
	removed, err := atomicfile.RemoveTemps(s.root)
	for _, p := range removed {
		s.log.Info("removed a temporary left by an interrupted run", "path", p)
	}
	return err
}

// stateLock is the lock of a --state directory, held until the process ends or Close.
type stateLock struct{ f *os.File }

// lockState takes the lock file of root without waiting, creating root (0700) and the file.
// When another deploy holds it, the error names the lock file and, when it wrote it, the
// holder's PID. The holder writes its PID into the file; the file is never renamed or deleted,
// since a lock held on a replaced inode would lock nothing.
func lockState(root string) (*stateLock, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	p := filepath.Join(root, lockFileName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := "a process whose PID is not known yet"
		if data, rerr := os.ReadFile(p); rerr == nil {
			if pid, perr := strconv.Atoi(string(bytes.TrimSpace(data))); perr == nil {
				holder = fmt.Sprintf("PID %d", pid)
			}
		}
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("--state %s is in use: another deploy (%s) holds the lock file %s; wait for it to finish, or use another --state", root, holder, p)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := f.Truncate(0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return &stateLock{f: f}, nil
}

// Close releases the lock.
func (l *stateLock) Close() error { return l.f.Close() }

// meshTargets is mesh.Dir with every write made through the run's stateDir: the same layout,
// the same refusal of paths the mesh package does not manage.
type meshTargets struct {
	dir   mesh.Dir
	state *stateDir
}

var _ mesh.Targets = meshTargets{}

func (t meshTargets) Target(node string) mesh.Target {
	return meshTarget{Target: t.dir.Target(node), root: filepath.Join(t.dir.Root, node), state: t.state}
}

func (t meshTargets) Nodes(ctx context.Context) ([]string, error) { return t.dir.Nodes(ctx) }

// meshTarget reads as mesh.Dir's target does and writes through the stateDir.
type meshTarget struct {
	mesh.Target
	root  string
	state *stateDir
}

func (t meshTarget) Write(_ context.Context, put []mesh.File, remove []string) error {
	var paths []string
	for _, f := range put {
		paths = append(paths, f.Path)
	}
	for _, p := range slices.Concat(paths, remove) {
		if !mesh.Managed(p) || path.Clean(p) != p {
			return fmt.Errorf("mesh: write %q: %q is not a tinc file the mesh package manages: %w", t.root, p, webinfra.ErrInvalidArgument)
		}
	}
	for _, f := range put {
		if err := t.state.writeFile(filepath.Join(t.root, filepath.FromSlash(f.Path)), f.Data, f.Mode, 0o755); err != nil {
			return fmt.Errorf("mesh: %w", err)
		}
	}
	for _, p := range remove {
		full := filepath.Join(t.root, filepath.FromSlash(p))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("mesh: remove %q: %w", full, err)
		}
	}
	return nil
}

// keysFirst splits a mesh rollout in two: the nodes' private keys, then everything else. Applied
// in that order, no host file carries a public key whose private key is not kept yet, so a run
// killed in between never publishes a key the next run would have to replace.
func keysFirst(r *mesh.Rollout) (keys, rest *mesh.Rollout) {
	keys, rest = &mesh.Rollout{Network: r.Network}, &mesh.Rollout{Network: r.Network}
	for _, np := range r.Nodes {
		k, o := np, np
		k.Put, k.Remove, k.Action, k.Reason = nil, nil, mesh.ActionNone, ""
		o.Put = nil
		for _, f := range np.Put {
			if f.Path == mesh.FileRSAKey || f.Path == mesh.FileEd25519Key {
				k.Put = append(k.Put, f)
			} else {
				o.Put = append(o.Put, f)
			}
		}
		if len(k.Put) > 0 {
			keys.Nodes = append(keys.Nodes, k)
		}
		rest.Nodes = append(rest.Nodes, o)
	}
	return keys, rest
}
