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
