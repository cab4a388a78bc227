package oktaprops

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
)

// MaxClientKeys is the most keys Okta keeps in one client's JWKS (management
// API spec, ErrorClientJsonWebKeyTooManyKids: "You have reached the maximum
// number of keys allowed (50)").
const MaxClientKeys = 50

var (
	kmsKeyARN   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9A-Za-z-]+$`)
	kmsAliasARN = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:alias/`)
)

// parseProxyAssertionKey reads PropProxyAssertionKeyARN. It runs after the
// clients and the apps: with the key, every key of a private_key_jwt client
// needs a kid and room for one more key (see PropProxyAssertionKeyARN).
func (s *Spec) parseProxyAssertionKey(p cfnprops.Properties) error {
	arn, err := p.OptionalString(PropProxyAssertionKeyARN, "")
	if err != nil || arn == "" {
		return err
	}
	switch {
	case kmsAliasARN.MatchString(arn) || strings.HasPrefix(arn, "alias/"):
		return propErr(PropProxyAssertionKeyARN, fmt.Sprintf("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), "+
			"not an alias: the handler's kms:GetPublicKey permission names the key's ARN, which IAM does not match against an alias; got %q", arn))
	case !kmsKeyARN.MatchString(arn):
		return propErr(PropProxyAssertionKeyARN, fmt.Sprintf("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), got %q", arn))
	}
	s.ProxyAssertionKeyARN = arn
	if c, ok := s.Client(BackendClient); ok {
		if key, reason := RoomForProxyKey(c.JWKS); reason != "" {
			return propErr(PropBackendClientJWKS+key, reason)
		}
	}
	for i, a := range s.Apps {
		if a.Type != AppBackend {
			continue
		}
		if key, reason := RoomForProxyKey(a.Client.JWKS); reason != "" {
			return &AppError{Index: i, Name: a.Name, Key: "jwks" + key, Reason: reason}
		}
	}
	return nil
}

// RoomForProxyKey checks that a service's keys can share a JWKS with the
// proxy's: each with a kid, unique, and fewer than MaxClientKeys. It returns
// the JSON path of the key at fault (".keys[1]", or "" for the set) and why,
// or two empty strings. Parse applies it with PropProxyAssertionKeyARN; a
// composite that sets that property applies it to fail in its own words.
func RoomForProxyKey(keys []map[string]any) (key, reason string) {
	if len(keys) >= MaxClientKeys {
		return "", fmt.Sprintf("holds %d keys; with ProxyAssertionKeyArn the proxy's key is added, and Okta keeps at most %d per client",
			len(keys), MaxClientKeys)
	}
	var kids []string
	for i, k := range keys {
		kid, _ := k["kid"].(string)
		switch {
		case kid == "":
			// With several keys Okta also picks the one to verify a client
			// assertion with by the kid in its header: a service that signs
			// for Okta's own token endpoint has to send it from now on.
			return fmt.Sprintf(".keys[%d]", i), "needs a kid: with ProxyAssertionKeyArn the JWKS also holds the EHR launch proxy's " +
				"key, and Okta refuses a JWKS of several keys unless each has a kid; a service that calls Okta's token endpoint " +
				"directly must then send its key's kid in its client assertion's header"
		case slices.Contains(kids, kid):
			return fmt.Sprintf(".keys[%d]", i), fmt.Sprintf("repeats kid %q: Okta wants every key of a JWKS to have its own kid", kid)
		}
		kids = append(kids, kid)
	}
	return "", ""
}

// AddProxyAssertionKey adds jwk, the public JWK of ProxyAssertionKeyARN, to
// the JWKS of every private_key_jwt client (the backend client and the
// backend apps), after the service's own keys, so that a JWKS that already
// holds it reads back unchanged. A service key that is the same key is left
// as the only copy; one that has its kid but other key material is an error:
// Okta identifies the verification key by kid.
func (s *Spec) AddProxyAssertionKey(jwk map[string]any) error {
	kid, _ := jwk["kid"].(string)
	if kid == "" {
		return fmt.Errorf("the proxy assertion key's JWK has no kid")
	}
	add := func(keys []map[string]any, what string) ([]map[string]any, error) {
		for _, k := range keys {
			if k["kid"] != kid {
				continue
			}
			if k["kty"] == jwk["kty"] && k["n"] == jwk["n"] && k["e"] == jwk["e"] {
				return keys, nil
			}
			return nil, fmt.Errorf("%s has a key with kid %q, the kid of the EHR launch proxy's assertion key %s, but other key "+
				"material: give that key another kid", what, kid, s.ProxyAssertionKeyARN)
		}
		return append(slices.Clone(keys), maps.Clone(jwk)), nil
	}
	for i, c := range s.Clients {
		if c.TokenEndpointAuthMethod != "private_key_jwt" {
			continue
		}
		keys, err := add(c.JWKS, PropBackendClientJWKS)
		if err != nil {
			return err
		}
		s.Clients[i].JWKS = keys
	}
	for i, a := range s.Apps {
		if a.Client.TokenEndpointAuthMethod != "private_key_jwt" {
			continue
		}
		keys, err := add(a.Client.JWKS, fmt.Sprintf("%s[%d] %q jwks", PropApps, i, a.Name))
		if err != nil {
			return err
		}
		s.Apps[i].Client.JWKS = keys
	}
	return nil
}

// PublicJWKS checks a JSON Web Key Set registered for private_key_jwt: a
// {"keys": [...]} object of at least one public RSA key, none with a private
// member (d, p, q, dp, dq, qi, oth, or k of a symmetric key), which would put
// a private key in the template. It is the rule of the Apps' jwks, for
// constructs that take a service's JWKS elsewhere (constructs/ehrlaunch).
func PublicJWKS(raw json.RawMessage) ([]map[string]any, error) {
	return appJWKS(raw)
}
