package idp

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokencache"
)

type panicking struct{}

func (panicking) validate(*budget, string) (tokenClaims, Reason, error) {
	panic("bug while holding secret-token-material")
}

func TestAPanicIsAnsweredAsARefusal(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{
		cfg:    Config{Env: validatorenv.Env{Issuer: "https://example.okta.com/oauth2/default", RoleARN: "arn:aws:iam::123456789012:role/R"}},
		log:    slog.New(slog.NewJSONHandler(&logs, nil)),
		now:    time.Now,
		budget: time.Second,
		cache:  tokencache.New[grant](1),
		check:  panicking{},
	}
	resp, err := h.Handle(context.Background(), Event{DatastoreEndpoint: "https://hl/r4/", BearerToken: "a.b.c"})
	require.NoError(t, err, "HealthLake gets an answer, not an error")
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, "https://hl/r4/", resp.AuthPayload.Aud)
	assert.Contains(t, logs.String(), `"reason":"internal_error"`)
	assert.NotContains(t, logs.String(), "secret-token-material", "a panic value may hold anything: only its type is logged")
}
