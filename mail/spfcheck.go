package mail

import (
	"cmp"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// RFC 7208 section 4.6.4: at most 10 terms that query DNS (include, a, mx, ptr, exists,
// redirect) in the whole evaluation, and at most 2 of those lookups may find nothing.
const (
	spfMaxLookups = 10
	spfMaxVoid    = 2
	spfMaxMX      = 10
)

// spfWalk follows a domain's SPF record and its includes, counting lookups as an evaluation
// would. Receivers evaluate lazily and may stop early, but a checker must assume every term is
// reached, as checkdmarc does.
type spfWalk struct {
	r       *report
	lookups int
	void    int
	visited []string // every domain whose record was read, for the Google include check
	stack   []string // the include chain being walked, for loop detection
}

func (r *report) checkSPF(domain string) {
	rec, ok := r.spfRecord(domain, domain, true)
	if !ok {
		return
	}
	w := &spfWalk{r: r}
	w.walk(domain, rec)
	if w.lookups > spfMaxLookups {
		r.add(Error, CodeSPFTooManyLookups, domain, "%d DNS lookups, over the limit of %d: receivers return permerror and SPF fails", w.lookups, spfMaxLookups)
	}
	if w.void > spfMaxVoid {
		r.add(Error, CodeSPFTooManyVoid, domain, "%d lookups find nothing, over the limit of %d: receivers return permerror", w.void, spfMaxVoid)
	}
	if !slices.Contains(w.visited, GoogleSPFInclude) {
		r.add(Warning, CodeSPFNoGoogle, domain, "no include:%s: mail sent through Google Workspace fails SPF", GoogleSPFInclude)
	}
	all, hasAll := rec.All()
	switch {
	case hasAll && (all.Qualifier == 0 || all.Qualifier == '+'):
		r.add(Error, CodeSPFPassAll, domain, `"+all" authorises every host on the Internet to send as the domain`)
	case hasAll && all.Qualifier == '?':
		r.add(Warning, CodeSPFWeakAll, domain, `"?all" is neutral: it does not ask receivers to reject anything`)
	case !hasAll && rec.Redirect() == "":
		r.add(Warning, CodeSPFWeakAll, domain, `no "all" term: unlisted senders get neutral`)
	}
}

// spfRecord reads the one SPF record at name, reporting missing, duplicate and unparseable
// records. top says whether name is the checked domain (a missing record there is spf.missing,
// elsewhere spf.include_missing, reported by the caller).
func (r *report) spfRecord(domain, name string, top bool) (*SPFRecord, bool) {
	txts, _, ok := r.txt(name)
	if !ok {
		return nil, false
	}
	recs := withPrefix(txts, "v=spf1")
	switch {
	case len(recs) == 0:
		if top {
			r.add(Error, CodeSPFMissing, name, "no SPF record: receivers cannot tell Google's servers are allowed to send for the domain")
		}
		return nil, false
	case len(recs) > 1:
		r.add(Error, CodeSPFDuplicate, name, "%d SPF records: receivers return permerror", len(recs))
		return nil, false
	}
	rec, err := ParseSPF(recs[0])
	if err != nil {
		r.add(Error, CodeSPFSyntax, name, "%v", err)
		return nil, false
	}
	return rec, true
}

func (w *spfWalk) walk(domain string, rec *SPFRecord) {
	w.visited = append(w.visited, domain)
	w.stack = append(w.stack, domain)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()
	_, hasAll := rec.All()
	for _, t := range rec.Terms {
		switch {
		case t.Mechanism == "include":
			w.lookups++
			w.follow(domain, t.Value, "include")
		case t.Modifier == "redirect" && !hasAll: // RFC 7208 6.1: ignored when "all" is present
			w.lookups++
			w.follow(domain, t.Value, "redirect")
		case t.Mechanism == "a":
			w.lookups++
			target := cmp.Or(t.Value, domain)
			if hasMacro(target) {
				continue
			}
			a4, ok1 := w.query(target, dns.TypeA)
			a6, ok2 := w.query(target, dns.TypeAAAA)
			if ok1 && ok2 && a4.empty() && a6.empty() {
				w.void++
			}
		case t.Mechanism == "mx":
			w.lookups++
			target := cmp.Or(t.Value, domain)
			if hasMacro(target) {
				continue
			}
			a, ok := w.query(target, dns.TypeMX)
			if ok && a.empty() {
				w.void++
			}
			if len(a.rrs) > spfMaxMX {
				w.r.add(Error, CodeSPFMXTooManyHosts, domain, "mx:%s has %d hosts, over the limit of %d: receivers return permerror", target, len(a.rrs), spfMaxMX)
			}
		case t.Mechanism == "ptr":
			w.lookups++
			w.r.add(Warning, CodeSPFPTR, domain, "the ptr mechanism is slow and unreliable; RFC 7208 says not to use it")
		case t.Mechanism == "exists":
			w.lookups++
			if hasMacro(t.Value) {
				continue
			}
			if a, ok := w.query(t.Value, dns.TypeA); ok && a.empty() {
				w.void++
			}
		}
	}
}

// follow reads the record an include or redirect points at and walks it.
func (w *spfWalk) follow(from, target, kind string) {
	if hasMacro(target) {
		return
	}
	target = strings.TrimSuffix(strings.ToLower(target), ".")
	if slices.Contains(w.stack, target) {
		w.r.add(Error, CodeSPFLoop, from, "%s:%s returns to a record already being evaluated (%s)", kind, target, strings.Join(append(slices.Clone(w.stack), target), " -> "))
		return
	}
	// Past twice the limit the verdict is known; stop descending so a hostile chain cannot make
	// the checker walk forever.
	if w.lookups > 2*spfMaxLookups {
		return
	}
	txts, a, ok := w.r.txt(target)
	if !ok {
		return
	}
	if a.empty() {
		w.void++
	}
	if len(withPrefix(txts, "v=spf1")) == 0 {
		w.r.add(Error, CodeSPFIncludeMissing, from, "%s:%s has no SPF record: receivers return permerror", kind, target)
		return
	}
	rec, ok := w.r.spfRecord(from, target, false)
	if !ok {
		return
	}
	w.walk(target, rec)
}

func (w *spfWalk) query(name string, qtype uint16) (answer, bool) {
	a, err := w.r.c.query(w.r.ctx, name, qtype)
	if err != nil {
		w.r.add(Error, CodeDNSUnavailable, name, "%s query failed: %v", dns.TypeToString[qtype], err)
		return a, false
	}
	return a, true
}
