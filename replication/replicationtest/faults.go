package replicationtest

import (
	"net/http"
	"path"
	"strconv"
	"time"
)

// Fault makes matching requests fail. Faults are checked in the order added; the first that
// matches answers instead of the fake.
type Fault struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a path.Match pattern over the request path ("/rest/config/folders/*"); ""
	// matches any.
	Path string
	// Skip lets this many matching requests through before the fault starts.
	Skip int
	// Times is how many requests fail; 0 means every one after Skip.
	Times int
	// Status is the HTTP status to answer; 0 means 500.
	Status int
	// Body is the plain-text answer; "" means the status text.
	Body string
	// RetryAfter, if set, is sent as Retry-After (whole seconds, rounded up).
	RetryAfter time.Duration
	// Drop closes the connection without an answer instead, as a crashing instance does.
	Drop bool

	seen, fired int
}

// AddFault registers f.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// matchFault returns the fault answering this request, counting it; s.mu is held.
func (s *Server) matchFault(method, p string) *Fault {
	for _, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Path != "" {
			if ok, _ := path.Match(f.Path, p); !ok {
				continue
			}
		}
		f.seen++
		if f.seen <= f.Skip || (f.Times > 0 && f.fired >= f.Times) {
			continue
		}
		f.fired++
		c := *f
		return &c
	}
	return nil
}

func (f *Fault) write(w http.ResponseWriter) {
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	body := f.Body
	if body == "" {
		body = http.StatusText(status)
	}
	http.Error(w, body, status)
}
