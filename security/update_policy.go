package security

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// RebootMode says when a rolling update reboots a node.
type RebootMode string

// The reboot modes.
const (
	// RebootIfRequired reboots when Landscape reports the reboot-required flag after the upgrade.
	RebootIfRequired RebootMode = "if-required"
	// RebootAlways reboots every node.
	RebootAlways RebootMode = "always"
	// RebootNever never reboots (the flag stays for a later window).
	RebootNever RebootMode = "never"
)

// Window is a weekly maintenance window: it opens at Start on each of Days and lasts Duration.
type Window struct {
	// Days are English weekday names ("Mon" or "Monday"); empty means every day.
	Days []string `json:"days,omitempty"`
	// Start is "HH:MM" in the policy's time zone.
	Start string `json:"start"`
	// Duration is how long the window stays open; between 1m and 24h.
	Duration time.Duration `json:"duration"`
}

// UpdatePolicy is the desired OS-update rollout of a cluster, as a deployment plan declares it.
type UpdatePolicy struct {
	// Tag selects the Landscape computers to update ("tag:<Tag>"); required.
	Tag string `json:"tag"`
	// Concurrency is how many nodes are updated at once; 0 means 1.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxUnavailable is how many nodes may be out (cordoned or NotReady, whoever caused it) at
	// once; 0 means Concurrency. It must be at least Concurrency.
	MaxUnavailable int `json:"max_unavailable,omitempty"`
	// SecurityOnly upgrades only packages from the security pocket.
	SecurityOnly bool `json:"security_only,omitempty"`
	// Reboot says when to reboot; "" means "if-required".
	Reboot RebootMode `json:"reboot,omitempty"`
	// Windows are the maintenance windows; none means always open.
	Windows []Window `json:"windows,omitempty"`
	// TimeZone is the IANA zone of the windows; "" means UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// DrainTimeout, ActivityTimeout and ReadyTimeout bound the drain, each Landscape activity and
	// the wait for Ready after a reboot; 0 means 10m, 30m and 15m.
	DrainTimeout    time.Duration `json:"drain_timeout,omitempty"`
	ActivityTimeout time.Duration `json:"activity_timeout,omitempty"`
	ReadyTimeout    time.Duration `json:"ready_timeout,omitempty"`
}

// Validate reports every problem of the policy as one [*webinfra.ValidationError].
func (p UpdatePolicy) Validate() error {
	var errs webinfra.ValidationError
	at := webinfra.Path{}
	if p.Tag == "" {
		errs.Required(at.Child("tag"))
	} else if strings.ContainsAny(p.Tag, " \t\n:") {
		errs.Invalid(at.Child("tag"), p.Tag, "a Landscape tag holds no spaces or colons")
	}
	if p.Concurrency < 0 {
		errs.Invalid(at.Child("concurrency"), p.Concurrency, "must not be negative")
	}
	conc := max(p.Concurrency, 1)
	if p.MaxUnavailable < 0 || (p.MaxUnavailable > 0 && p.MaxUnavailable < conc) {
		errs.Invalid(at.Child("max_unavailable"), p.MaxUnavailable, fmt.Sprintf("must be 0 or at least concurrency (%d)", conc))
	}
	switch p.Reboot {
	case "", RebootIfRequired, RebootAlways, RebootNever:
	default:
		errs.NotSupported(at.Child("reboot"), string(p.Reboot), []string{string(RebootIfRequired), string(RebootAlways), string(RebootNever)})
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil {
		errs.Invalid(at.Child("time_zone"), p.TimeZone, "unknown time zone")
	}
	for i, w := range p.Windows {
		wp := at.Child("windows").Index(i)
		if _, _, err := parseHHMM(w.Start); err != nil {
			errs.Invalid(wp.Child("start"), w.Start, "want HH:MM")
		}
		if w.Duration < time.Minute || w.Duration > 24*time.Hour {
			errs.Invalid(wp.Child("duration"), w.Duration.String(), "must be between 1m and 24h")
		}
		for j, d := range w.Days {
			if _, ok := weekday(d); !ok {
				errs.Invalid(wp.Child("days").Index(j), d, "not a weekday name")
			}
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"drain_timeout", p.DrainTimeout}, {"activity_timeout", p.ActivityTimeout}, {"ready_timeout", p.ReadyTimeout}} {
		if f.d < 0 {
			errs.Invalid(at.Child(f.name), f.d.String(), "must not be negative")
		}
	}
	return errs.Err()
}

func (p UpdatePolicy) withDefaults() UpdatePolicy {
	p.Concurrency = max(p.Concurrency, 1)
	if p.MaxUnavailable == 0 {
		p.MaxUnavailable = p.Concurrency
	}
	if p.Reboot == "" {
		p.Reboot = RebootIfRequired
	}
	if p.DrainTimeout == 0 {
		p.DrainTimeout = 10 * time.Minute
	}
	if p.ActivityTimeout == 0 {
		p.ActivityTimeout = 30 * time.Minute
	}
	if p.ReadyTimeout == 0 {
		p.ReadyTimeout = 15 * time.Minute
	}
	return p
}

func parseHHMM(s string) (int, int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("bad time %q", s)
	}
	return t.Hour(), t.Minute(), nil
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for i, d := range dayNames {
		full := strings.ToLower(time.Weekday(i).String())
		if s == d || s == full {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// NextWindow returns when the next maintenance window opens at or after now and when it closes;
// if one is open at now, it returns now and that window's close. With no windows it returns
// now and the zero time (always open). The policy must be valid.
func (p UpdatePolicy) NextWindow(now time.Time) (open, close time.Time) {
	if len(p.Windows) == 0 {
		return now, time.Time{}
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	var bestOpen, bestClose time.Time
	// Look from yesterday (a window opened then may still be open) through the next 8 days.
	for dayOff := -1; dayOff <= 8; dayOff++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+dayOff, 0, 0, 0, 0, loc)
		for _, w := range p.Windows {
			h, m, err := parseHHMM(w.Start)
			if err != nil {
				continue
			}
			if len(w.Days) > 0 && !slices.ContainsFunc(w.Days, func(d string) bool { wd, _ := weekday(d); return wd == day.Weekday() }) {
				continue
			}
			o := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
			c := o.Add(w.Duration)
			if !c.After(now) {
				continue
			}
			if o.Before(now) {
				o = now
			}
			if bestOpen.IsZero() || o.Before(bestOpen) {
				bestOpen, bestClose = o, c
			}
		}
	}
	return bestOpen, bestClose
}
