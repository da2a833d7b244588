package cloudflare_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
)

func TestPurgeChunksToTheLimit(t *testing.T) {
	e := setup(t, 0)
	var urls []string
	for i := range 65 {
		urls = append(urls, fmt.Sprintf("https://www.example.com/page/%d", i))
	}
	require.NoError(t, e.client.Purge(t.Context(), "example.com", cloudflare.Purge{
		URLs: urls, Hosts: []string{"shop.example.com"}, Tags: []string{"product-1", "product-2"}, Prefixes: []string{"www.example.com/img"},
	}))
	purges := e.srv.Purges()
	require.Len(t, purges, 6, "65 URLs in 3 calls, then one call per other kind")
	assert.Len(t, purges[0].Files, 30)
	assert.Len(t, purges[2].Files, 5)
	assert.Equal(t, []string{"shop.example.com"}, purges[3].Hosts)
	assert.Equal(t, []string{"product-1", "product-2"}, purges[4].Tags)

	require.NoError(t, e.client.Purge(t.Context(), "example.com", cloudflare.Purge{Everything: true}))
	assert.True(t, e.srv.Purges()[6].Everything)
}

func TestPurgeValidate(t *testing.T) {
	e := setup(t, 0)
	err := e.client.Purge(t.Context(), "example.com", cloudflare.Purge{
		Everything: true, URLs: []string{"ftp://x", "https://ok.example.com/"}, Prefixes: []string{"https://www.example.com/a"}, Tags: []string{"a b"},
	})
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	for _, want := range []string{"everything:", `urls[0]: invalid value "ftp://x"`, `prefixes[0]:`, `tags[0]: invalid value "a b"`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, e.srv.Purges(), "bad input changes nothing")
	assert.ErrorIs(t, e.client.Purge(t.Context(), "example.com", cloudflare.Purge{}), webinfra.ErrInvalidArgument)
}
