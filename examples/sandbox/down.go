package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/webinfra/webinfra/internal/netns"
)

// down removes what the run recorded in the state directory made. A sandbox that still runs is
// asked to stop (SIGTERM) and tears itself down; whatever a dead run left behind (processes in
// its namespaces, the namespaces, its files) is removed here. Running it again, or on a state
// directory without a record, changes nothing.
func down(ctx context.Context, state string, w io.Writer) error {
	l := layout(state)
	rec, err := readRecord(l.stateFile())
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "sandbox: nothing to remove: no %s\n", l.stateFile())
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Pid != os.Getpid() && alive(rec.Pid, rec.PidStart) {
		fmt.Fprintf(w, "sandbox: stopping the running sandbox (pid %d)\n", rec.Pid)
		if err := syscall.Kill(rec.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop pid %d: %w", rec.Pid, err)
		}
		if err := poll(ctx, 60*time.Second, func() error {
			if alive(rec.Pid, rec.PidStart) {
				return fmt.Errorf("pid %d still runs", rec.Pid)
			}
			return nil
		}); err != nil {
			return err
		}
		if rec, err = readRecord(l.stateFile()); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintln(w, "sandbox: it tore itself down")
			return nil
		} else if err != nil {
			return err
		}
	}
	var namespaces []string
	for _, h := range slices.Sorted(maps.Keys(rec.Namespaces)) {
		namespaces = append(namespaces, rec.Namespaces[h])
	}
	if rec.Switch != "" {
		namespaces = append(namespaces, rec.Switch)
	}
	var errs []error
	killed := 0
	// Every process in the sandbox's namespaces is one of its daemons: the namespaces are its own.
	for _, ns := range namespaces {
		pids, err := netns.KillAll(ctx, ns)
		errs = append(errs, err)
		killed += len(pids)
	}
	errs = append(errs, poll(ctx, 10*time.Second, func() error {
		for _, ns := range namespaces {
			if pids, err := netns.Pids(ctx, ns); err != nil || len(pids) > 0 {
				return fmt.Errorf("processes left in %s: %v %v", ns, pids, err)
			}
		}
		return nil
	}))
	gone := 0
	for _, ns := range namespaces {
		if netns.Exists(ns) {
			gone++
		}
	}
	errs = append(errs, netns.Delete(ctx, namespaces...))
	errs = append(errs, removeMade(l))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "sandbox: stopped %d processes, deleted %d namespaces, removed the files under %s\n", killed, gone, state)
	return nil
}
