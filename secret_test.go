package webinfra_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra"
)

const token = "cf-token-7f3a9"

// config is what a user typically holds a secret in: exported and unexported fields, pointers.
type config struct {
	Name   string
	Token  webinfra.Secret
	Ptr    *webinfra.Secret
	hidden webinfra.Secret
}

func TestSecretNeverPrints(t *testing.T) {
	s := webinfra.NewSecret(token)
	cfg := config{Name: "zone", Token: s, Ptr: &s, hidden: s}

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T"} {
		for name, v := range map[string]any{"secret": s, "pointer": &s, "struct": cfg, "struct pointer": &cfg, "slice": []webinfra.Secret{s}, "map": map[string]webinfra.Secret{"k": s}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, token, "verb %s on %s", verb, name)
			assert.NotContains(t, out, fmt.Sprintf("%x", token), "verb %s on %s leaks hex", verb, name)
		}
	}
	assert.Equal(t, webinfra.Redacted, s.String())
	assert.Equal(t, webinfra.Redacted, s.GoString())
	assert.Equal(t, webinfra.Redacted, fmt.Sprint(s))
}

func TestSecretEncodingsRedact(t *testing.T) {
	s := webinfra.NewSecret(token)
	cfg := config{Name: "zone", Token: s, Ptr: &s}

	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(j), token)
	assert.Contains(t, string(j), `"Token":"(sensitive)"`)

	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(y), token)

	txt, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, webinfra.Redacted, string(txt))
}

func TestSecretLogsRedacted(t *testing.T) {
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		s := webinfra.NewSecret(token)
		log := slog.New(h)
		log.Info("connecting", "token", s, "ptr", &s, "config", config{Token: s, hidden: s})
		log.Info("group", slog.Group("auth", "token", s))
	}
	require.NotEmpty(t, buf.String())
	assert.NotContains(t, buf.String(), token)
	assert.Contains(t, buf.String(), webinfra.Redacted)
}

func TestSecretRevealAndDecode(t *testing.T) {
	var cfg struct {
		Token webinfra.Secret `json:"token"`
	}
	require.NoError(t, yaml.UnmarshalStrict([]byte("token: "+token+"\n"), &cfg))
	assert.Equal(t, token, cfg.Token.Reveal())
	assert.False(t, cfg.Token.IsZero())

	err := json.Unmarshal([]byte(`{"token": 42}`), &cfg)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), token)

	var zero webinfra.Secret
	assert.True(t, zero.IsZero())
	assert.Equal(t, "", zero.Reveal())
	assert.Equal(t, webinfra.Redacted, zero.String())
}

func TestSecretEqual(t *testing.T) {
	a, b := webinfra.NewSecret(token), webinfra.NewSecret(token)
	assert.True(t, a.Equal(b), "same content, distinct values")
	assert.False(t, a.Equal(webinfra.NewSecret(token+"x")))
	assert.True(t, webinfra.Secret{}.Equal(webinfra.NewSecret("")))
}

func TestValidationErrorIsInvalidArgument(t *testing.T) {
	var v webinfra.ValidationError
	v.Required(webinfra.NewPath("name"))
	err := v.Err()
	assert.True(t, errors.Is(err, webinfra.ErrInvalidArgument))
	assert.False(t, errors.Is(err, webinfra.ErrNotFound))
	wrapped := fmt.Errorf("deploy: %w", err)
	var ve *webinfra.ValidationError
	require.True(t, errors.As(wrapped, &ve))
	assert.Len(t, ve.Errors, 1)
}
