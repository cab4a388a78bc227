package oktaclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// redacted replaces a secret in an Okta error answer.
const redacted = "[redacted]"

// scrubTransport removes from Okta's error answers every secret the request
// carried, before the SDK turns the answer into an *okta.Error. Its
// errorSummary and errorCauses reach logs and the CloudFormation failure
// reason (okta.Error's Error() prints every cause), and Okta says a summary
// "sometimes contains dynamically-generated information about your specific
// error" (developer docs, "Error codes"), that is, may quote what was sent.
// Only the values are removed: errorCode, the summaries' words and the
// field names they give stay, for the user to fix the configuration with.
// Doing it here, under the SDK, covers every call and every place an
// error's text goes (it is formatted once, when it is wrapped).
type scrubTransport struct {
	next http.RoundTripper
	// known are secrets any request may carry besides what its body shows
	// (the API token, also in its Authorization header).
	known []string
}

// RoundTrip implements http.RoundTripper.
func (t *scrubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	send := req
	if body != nil {
		send = req.Clone(req.Context())
		send.Body = io.NopCloser(bytes.NewReader(body))
		send.ContentLength = int64(len(body))
		send.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := t.next.RoundTrip(send)
	if err != nil || resp.StatusCode < http.StatusBadRequest {
		return resp, err
	}
	secrets := append(append([]string{}, t.known...), sentSecrets(req, body)...)
	// Longest first: a secret inside another must not leave the rest of it.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading okta's %d answer to %s %s: %w", resp.StatusCode, req.Method, req.URL.Path, err)
	}
	answer = scrubAnswer(answer, secrets)
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	resp.ContentLength = int64(len(answer))
	resp.Header.Del("Content-Length")
	// The SDK also reads a 401's or 403's error_description from here.
	if v := resp.Header.Values("Www-Authenticate"); len(v) > 0 {
		resp.Header.Del("Www-Authenticate")
		for _, s := range v {
			resp.Header.Add("Www-Authenticate", scrubString(s, secrets))
		}
	}
	return resp, nil
}

// sentSecrets are the secret values a request carries: its Authorization
// credential and, in its JSON body, the fields the management API spec
// gives secrets: ApplicationCredentialsOAuthClient and OAuth2ClientSecret
// client_secret; InlineHookChannelConfigAuthScheme value (the header value
// Okta sends a hook, event hooks' alike) and InlineHookChannelConfigHeaders
// values; PasswordCredential value; and a JWK's private members (RFC 7517
// §9.1, RFC 7518 §6: d, p, q, dp, dq, qi, oth, k), which a request should
// never carry.
func sentSecrets(req *http.Request, body []byte) []string {
	var out []string
	if _, cred, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && cred != "" {
		out = append(out, cred)
	}
	var doc any
	if len(body) > 0 && json.Unmarshal(body, &doc) == nil {
		collectSecrets(doc, "", &out)
	}
	return out
}

// jwkPrivate are a JWK's private members.
var jwkPrivate = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// collectSecrets walks a JSON document; parent is the key v is under.
func collectSecrets(v any, parent string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		_, isJWK := v["kty"]
		for k, x := range v {
			secret := k == "client_secret" ||
				(k == "value" && (parent == "authScheme" || parent == "headers" || parent == "password")) ||
				(isJWK && jwkPrivate[k])
			if secret {
				addStrings(x, out)
				continue
			}
			collectSecrets(x, k, out)
		}
	case []any:
		for _, x := range v {
			collectSecrets(x, parent, out) // an array's items are under its key
		}
	}
}

// addStrings adds every string in v (a JWK's "oth" is an array of objects).
func addStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		if v != "" {
			*out = append(*out, v)
		}
	case map[string]any:
		for _, x := range v {
			addStrings(x, out)
		}
	case []any:
		for _, x := range v {
			addStrings(x, out)
		}
	}
}

// scrubAnswer removes secrets from every string of a JSON answer (decoded
// first, so that a secret JSON-escaped in the answer is found too), or from
// the raw bytes of one that is not JSON.
func scrubAnswer(answer []byte, secrets []string) []byte {
	if len(secrets) == 0 {
		return answer
	}
	var doc any
	if json.Unmarshal(answer, &doc) == nil {
		if out, err := json.Marshal(scrubValue(doc, secrets)); err == nil {
			return out
		}
	}
	return []byte(scrubString(string(answer), secrets))
}

func scrubValue(v any, secrets []string) any {
	switch v := v.(type) {
	case string:
		return scrubString(v, secrets)
	case map[string]any:
		for k, x := range v {
			v[k] = scrubValue(x, secrets)
		}
	case []any:
		for i, x := range v {
			v[i] = scrubValue(x, secrets)
		}
	}
	return v
}

func scrubString(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	return s
}
