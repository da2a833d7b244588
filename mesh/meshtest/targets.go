// Package meshtest helps test code that uses package mesh: in-memory targets with injectable
// write failures, a daemon that records what it was asked, and [Start], which runs a real tinc
// mesh of tincd daemons in network namespaces on this machine.
package meshtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/webinfra/webinfra/mesh"
)

// Targets is an in-memory [mesh.Targets]: one map of files per node. Reads and writes copy, so
// callers never share buffers with it. The zero value is ready to use; safe for concurrent use.
type Targets struct {
	// FailWrite, if set, is called before every Write with the node name and the number of
	// Writes so far across all nodes (1 for the first); a non-nil result fails that Write
	// before it changes anything.
	FailWrite func(node string, call int) error

	mu     sync.Mutex
	files  map[string]map[string]mesh.File
	writes int
}

var _ mesh.Targets = (*Targets)(nil)

// Target implements [mesh.Targets].
func (ts *Targets) Target(node string) mesh.Target { return memTarget{ts, node} }

// Nodes implements [mesh.Targets]: the nodes holding a tinc.conf or a pending marker.
func (ts *Targets) Nodes(context.Context) ([]string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []string
	for node, files := range ts.files {
		for p := range files {
			if p == mesh.FileTincConf || strings.HasPrefix(p, ".") {
				out = append(out, node)
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Files returns a copy of a node's files, by path.
func (ts *Targets) Files(node string) map[string]mesh.File {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := map[string]mesh.File{}
	for p, f := range ts.files[node] {
		out[p] = copyFile(f)
	}
	return out
}

// File returns a copy of one file and whether it exists.
func (ts *Targets) File(node, path string) (mesh.File, bool) {
	f, ok := ts.Files(node)[path]
	return f, ok
}

// Put stores files for a node directly, as if an operator had written them.
func (ts *Targets) Put(node string, files ...mesh.File) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.put(node, files)
}

// Writes returns the number of Write calls so far, failed ones included.
func (ts *Targets) Writes() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.writes
}

func (ts *Targets) put(node string, files []mesh.File) {
	if ts.files == nil {
		ts.files = map[string]map[string]mesh.File{}
	}
	if ts.files[node] == nil {
		ts.files[node] = map[string]mesh.File{}
	}
	for _, f := range files {
		ts.files[node][f.Path] = copyFile(f)
	}
}

type memTarget struct {
	ts   *Targets
	node string
}

func (t memTarget) Read(ctx context.Context) ([]mesh.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := t.ts.Files(t.node)
	out := make([]mesh.File, 0, len(files))
	for _, p := range slices.Sorted(maps.Keys(files)) {
		out = append(out, files[p])
	}
	return out, nil
}

func (t memTarget) Write(ctx context.Context, put []mesh.File, remove []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range slices.Concat(paths(put), remove) {
		if !mesh.Managed(p) {
			return fmt.Errorf("meshtest: write %q: not a managed path", p)
		}
	}
	t.ts.mu.Lock()
	defer t.ts.mu.Unlock()
	t.ts.writes++
	if t.ts.FailWrite != nil {
		if err := t.ts.FailWrite(t.node, t.ts.writes); err != nil {
			return err
		}
	}
	t.ts.put(t.node, put)
	for _, p := range remove {
		delete(t.ts.files[t.node], p)
	}
	return nil
}

func paths(files []mesh.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

func copyFile(f mesh.File) mesh.File {
	f.Data = slices.Clone(f.Data)
	return f
}
