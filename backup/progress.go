package backup

import (
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a report on a running snapshot, restore or verify.
type Progress struct {
	// Phase is "snapshot", "restore" or "verify".
	Phase string
	// FilesDone and FilesTotal count files handled so far and in all; FilesTotal is known
	// once the tree has been walked (0 before).
	FilesDone, FilesTotal int64
	// BytesDone and BytesTotal count file bytes handled so far and in all. Unchanged files
	// count as done as soon as they are recognised.
	BytesDone, BytesTotal int64
	// Rate is BytesDone per second of Elapsed.
	Rate float64
	// ETA estimates the time left at the current rate; 0 when unknown or done.
	ETA time.Duration
	// Elapsed is the time since the phase started.
	Elapsed time.Duration
	// Done is true in the last report of a phase.
	Done bool
}

// tracker counts progress and reports it to the callback from one goroutine.
type tracker struct {
	phase                 string
	start                 time.Time
	files, bytes          atomic.Int64
	filesTotal, bytesTotl atomic.Int64
	fn                    func(Progress)
	stop                  chan struct{}
	wg                    sync.WaitGroup
	mu                    sync.Mutex // serialises callback calls
}

func (c *Client) startProgress(phase string) *tracker {
	t := &tracker{phase: phase, start: time.Now(), fn: c.cfg.Progress, stop: make(chan struct{})}
	if t.fn == nil {
		return t
	}
	t.wg.Go(func() {
		tick := time.NewTicker(c.cfg.ProgressInterval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.report(false)
			}
		}
	})
	return t
}

func (t *tracker) add(files, bytes int64) {
	t.files.Add(files)
	t.bytes.Add(bytes)
}

func (t *tracker) setTotal(files, bytes int64) {
	t.filesTotal.Store(files)
	t.bytesTotl.Store(bytes)
}

func (t *tracker) snapshot(done bool) Progress {
	p := Progress{
		Phase: t.phase, FilesDone: t.files.Load(), FilesTotal: t.filesTotal.Load(),
		BytesDone: t.bytes.Load(), BytesTotal: t.bytesTotl.Load(), Elapsed: time.Since(t.start), Done: done,
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.BytesDone) / s
	}
	if !done && p.Rate > 0 && p.BytesTotal > p.BytesDone {
		p.ETA = time.Duration(float64(p.BytesTotal-p.BytesDone) / p.Rate * float64(time.Second))
	}
	return p
}

func (t *tracker) report(done bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fn(t.snapshot(done))
}

// finish stops the ticker and sends the final report.
func (t *tracker) finish() Progress {
	if t.fn != nil {
		close(t.stop)
		t.wg.Wait()
		t.report(true)
	}
	return t.snapshot(true)
}
