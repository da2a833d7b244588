package mailtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// GmailSent is one message the Gmail fake accepted.
type GmailSent struct {
	// UserID is the path's userId ("me" or an address).
	UserID string
	// Raw is the decoded raw message, byte for byte.
	Raw []byte
	// Token is the bearer token the request carried, or "".
	Token string
}

// GmailServer is a wire-level fake of the Gmail API's users.messages.send
// (POST /gmail/v1/users/{userId}/messages/send with {"raw": base64url}) on an httptest server.
// When Token is set, requests without "Authorization: Bearer <Token>" get 401 in Google's
// error shape. Other routes get 501 and are recorded in Unhandled. Safe for concurrent use.
type GmailServer struct {
	srv *httptest.Server

	mu        sync.Mutex
	token     string
	sent      []GmailSent
	unhandled []string
	status    int
}

// NewGmailServer starts the fake; token "" accepts any request.
func NewGmailServer(token string) *GmailServer {
	g := &GmailServer{token: token}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// StartGmail starts the fake and closes it when the test ends.
func StartGmail(t testing.TB, token string) *GmailServer {
	t.Helper()
	g := NewGmailServer(token)
	t.Cleanup(g.Close)
	return g
}

// URL is the endpoint for mail.GmailConfig.Endpoint (it ends in "/").
func (g *GmailServer) URL() string { return g.srv.URL + "/" }

// Close shuts the server down.
func (g *GmailServer) Close() { g.srv.Close() }

// FailWith makes every send answer with the HTTP status (0 restores success).
func (g *GmailServer) FailWith(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = status
}

// Sent returns a copy of the accepted messages, in order.
func (g *GmailServer) Sent() []GmailSent {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]GmailSent, len(g.sent))
	for i, s := range g.sent {
		s.Raw = append([]byte(nil), s.Raw...)
		out[i] = s
	}
	return out
}

// Unhandled returns the "METHOD path" of requests the fake does not implement.
func (g *GmailServer) Unhandled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.unhandled...)
}

func writeGoogleError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

func (g *GmailServer) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/gmail/v1/users/")
	user, tail, _ := strings.Cut(rest, "/")
	if !ok || r.Method != http.MethodPost || tail != "messages/send" || user == "" {
		g.mu.Lock()
		g.unhandled = append(g.unhandled, r.Method+" "+r.URL.Path)
		g.mu.Unlock()
		writeGoogleError(w, http.StatusNotImplemented, "UNIMPLEMENTED", "mailtest: not implemented: "+r.Method+" "+r.URL.Path)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	want, status := g.token, g.status
	g.mu.Unlock()
	if want != "" && token != want {
		writeGoogleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return
	}
	if status != 0 {
		writeGoogleError(w, status, http.StatusText(status), "mailtest: injected failure")
		return
	}
	var body struct {
		Raw string `json:"raw"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Raw == "" {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "'raw' RFC822 payload message string or uploading message via /upload/* URL required")
		return
	}
	// Google accepts base64url with or without padding.
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(body.Raw, "="))
	if err != nil {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value for ByteString")
		return
	}
	g.mu.Lock()
	g.sent = append(g.sent, GmailSent{UserID: user, Raw: raw, Token: token})
	id := fmt.Sprintf("%016x", len(g.sent))
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "threadId": id, "labelIds": []string{"SENT"}})
}
