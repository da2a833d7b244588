package retry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads an HTTP Retry-After value (RFC 9110 section 10.2.3): either a number of
// seconds or an HTTP date, which is turned into a wait from now. A date in the past gives 0.
// ok is false for an empty or malformed value.
func ParseRetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// FromResponse returns the wait a response asks for: Retry-After-Ms (milliseconds, as Cloudflare
// and others send it) when present and valid, else Retry-After. ok is false when neither is usable.
func FromResponse(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	if ms := strings.TrimSpace(h.Get("Retry-After-Ms")); ms != "" {
		if n, err := strconv.ParseFloat(ms, 64); err == nil && n >= 0 && n < float64(1<<62)/1e6 {
			return time.Duration(n * float64(time.Millisecond)), true
		}
	}
	return ParseRetryAfter(h.Get("Retry-After"), now)
}
