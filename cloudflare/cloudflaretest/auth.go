package cloudflaretest

import (
	"net/http"
	"strings"
)

// authenticate checks the request's API token the way Cloudflare does; it returns the status
// and errors to answer with, or nil errors if the token is the fake's. s.mu is held.
func (s *Server) authenticate(r *http.Request, ep string) (int, []apiError) {
	h, ok := r.Header["Authorization"]
	if !ok && r.Header.Get("X-Auth-Key") == "" && r.Header.Get("X-Auth-Email") == "" {
		return http.StatusBadRequest, []apiError{{Code: 9106, Message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers"}}
	}
	var token string
	if ok && len(h) == 1 {
		scheme, rest, found := strings.Cut(h[0], " ")
		if found && strings.EqualFold(scheme, "Bearer") && validTokenSyntax(rest) {
			token = rest
		}
	}
	if token == "" {
		// A global API key (X-Auth-Key) or a header in another form: this fake knows tokens only.
		return http.StatusBadRequest, []apiError{{Code: 6003, Message: "Invalid request headers",
			ErrorChain: []apiError{{Code: 6111, Message: "Invalid format for Authorization header"}}}}
	}
	if token != s.opts.Token {
		if ep == "GET /zones" {
			return http.StatusForbidden, []apiError{{Code: 9109, Message: "Invalid access token"}}
		}
		return http.StatusForbidden, []apiError{{Code: 10000, Message: "Authentication error"}}
	}
	return 0, nil
}

// validTokenSyntax reports whether t has the characters an API token may have: letters,
// digits, '-' and '_'.
func validTokenSyntax(t string) bool {
	if t == "" {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
