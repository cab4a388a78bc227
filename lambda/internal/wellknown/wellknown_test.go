package wellknown_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/wellknown"
)

func TestGet(t *testing.T) {
	var status int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	t.Run("a 200 answer within the bound is returned whole", func(t *testing.T) {
		status, body = http.StatusOK, `{"issuer":"x"}`
		got, err := wellknown.Get(ctx, srv.Client(), srv.URL+"/.well-known/openid-configuration", 14)
		require.NoError(t, err)
		assert.Equal(t, body, string(got))
	})
	t.Run("an answer one byte over the bound is refused, not truncated", func(t *testing.T) {
		status, body = http.StatusOK, `{"issuer":"xy"}`
		_, err := wellknown.Get(ctx, srv.Client(), srv.URL, 14)
		assert.EqualError(t, err, "document larger than 14 bytes")
	})
	t.Run("any status but 200 is an error naming it", func(t *testing.T) {
		status, body = http.StatusNoContent, ""
		_, err := wellknown.Get(ctx, srv.Client(), srv.URL, 14)
		assert.EqualError(t, err, "HTTP 204")
	})
	t.Run("a failed request does not repeat the URL or its query", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := wellknown.Get(ctx, srv.Client(), srv.URL+"/keys?secret=abc", 14)
		require.Error(t, err)
		assert.False(t, strings.Contains(err.Error(), "secret=abc"), err.Error())
	})
}
