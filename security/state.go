package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/webinfra/webinfra/internal/atomicfile"
)

// RolloutState is what a rolling update records after every step, so that a rollout restarted
// after a crash resumes where the last one stopped. Keep it with the lock (a Lease's
// annotations, a ConfigMap beside it): whoever holds the lock owns the state.
type RolloutState struct {
	// ID names the rollout (e.g. "2026-w19"); a stored state with another ID is ignored, so a new
	// rollout starts from scratch.
	ID string `json:"id"`
	// Done lists the nodes updated, in order.
	Done []string `json:"done"`
	// InProgress maps nodes taken out of service to how far their update got.
	InProgress map[string]NodeProgress `json:"in_progress,omitempty"`
	// Failed records the failure that stopped the last run, if any.
	Failed *NodeFailure `json:"failed,omitempty"`
}

// NodeProgress is how far one node's update got.
type NodeProgress struct {
	// Step is the last step started: "cordon", "drain", "upgrade", "reboot", "ready", "uncordon".
	Step string `json:"step"`
	// UpgradeActivity and RebootActivity are the Landscape activities started, so a resumed
	// rollout waits for them instead of starting new ones; 0 when none.
	UpgradeActivity int `json:"upgrade_activity,omitempty"`
	RebootActivity  int `json:"reboot_activity,omitempty"`
}

// NodeFailure is the failure that stopped a rollout.
type NodeFailure struct {
	Node  string `json:"node"`
	Step  string `json:"step"`
	Error string `json:"error"`
}

func (s RolloutState) clone() RolloutState {
	s.Done = slices.Clone(s.Done)
	s.InProgress = maps.Clone(s.InProgress)
	if s.Failed != nil {
		f := *s.Failed
		s.Failed = &f
	}
	return s
}

// StateStore keeps a [RolloutState]. Load of a store never saved returns the zero state and no
// error. Implementations are safe for concurrent use.
type StateStore interface {
	Load(ctx context.Context) (RolloutState, error)
	Save(ctx context.Context, s RolloutState) error
}

// MemoryStateStore keeps the state in memory (tests, single-process use). The zero value is
// ready.
type MemoryStateStore struct {
	mu    sync.Mutex
	state RolloutState
	saves int
}

// Load implements [StateStore].
func (m *MemoryStateStore) Load(context.Context) (RolloutState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone(), nil
}

// Save implements [StateStore].
func (m *MemoryStateStore) Save(_ context.Context, s RolloutState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = s.clone()
	m.saves++
	return nil
}

// Saves counts the saves so far.
func (m *MemoryStateStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// FileStateStore keeps the state as JSON in a file, replaced atomically (0600).
type FileStateStore struct {
	// Path is the file; its directory must exist.
	Path string
}

// Load implements [StateStore]; a missing file is the zero state.
func (f FileStateStore) Load(context.Context) (RolloutState, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return RolloutState{}, nil
	}
	if err != nil {
		return RolloutState{}, fmt.Errorf("security: load rollout state: %w", err)
	}
	var s RolloutState
	if err := json.Unmarshal(data, &s); err != nil {
		return RolloutState{}, fmt.Errorf("security: load rollout state %s: %w", f.Path, err)
	}
	return s, nil
}

// Save implements [StateStore].
func (f FileStateStore) Save(_ context.Context, s RolloutState) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.Path, append(data, '\n'), 0o600)
}
