package idp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// A scope string is delimited by U+0020 alone (RFC 6749 section 3.3): any
// other white space inside it makes one malformed scope, never a second one.
func TestAScopeStringIsSplitOnSpacesOnly(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	iat, exp := t0.Add(-time.Minute).Unix(), t0.Add(time.Hour).Unix()
	for _, sep := range []string{"\t", "\n", "\v", "\f", "\r", "\u0085", "\u00a0", "\u2028", "\u2029", "\u3000"} {
		t.Run("a scope joined to another by "+strings.ToValidUTF8(sep, "?")+" grants neither", func(t *testing.T) {
			token := signHeader(t, jwt.MapClaims{
				"iss": f.Issuer, "aud": endpoint, "iat": iat, "exp": exp, "client_id": "client-1", "sub": "svc",
				"scope": "openid system/Patient.rs user/Observation.rs?a=b" + sep + "system/*.cruds",
			}, "typ", "at+jwt")
			resp, reason := th.call(t, token)
			require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
			assert.Equal(t, "openid system/Patient.rs", resp.AuthPayload.Scope,
				"the joined piece is not a scope; nothing the server did not grant appears")
			for _, s := range strings.Fields(resp.AuthPayload.Scope) {
				assert.NotEqual(t, "system/*.cruds", s)
			}
		})
	}
	t.Run("runs of spaces are one separator", func(t *testing.T) {
		token := signHeader(t, jwt.MapClaims{
			"iss": f.Issuer, "aud": endpoint, "iat": iat, "exp": exp, "client_id": "client-1", "sub": "svc",
			"scope": "  system/Patient.rs   system/Observation.rs ",
		}, "typ", "at+jwt")
		resp, reason := th.call(t, token)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "system/Patient.rs system/Observation.rs", resp.AuthPayload.Scope)
	})
}
