package assertionkey_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v3"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/assertionkey"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/proxykey"
)

// The two Lambdas meet only in Okta: the Okta custom resource registers the
// KMS key's public half under a kid (lambda/oktaauth/proxykey), and the token
// proxy signs with that key naming a kid (this package). If the two kids
// differed, Okta would refuse every proxied backend token request ("The
// client_assertion JWT kid is invalid"), and no test of either side alone
// would see it. So one KMS key goes through both, and Okta's check is played
// with go-jose: the proxy's assertion verifies with the JWK the resource
// registers, found by the assertion's kid.
func TestTheProxySignsUnderTheKidTheOktaResourceRegisters(t *testing.T) {
	s := fakekms.New(t)
	arn, err := s.AddSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	ctx := context.Background()

	registered, err := proxykey.JWK(ctx, c, arn)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(registered)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(`{"keys":[`+string(raw)+`]}`), &set); err != nil {
		t.Fatalf("the registered JWK %s does not parse: %v", raw, err)
	}

	assertion, err := assertionkey.New(c, arn).Sign(ctx, map[string]any{"iss": "svc", "sub": "svc", "aud": "https://okta.example/oauth2/aus1/v1/token", "jti": "j", "exp": 4102444800})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(assertion)
	if err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the assertion's kid %q names no key the Okta resource registers (it registers %q)", kid, set.Keys[0].KeyID)
	}
	if alg := jws.Signatures[0].Header.Algorithm; alg != keys[0].Algorithm {
		t.Fatalf("the assertion is signed %s, the registered JWK says %s", alg, keys[0].Algorithm)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		t.Fatalf("the assertion does not verify with the registered JWK: %v", err)
	}
}
