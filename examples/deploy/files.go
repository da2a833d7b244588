package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/atomicfile"
)

// filePlan is the change of a directory of generated files (the ingress configuration under
// --state): files to write and files this program wrote before but no longer generates.
type filePlan struct {
	root   string
	kind   string
	put    map[string][]byte
	remove []string
	before map[string][]byte
	// secret files are written 0600 and their hashes never shown.
	secret bool
}

// planFiles compares the files under root with want (slash-separated relative paths), reading
// only.
func planFiles(root, kind string, want map[string][]byte) (*filePlan, error) {
	p := &filePlan{root: root, kind: kind, put: map[string][]byte{}, before: map[string][]byte{}}
	err := filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && full == root {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		if atomicfile.IsTemp(d.Name()) {
			return nil // an interrupted write's; the next applying run removes it
		}
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(full)
		p.before[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", kind, root, err)
	}
	for name, data := range want {
		if old, ok := p.before[name]; !ok || !bytes.Equal(old, data) {
			p.put[name] = data
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.before)) {
		if _, ok := want[name]; !ok {
			p.remove = append(p.remove, name)
		}
	}
	return p, nil
}

// Plan shows one change per file, its content as size and hash.
func (p *filePlan) Plan() webinfra.Plan {
	var out webinfra.Plan
	for _, name := range slices.Sorted(maps.Keys(p.put)) {
		c := webinfra.Change{Kind: p.kind, ID: name, Action: webinfra.Create, After: contentFields(p.put[name])}
		if p.secret {
			c.Sensitive = []string{"sha256"}
		}
		if old, ok := p.before[name]; ok {
			c.Action, c.Before = webinfra.Update, contentFields(old)
		}
		out.Add(c)
	}
	for _, name := range p.remove {
		c := webinfra.Change{Kind: p.kind, ID: name, Action: webinfra.Delete, Before: contentFields(p.before[name])}
		if p.secret {
			c.Sensitive = []string{"sha256"}
		}
		out.Add(c)
	}
	return out
}

func contentFields(data []byte) webinfra.Fields {
	sum := sha256.Sum256(data)
	return webinfra.Fields{"size": len(data), "sha256": hex.EncodeToString(sum[:8])}
}

// applyFiles writes each file atomically and removes the stale ones; a re-run after a failure
// finishes the job.
func (s *stateDir) applyFiles(_ context.Context, p *filePlan) error {
	for _, name := range slices.Sorted(maps.Keys(p.put)) {
		full := filepath.Join(p.root, filepath.FromSlash(name))
		dirMode, mode := fs.FileMode(0o755), fs.FileMode(0o644)
		if p.secret {
			dirMode, mode = 0o700, 0o600
		}
		if err := s.writeFile(full, p.put[name], mode, dirMode); err != nil {
			return err
		}
	}
	for _, name := range p.remove {
		if err := os.Remove(filepath.Join(p.root, filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
