package assertionkey_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/assertionkey"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/assertionjwk"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
)

func newKey(t *testing.T) (*assertionkey.Key, *fakekms.Server, string) {
	t.Helper()
	s := fakekms.New(t)
	arn, err := s.AddSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	return assertionkey.New(c, arn), s, arn
}

func TestSign(t *testing.T) {
	ctx := context.Background()
	t.Run("the JWS is RS256 by the KMS key, with the thumbprint as kid", func(t *testing.T) {
		k, s, arn := newKey(t)
		out, err := k.Sign(ctx, map[string]any{"iss": "svc", "sub": "svc", "aud": "https://okta.example/oauth2/x/v1/token", "exp": 4102444800})
		if err != nil {
			t.Fatal(err)
		}
		var c jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(out, &c, func(*jwt.Token) (any, error) { return s.PublicKey(arn), nil }, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil || c.Issuer != "svc" || c.Audience[0] != "https://okta.example/oauth2/x/v1/token" {
			t.Fatalf("err %v, claims %+v", err, c)
		}
		th, _ := (&jose.JSONWebKey{Key: s.PublicKey(arn)}).Thumbprint(crypto.SHA256)
		if tok.Header["kid"] != base64.RawURLEncoding.EncodeToString(th) || tok.Header["typ"] != "JWT" {
			t.Fatalf("header %v", tok.Header)
		}
		// KMS signed the SHA-256 digest of the signing input: PKCS #1 v1.5.
		parts := strings.Split(out, ".")
		d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		if err := rsa.VerifyPKCS1v15(s.PublicKey(arn), crypto.SHA256, d[:], sig); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the public JWK is read once and carries kid, alg and use", func(t *testing.T) {
		k, s, arn := newKey(t)
		for range 3 {
			if _, err := k.Sign(ctx, map[string]any{"iss": "svc"}); err != nil {
				t.Fatal(err)
			}
		}
		jwk, err := k.PublicKey(ctx)
		if err != nil || s.Calls("GetPublicKey") != 1 || s.Calls("Sign") != 3 {
			t.Fatalf("err %v, GetPublicKey %d, Sign %d", err, s.Calls("GetPublicKey"), s.Calls("Sign"))
		}
		want, _ := assertionjwk.Of(s.PublicKey(arn))
		if jwk.KeyID != want.KeyID || jwk.KeyID == "" || jwk.Algorithm != "RS256" || jwk.Use != "sig" || !jwk.IsPublic() {
			t.Fatalf("jwk %+v", jwk)
		}
	})
	t.Run("a failed GetPublicKey is not cached", func(t *testing.T) {
		k, s, _ := newKey(t)
		s.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied})
		if _, err := k.Sign(ctx, map[string]any{}); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Fatalf("err = %v", err)
		}
		if _, err := k.Sign(ctx, map[string]any{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a disabled key fails with KMS's DisabledException", func(t *testing.T) {
		k, s, arn := newKey(t)
		if _, err := k.PublicKey(ctx); err != nil {
			t.Fatal(err)
		}
		s.Disable(arn)
		if _, err := k.Sign(ctx, map[string]any{}); err == nil || !strings.Contains(err.Error(), "DisabledException") {
			t.Fatalf("err = %v", err)
		}
	})
}
