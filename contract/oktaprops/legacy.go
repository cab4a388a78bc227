package oktaprops

import (
	"net/url"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
)

// Kept is what ParseUpdate (or ParseConnectionForDelete) accepted that Parse
// refuses, for the caller to warn about: values that stacks may have been
// deployed with, under rules since made stricter. Refusing them on Update
// would fail that Update and, since a rollback is an Update back to the
// deployed properties (whose "old" properties are the failed Update's, which
// may lack the value), its rollback too: UPDATE_ROLLBACK_FAILED. On Delete it
// would fail the Delete for good. Synthesis and Create (Parse) keep refusing
// them, so they reach an Update only from a stack deployed before, or from
// properties no construct made, and then Okta has the last word.
type Kept struct {
	// ReservedClaims are claim names Okta reserves (ReservedClaimName), as
	// "<claimType> <name>".
	ReservedClaims []string
	// Relaxed are values the current rule refuses and the previous
	// version's accepted (OktaOrgUrl, the clients' redirect URIs,
	// TokenHookUrl), as "<property> <the current rule's reason>"; the reason
	// quotes the value redacted (httpsurl.Redact), so it may be logged.
	Relaxed []string
}

// relaxed accepts a value the current rule refused (strict) when k is
// non-nil (an Update or a Delete) and the previous version's rule accepts it
// (legacyOK), recording it in k.Relaxed. Otherwise it returns strict as a
// PropertyError naming prop.
func (k *Kept) relaxed(prop string, strict error, legacyOK bool) error {
	if k == nil || !legacyOK {
		return propErr(prop, strict.Error())
	}
	k.Relaxed = append(k.Relaxed, prop+" "+strict.Error())
	return nil
}

// The legacy* rules are those of the version before the stricter ones
// (git 9102218, lambda/oktaauth/smartcatalog/parse.go), used only to accept
// on Update and Delete what a deployed stack may hold; see Kept.

// legacyOrgURL is the previous org-URL rule. Unlike CheckOrgURL it accepted
// an empty query (a trailing ?), an empty fragment (a trailing #) and a path
// of slashes only. It refused credentials and the admin console's address
// too. It returns scheme://host, as CheckOrgURL does, so the same org is
// reached whichever rule accepted it.
func legacyOrgURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return "", false
	}
	scheme := u.Scheme == "https" || u.Scheme == "http" && legacyLoopback(u.Hostname())
	if !scheme || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" ||
		strings.Contains(u.Host, "-admin.") {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

func legacyLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// legacyRedirect is the previous redirect-URI rule. Unlike
// httpsurl.CheckRedirect it accepted white space (where url.Parse does), an
// empty fragment (a trailing #), a wildcard and user info.
func legacyRedirect(raw string, customSchemeAllowed bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		return u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"
	}
	return customSchemeAllowed
}

// legacyTokenHookURL is the previous TokenHookUrl rule. Unlike the current
// one it accepted user info.
func legacyTokenHookURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Fragment == "" && !strings.ContainsAny(raw, " \t\r\n")
}

// ParseConnectionForDelete is ParseConnection for a Delete: the org URL is
// read with the previous version's rule when the current one refuses it (see
// Kept), so that a stack deployed with such a value can still be deleted.
func ParseConnectionForDelete(p cfnprops.Properties) (Connection, Kept, error) {
	var kept Kept
	c, err := parseConnection(p, &kept)
	if err != nil {
		return Connection{}, Kept{}, err
	}
	return c, kept, nil
}

// ParseAudienceBindingUpdate is ParseAudienceBinding for an Update: the org
// URL is read as ParseUpdate reads it (see Kept).
func ParseAudienceBindingUpdate(p cfnprops.Properties) (AudienceBinding, Kept, error) {
	var kept Kept
	b, err := parseAudienceBinding(p, &kept)
	if err != nil {
		return AudienceBinding{}, Kept{}, err
	}
	return b, kept, nil
}
