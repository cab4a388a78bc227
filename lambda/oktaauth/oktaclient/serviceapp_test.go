package oktaclient_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

// wire records what the client puts on the wire, under the retry layer.
type wire struct {
	mu   sync.Mutex
	reqs []*http.Request
	next http.RoundTripper
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.reqs = append(w.reqs, r.Clone(context.Background()))
	w.mu.Unlock()
	if w.next != nil {
		return w.next.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (w *wire) management() []*http.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*http.Request
	for _, r := range w.reqs {
		if r.URL.Path != "/oauth2/v1/token" {
			out = append(out, r)
		}
	}
	return out
}

type proof struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce"`
}

// decodeProof reads a proof the client sent (the fake has verified it).
func decodeProof(t *testing.T, s string) (proof, string) {
	t.Helper()
	tok, err := jwt.ParseSigned(s)
	require.NoError(t, err)
	var p proof
	require.NoError(t, tok.UnsafeClaimsWithoutVerification(&p))
	typ, _ := tok.Headers[0].ExtraHeaders["typ"].(string)
	return p, typ
}

func serviceAppCredentials(t *testing.T, fake *fakeokta.Server, app fakeokta.ServiceApp) oktaclient.Credentials {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	app.Key = &key.PublicKey
	if app.Scopes == nil {
		app.Scopes = oktaclient.DefaultScopes
	}
	if fake != nil {
		fake.AddServiceApp(app)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	return oktaclient.Credentials{ClientID: app.ClientID, PrivateKey: pemKey}
}

func newServiceAppClient(t *testing.T, url string, creds oktaclient.Credentials, w *wire) *okta.Client {
	t.Helper()
	opts := fastOptions()
	opts.Transport = w
	c, err := oktaclient.New(context.Background(), url, creds, opts)
	require.NoError(t, err)
	return c
}

func TestServiceAppWithDPoP(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaDPoPClientTest001"})
	w := &wire{}
	c := newServiceAppClient(t, fake.URL, creds, w)
	ctx := context.Background()
	for range 3 {
		_, _, err := c.Application.ListApplications(ctx, query.NewQueryParams(query.WithLimit(20)))
		require.NoError(t, err)
	}
	_, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "x", Audiences: []string{"api://x"}})
	require.NoError(t, err)

	t.Run("without a proof the token request is refused, then the nonce challenge is answered", func(t *testing.T) {
		tokens := fake.RequestsMatching("POST", "/oauth2/v1/token")
		require.Len(t, tokens, 3, "one token for all four calls")
		assert.Equal(t, []string{"invalid_dpop_proof", "use_dpop_nonce", ""}, []string{tokens[0].Error, tokens[1].Error, tokens[2].Error})
		assert.Equal(t, []bool{false, true, true}, []bool{tokens[0].DPoPProof, tokens[1].DPoPProof, tokens[2].DPoPProof})
	})
	t.Run("the token proofs name the token endpoint, the last one with Okta's nonce", func(t *testing.T) {
		var got []proof
		for _, r := range w.reqs {
			if r.URL.Path == "/oauth2/v1/token" && r.Header.Get("DPoP") != "" {
				p, typ := decodeProof(t, r.Header.Get("DPoP"))
				assert.Equal(t, "dpop+jwt", typ)
				got = append(got, p)
			}
		}
		require.Len(t, got, 2)
		for _, p := range got {
			assert.Equal(t, "POST", p.HTM)
			assert.Equal(t, fake.URL+"/oauth2/v1/token", p.HTU)
			assert.Empty(t, p.ATH)
		}
		assert.Empty(t, got[0].Nonce)
		assert.NotEmpty(t, got[1].Nonce)
	})
	t.Run("every management call sends DPoP <token> and a fresh proof with the right ath, htm and htu", func(t *testing.T) {
		mgmt := w.management()
		require.Len(t, mgmt, 4)
		jtis := map[string]bool{}
		for _, r := range mgmt {
			scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			require.Equal(t, "DPoP", scheme)
			p, _ := decodeProof(t, r.Header.Get("DPoP"))
			assert.Equal(t, oktaclient.AccessTokenHash(token), p.ATH, "the client never sends a wrong ath")
			assert.Equal(t, r.Method, p.HTM)
			assert.Equal(t, fake.URL+r.URL.Path, p.HTU, "no query in htu")
			assert.False(t, jtis[p.JTI], "a fresh jti per request")
			jtis[p.JTI] = true
		}
		for _, r := range fake.RequestsMatching("", "/api/v1/**") {
			assert.Less(t, r.Status, 300, "%s %s: %s", r.Method, r.Path, r.Error)
		}
	})
	t.Run("the DPoP-bound token used as Bearer is refused", func(t *testing.T) {
		_, token, _ := strings.Cut(w.management()[0].Header.Get("Authorization"), " ")
		req, _ := http.NewRequest("GET", fake.URL+"/api/v1/apps", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestServiceAppWithoutDPoPUsesBearerTokens(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaBearerClientTest1", DPoPNotRequired: true})
	w := &wire{}
	c := newServiceAppClient(t, fake.URL, creds, w)
	for range 2 {
		_, _, err := c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
	}
	tokens := fake.RequestsMatching("POST", "/oauth2/v1/token")
	require.Len(t, tokens, 1)
	assert.False(t, tokens[0].DPoPProof)
	for _, r := range w.management() {
		assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer eyJfake."), "the issued token, not the SDK's placeholder")
		assert.Empty(t, r.Header.Get("DPoP"))
	}
}

func TestServiceAppAnswersAResourceServerNonceChallengeOnce(t *testing.T) {
	t.Run("the challenged call is repeated with the nonce, later calls carry it", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		fake.RequireResourceNonce("rs-nonce-42")
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaNonceClientTest01"})
		w := &wire{}
		c := newServiceAppClient(t, fake.URL, creds, w)
		// A POST with a body: the repeat must send the body again.
		_, _, err := c.AuthorizationServer.CreateAuthorizationServer(context.Background(), okta.AuthorizationServer{Name: "n", Audiences: []string{"api://n"}})
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		reqs := fake.RequestsMatching("", "/api/v1/**")
		require.Len(t, reqs, 3)
		assert.Equal(t, "use_dpop_nonce", reqs[0].Error)
		assert.Equal(t, http.StatusCreated, reqs[1].Status)
		assert.Equal(t, "n", reqs[1].Body.(map[string]any)["name"])
		assert.Equal(t, http.StatusOK, reqs[2].Status, "the nonce is remembered")
		p, _ := decodeProof(t, w.management()[2].Header.Get("DPoP"))
		assert.Equal(t, "rs-nonce-42", p.Nonce)
		assert.Len(t, fake.AuthorizationServers(), 1, "created once")
	})
	t.Run("a server that keeps challenging gets one repeat, then its answer", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaNonceClientTest02"})
		var calls atomic.Int32
		w := &wire{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/oauth2/v1/token" {
				return http.DefaultTransport.RoundTrip(r)
			}
			n := calls.Add(1)
			h := http.Header{"Www-Authenticate": {`DPoP error="use_dpop_nonce"`}, "Dpop-Nonce": {fmt.Sprint("n", n)},
				"Content-Type": {"application/json"}}
			return &http.Response{StatusCode: http.StatusUnauthorized, Header: h, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"error":"use_dpop_nonce"}`))}, nil
		})}
		c := newServiceAppClient(t, fake.URL, creds, w)
		_, _, err := c.Application.ListApplications(context.Background(), nil)
		require.Error(t, err)
		assert.Equal(t, int32(2), calls.Load())
	})
}

func TestServiceAppTokenCaching(t *testing.T) {
	for _, tc := range []struct {
		name      string
		expiresIn int
		calls     int
		tokens    int
	}{
		{"a token is reused until shortly before it expires", 3600, 3, 1},
		{"a token about to expire is not reused", 30, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tokens atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/oauth2/v1/token" {
					n := tokens.Add(1)
					_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": tc.expiresIn,
						"access_token": fmt.Sprint("tok-", n)})
					return
				}
				_, _ = w.Write([]byte(`[]`))
			}))
			defer srv.Close()
			c := newServiceAppClient(t, srv.URL, serviceAppCredentials(t, nil, fakeokta.ServiceApp{ClientID: "0oaCacheClient000001"}), &wire{})
			for range tc.calls {
				_, _, err := c.Application.ListApplications(context.Background(), nil)
				require.NoError(t, err)
			}
			assert.Equal(t, int32(tc.tokens), tokens.Load())
		})
	}
}

func TestServiceAppTokenErrorsCarryNoCredential(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	creds := serviceAppCredentials(t, nil, fakeokta.ServiceApp{ClientID: "0oaUnknownClient0001"}) // not registered
	w := &wire{}
	c := newServiceAppClient(t, fake.URL, creds, w)
	_, _, err := c.Application.ListApplications(context.Background(), nil)
	require.Error(t, err)
	var te *oktaclient.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid_client", te.Code)
	assert.Equal(t, http.StatusUnauthorized, te.Status)
	assert.NotContains(t, err.Error(), "eyJ", "no assertion or proof in the error")
	for _, r := range w.reqs {
		assert.NotContains(t, r.URL.String(), "client_assertion", "the assertion is never in a URL")
	}
}

func TestServiceAppTransportRefusesRequestsItDidNotPrepare(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaPlaceholderTest01"})
	c := newServiceAppClient(t, fake.URL, creds, &wire{})
	req, err := c.GetRequestExecutor().NewRequest("GET", "/api/v1/apps", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "SSWS 00smuggled")
	_, err = c.GetRequestExecutor().Do(context.Background(), req, nil)
	require.Error(t, err)
	assert.Empty(t, fake.RequestsMatching("GET", "/api/v1/apps"))
}

// Okta refuses a DPoP proof's jti a second time, so a call retried after a 5xx
// must carry a new proof, and the token request a new assertion.
func TestRetriedCallsCarryFreshProofs(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaRetryClientTest01"})
	f := fake.Faults.Add(fault.Rule{Op: "GET /api/v1/apps", Times: 2, Status: http.StatusServiceUnavailable})
	w := &wire{}
	c := newServiceAppClient(t, fake.URL, creds, w)
	_, _, err := c.Application.ListApplications(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 2, fake.Faults.Fired(f))
	mgmt := w.management()
	require.Len(t, mgmt, 3)
	jtis := map[string]bool{}
	for _, r := range mgmt {
		p, _ := decodeProof(t, r.Header.Get("DPoP"))
		jtis[p.JTI] = true
	}
	assert.Len(t, jtis, 3, "one proof per attempt")
}

// tokenAttempts records, under the retry layer, the jtis of every token
// request's client assertion and DPoP proof.
type tokenAttempts struct {
	mu         sync.Mutex
	assertions []string
	proofs     []string
	next       http.RoundTripper
}

func (ta *tokenAttempts) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth2/v1/token" {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, err
		}
		ta.mu.Lock()
		ta.assertions = append(ta.assertions, jwtID(form.Get("client_assertion")))
		if p := r.Header.Get("DPoP"); p != "" {
			ta.proofs = append(ta.proofs, jwtID(p))
		}
		ta.mu.Unlock()
	}
	if ta.next != nil {
		return ta.next.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// jwtID is a JWT's jti, read without verification ("" if it is not a JWT).
func jwtID(s string) string {
	tok, err := jwt.ParseSigned(s)
	if err != nil {
		return ""
	}
	var c struct {
		ID string `json:"jti"`
	}
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.ID
}

func distinct(t *testing.T, jtis []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, j := range jtis {
		require.NotEmpty(t, j)
		assert.False(t, seen[j], "jti %s sent twice", j)
		seen[j] = true
	}
}

// Okta refuses a client assertion's jti the second time ("The client_assertion
// token has already been used") and RFC 9449 §11.1 has it refuse a proof's: a
// token request retried after a 5xx or a timed-out attempt, which Okta may
// have seen, must be signed anew.
func TestRetriedTokenRequestsAreSignedAfresh(t *testing.T) {
	t.Run("a 500 on the first token request is retried with a new assertion and the call succeeds", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest001"})
		f := fake.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token", Kind: fault.ServerError})
		ta := &tokenAttempts{}
		opts := fastOptions()
		opts.Transport = ta
		c, err := oktaclient.New(context.Background(), fake.URL, creds, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, 1, fake.Faults.Fired(f))
		tokens := fake.RequestsMatching("POST", "/oauth2/v1/token")
		require.Len(t, tokens, 4, "the faulted attempt, its retry without a proof, the nonce challenge and the token")
		assert.Equal(t, []string{"E0000009", "invalid_dpop_proof", "use_dpop_nonce", ""},
			[]string{tokens[0].Error, tokens[1].Error, tokens[2].Error, tokens[3].Error})
		assert.Len(t, ta.assertions, 4)
		distinct(t, ta.assertions)
	})
	t.Run("a create whose token request first fails with a 503 is carried out once", func(t *testing.T) {
		// A create is not repeated by the management retry layer, so only
		// the token request's own retry can save it.
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest004"})
		fake.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token", Status: http.StatusServiceUnavailable})
		c := newServiceAppClient(t, fake.URL, creds, &wire{})
		_, _, err := c.AuthorizationServer.CreateAuthorizationServer(context.Background(),
			okta.AuthorizationServer{Name: "r", Audiences: []string{"api://r"}})
		require.NoError(t, err, "not invalid_client: the retry carries a new assertion")
		assert.Len(t, fake.AuthorizationServers(), 1)
	})
	t.Run("a 502 on a token request with a proof is retried with a new assertion and a new proof", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest002"})
		// The second token request is the first with a proof; the third
		// carries the nonce.
		f := fake.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token", After: 1, Times: 2, Status: http.StatusBadGateway})
		ta := &tokenAttempts{}
		opts := fastOptions()
		opts.Transport = ta
		c, err := oktaclient.New(context.Background(), fake.URL, creds, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, 2, fake.Faults.Fired(f))
		assert.Len(t, ta.assertions, 5)
		distinct(t, ta.assertions)
		assert.Len(t, ta.proofs, 4)
		distinct(t, ta.proofs)
	})
	t.Run("a token attempt that runs out of time after Okta has seen it is retried with new jtis", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest003"})
		var tokenCalls atomic.Int32
		ta := &tokenAttempts{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if r.URL.Path == "/oauth2/v1/token" && tokenCalls.Add(1) == 2 && err == nil {
				// Okta has carried the request out; its answer never comes.
				_ = resp.Body.Close()
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return resp, err
		})}
		opts := fastOptions()
		opts.Transport = ta
		opts.AttemptTimeout = 300 * time.Millisecond
		c, err := oktaclient.New(context.Background(), fake.URL, creds, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Len(t, ta.assertions, 4)
		distinct(t, ta.assertions)
		assert.Len(t, ta.proofs, 3)
		distinct(t, ta.proofs)
	})
	t.Run("a create whose token attempt runs out of time is carried out once", func(t *testing.T) {
		// The token is obtained before the create's attempt starts (tokenFirst):
		// run inside it, the token's timeout would end the create's attempt too,
		// and a create is not repeated.
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, fake, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest005"})
		var tokenCalls atomic.Int32
		ta := &tokenAttempts{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if r.URL.Path == "/oauth2/v1/token" && tokenCalls.Add(1) == 1 && err == nil {
				_ = resp.Body.Close()
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return resp, err
		})}
		opts := fastOptions()
		opts.Transport = ta
		opts.AttemptTimeout = 300 * time.Millisecond
		c, err := oktaclient.New(context.Background(), fake.URL, creds, opts)
		require.NoError(t, err)
		_, _, err = c.AuthorizationServer.CreateAuthorizationServer(context.Background(),
			okta.AuthorizationServer{Name: "slow", Audiences: []string{"api://slow"}})
		require.NoError(t, err)
		assert.Len(t, fake.RequestsMatching("POST", "/api/v1/authorizationServers"), 1)
		distinct(t, ta.assertions)
	})
	t.Run("a refused assertion is not repeated by the management call's retries", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		creds := serviceAppCredentials(t, nil, fakeokta.ServiceApp{ClientID: "0oaTokenRetryTest006"}) // not registered
		c := newServiceAppClient(t, fake.URL, creds, &wire{})
		_, _, err := c.Application.ListApplications(context.Background(), nil)
		var te *oktaclient.TokenError
		require.ErrorAs(t, err, &te)
		assert.Len(t, fake.RequestsMatching("POST", "/oauth2/v1/token"), 1, "a 401 invalid_client is final")
	})
}
