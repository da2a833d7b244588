package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/webinfra/webinfra/internal/atomicfile"
)

// record is sandbox.json: everything a run made, written before each thing is made, so that
// --down can remove it after a crash of the run.
type record struct {
	// Pid and PidStart identify the running sandbox (its start time in clock ticks after boot,
	// so that a recycled pid is not mistaken for it).
	Pid      int    `json:"pid"`
	PidStart uint64 `json:"pidStart"`
	// Namespaces maps host names (a, b, c, fw, edge) to namespace names; Switch is the
	// namespace holding the bridge.
	Namespaces map[string]string `json:"namespaces"`
	Switch     string            `json:"switch,omitempty"`
	// Processes are the children started, by "host/program".
	Processes map[string]int `json:"processes"`
	// Active is the site's active writer and Replicas its other holders.
	Active   string   `json:"active"`
	Replicas []string `json:"replicas"`
	// Edge is the loopback address of the edge proxy; VIP the site's service address; Firewall
	// the firewall's public address.
	Edge     string `json:"edge,omitempty"`
	VIP      string `json:"vip"`
	Firewall string `json:"firewall,omitempty"`
	// Ready is set once everything is up.
	Ready bool `json:"ready"`
}

// recorder keeps sandbox.json up to date. Safe for concurrent use.
type recorder struct {
	path string
	mu   sync.Mutex
	rec  record
}

func (r *recorder) update(fn func(*record)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&r.rec)
	b, err := json.MarshalIndent(r.rec, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("record state: %w", err)
	}
	return nil
}

// readRecord reads sandbox.json; a missing file gives fs.ErrNotExist.
func readRecord(path string) (*record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rec, nil
}

// processStart returns a process's start time from /proc/PID/stat (field 22), or an error
// matching fs.ErrNotExist when the process is gone.
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether pid is still the process that started at start.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	got, err := processStart(pid)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return false
	}
	return got == start
}
