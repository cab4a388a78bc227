// Package httpsurl holds the rules every part of the library applies to the
// URLs it is configured with (authorization-server endpoints, discovery and
// JWK Set URLs, org and public URLs), and the redaction that keeps what a URL
// may carry besides its place (credentials, a query, a fragment) out of errors
// and logs. It imports only the standard library, so constructs check at synth
// exactly what the handlers check at deploy and at run time.
package httpsurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Check accepts an endpoint URL: absolute https, without user info or a
// fragment. A query is allowed: Entra ID's jwks_uri carries ?appid= for apps
// with signing keys of their own. Its errors quote the URL redacted.
func Check(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL")
	case u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%q must be an absolute https URL", Redact(raw))
	case u.User != nil || u.Fragment != "" || u.RawFragment != "":
		return fmt.Errorf("%q must not carry user info or a fragment", Redact(raw))
	}
	return nil
}

// CheckOrLoopback accepts a base URL the Lambdas call (an issuer, a JWK Set
// or introspection URL, a public URL): absolute https, or http on a loopback
// host so tests can run local servers; without credentials, a query or a
// fragment. Anything else could hand an attacker the keys. Its errors quote
// the URL redacted.
func CheckOrLoopback(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL")
	case u.User != nil:
		return fmt.Errorf("must not carry credentials")
	case u.Host == "":
		return fmt.Errorf("not an absolute URL: %q", Redact(raw))
	case u.Fragment != "" || u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("must not have a query or fragment: %q", Redact(raw))
	case u.Scheme == "https", u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("must be https (http only on a loopback host): %q", Redact(raw))
}

// CheckRedirect accepts an OAuth redirect URI (a login callback or a
// post-logout redirect), as every part that registers or compares one applies
// it: the Okta resource's properties, the stacks' configuration and the EHR
// launch functions. Its errors read as a reason after the URI's name and quote
// the URI redacted.
//
//   - absolute, with no white space in it;
//   - no fragment, not even an empty one (RFC 6749 section 3.1.2);
//   - no wildcard: Okta accepts one only with its wildcard setting, which
//     nothing here turns on, and elsewhere it would match literally;
//   - no user info: the URI is registered in the template and at Okta;
//   - https with a host; http only on a loopback host (IsLoopback: RFC 8252
//     sections 7.3 and 8.3, the loopback redirect of native apps and local
//     development);
//   - any other scheme only when customSchemeAllowed: the private-use URI
//     scheme of a native app (RFC 8252 section 7.1).
func CheckRedirect(raw string, customSchemeAllowed bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme == "" || strings.ContainsAny(raw, " \t\r\n"):
		return fmt.Errorf("must be an absolute URL, got %q", Redact(raw))
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("must not have a fragment, got %q", Redact(raw))
	case strings.Contains(raw, "*"):
		return fmt.Errorf("must not hold a wildcard, got %q", Redact(raw))
	case u.User != nil:
		return fmt.Errorf("must not carry user info, got %q", Redact(raw))
	case u.Scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("must name a host, got %q", Redact(raw))
		}
	case u.Scheme == "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("must be https (http only for localhost, 127.0.0.1 or [::1]), got %q", Redact(raw))
		}
	case !customSchemeAllowed:
		return fmt.Errorf("must be https (custom schemes only for native public apps), got %q", Redact(raw))
	}
	return nil
}

// IsLoopback reports whether host (a URL's Hostname) is this machine's
// loopback name or address: localhost, 127.0.0.1 or ::1, spelled so. Other
// spellings (127.0.0.2, 0:0:0:0:0:0:0:1) are refused: no test needs them, and
// a rule that lets plain http through should accept no more than it must.
func IsLoopback(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// Redact returns a URL fit for logs and errors: without user info, query or
// fragment, which may carry credentials or tokens.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return RedactURL(u)
}

// RedactURL is Redact for a parsed URL; u is not changed.
func RedactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// UnwrapURLError drops the *url.Error wrapper net/http puts around a client
// error, which repeats the URL with its query: the caller names the URL,
// redacted.
func UnwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
