package backup

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// Schedule is a parsed [Policy.Schedule]: a fixed interval or a cron line, evaluated in UTC.
// Its zero value is not valid; get one from [ParseSchedule]. It is safe for concurrent use.
type Schedule struct {
	every time.Duration
	// fields: minute, hour, day of month, month, day of week (bit i set = value i allowed).
	fields      [5]uint64
	domStar     bool
	dowStar     bool
	description string
}

// cron field bounds, in field order.
var cronBounds = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

var cronNames = [5]string{"minute", "hour", "day of month", "month", "day of week"}

var descriptors = map[string]string{
	"@hourly":  "0 * * * *",
	"@daily":   "0 0 * * *",
	"@weekly":  "0 0 * * 0",
	"@monthly": "0 0 1 * *",
	"@yearly":  "0 0 1 1 *",
}

// ParseSchedule parses "@every <duration>" (at least one minute), "@hourly", "@daily",
// "@weekly", "@monthly", "@yearly" or a five-field cron line (minute hour day-of-month month
// day-of-week; each field "*", a value, a range "a-b", a step "*/n" or "a-b/n", or a comma
// list of these; Sunday is 0 or 7). Errors match webinfra.ErrInvalidArgument.
//
// A small parser is written here rather than taking a cron library because Validate needs only
// this grammar and the module has no cron dependency to share.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return Schedule{}, fmt.Errorf("backup: schedule %q: %v: %w", s, err, webinfra.ErrInvalidArgument)
		}
		if d < time.Minute {
			return Schedule{}, fmt.Errorf("backup: schedule %q: interval under one minute: %w", s, webinfra.ErrInvalidArgument)
		}
		return Schedule{every: d, description: s}, nil
	}
	line := s
	if d, ok := descriptors[s]; ok {
		line = d
	} else if strings.HasPrefix(s, "@") {
		return Schedule{}, fmt.Errorf("backup: schedule %q: unknown descriptor: %w", s, webinfra.ErrInvalidArgument)
	}
	parts := strings.Fields(line)
	if len(parts) != 5 {
		return Schedule{}, fmt.Errorf("backup: schedule %q: want @every <duration>, a descriptor or 5 cron fields: %w", s, webinfra.ErrInvalidArgument)
	}
	sc := Schedule{description: s, domStar: parts[2] == "*", dowStar: parts[4] == "*"}
	for i, f := range parts {
		bits, err := parseCronField(f, cronBounds[i][0], cronBounds[i][1])
		if err != nil {
			return Schedule{}, fmt.Errorf("backup: schedule %q: %s field %q: %v: %w", s, cronNames[i], f, err, webinfra.ErrInvalidArgument)
		}
		sc.fields[i] = bits
	}
	if sc.fields[4]&(1<<7) != 0 { // Sunday as 7
		sc.fields[4] |= 1
	}
	return sc, nil
}

func parseCronField(f string, lo, hi int) (uint64, error) {
	var bits uint64
	for item := range strings.SplitSeq(f, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		a, b := lo, hi
		if rng != "*" {
			first, last, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(first); err != nil {
				return 0, fmt.Errorf("bad value %q", first)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(last); err != nil {
					return 0, fmt.Errorf("bad value %q", last)
				}
			} else if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return 0, fmt.Errorf("out of range %d-%d", lo, hi)
		}
		for v := a; v <= b; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// Interval returns the fixed interval of an "@every" schedule, or 0 for a cron schedule.
func (s Schedule) Interval() time.Duration { return s.every }

// String returns the schedule as it was written.
func (s Schedule) String() string { return s.description }

// Next returns the first run time strictly after t (in UTC, whole minutes for cron lines; t plus
// the interval for "@every"). It returns the zero time for the zero Schedule or when no time in
// the next five years matches (such as "0 0 31 2 *").
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every)
	}
	if s.fields[0] == 0 {
		return time.Time{}
	}
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		if s.fields[3]&(1<<int(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !s.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if s.fields[1]&(1<<t.Hour()) == 0 {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if s.fields[0]&(1<<t.Minute()) == 0 {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// dayMatches follows Vixie cron: when both day fields are restricted, either may match.
func (s Schedule) dayMatches(t time.Time) bool {
	dom := s.fields[2]&(1<<t.Day()) != 0
	dow := s.fields[4]&(1<<int(t.Weekday())) != 0
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dow
	case s.dowStar:
		return dom
	default:
		return dom || dow
	}
}
