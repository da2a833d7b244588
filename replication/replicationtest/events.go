package replicationtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webinfra/webinfra/replication"
)

// maxEvents is how many events a subscription keeps, like Syncthing's buffered subscriptions.
const maxEvents = 1000

// subscription is one event filter's buffer, with its own ID sequence as in Syncthing.
type subscription struct {
	types  []string // nil: the default set
	events []replication.Event
	nextID int64
}

func (sub *subscription) wants(typ string) bool {
	if sub.types == nil {
		return typ != "LocalChangeDetected" && typ != "RemoteChangeDetected"
	}
	return slices.Contains(sub.types, typ)
}

// emit appends an event to every subscription that wants it and wakes the pollers.
func (s *Server) emit(typ string, data any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.globalID++
	now := time.Now().UTC()
	for _, sub := range s.subs {
		if !sub.wants(typ) {
			continue
		}
		sub.nextID++
		sub.events = append(sub.events, replication.Event{ID: sub.nextID, GlobalID: s.globalID, Type: typ, Time: now, Data: mustJSON(data)})
		if len(sub.events) > maxEvents {
			sub.events = sub.events[len(sub.events)-maxEvents:]
		}
	}
	if s.changed != nil {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// events serves GET /rest/events: since, timeout (seconds, default 60), limit (newest N) and
// events (a comma-separated filter whose subscription starts when first asked for).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	timeout := 60 * time.Second
	if n, err := strconv.Atoi(q.Get("timeout")); err == nil && n >= 0 {
		timeout = time.Duration(n) * time.Second
	}
	key := ""
	var types []string
	if f := q.Get("events"); f != "" {
		for _, t := range strings.Split(f, ",") {
			types = append(types, strings.TrimSpace(t))
		}
		slices.Sort(types)
		key = strings.Join(types, ",")
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		sub, ok := s.subs[key]
		if !ok {
			sub = &subscription{types: types}
			s.subs[key] = sub
		}
		var out []replication.Event
		for _, e := range sub.events {
			if e.ID > since {
				out = append(out, e)
			}
		}
		wake := s.changed
		s.mu.Unlock()
		if len(out) > 0 || wake == nil {
			if limit > 0 && limit < len(out) {
				out = out[len(out)-limit:]
			}
			writeJSON(w, out)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			writeJSON(w, []replication.Event{})
			return
		case <-r.Context().Done():
			return
		}
	}
}
