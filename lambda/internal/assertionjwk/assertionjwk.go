// Package assertionjwk reads the EHR launch proxy's KMS assertion key
// (contract/ehrlaunchenv) as the public JWK both Lambdas name it by: the Okta
// custom resource registers it on the backend clients (lambda/oktaauth/
// proxykey), the token proxy signs under its kid (lambda/ehrlaunch/
// assertionkey). One definition, so that the two cannot drift apart: RS256,
// use sig, kid the base64url RFC 7638 SHA-256 thumbprint (go-jose's
// JSONWebKey.Thumbprint).
package assertionjwk

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v3"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// PublicKeyGetter is what the package uses of the KMS client.
type PublicKeyGetter interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// Read reads the public half of the KMS key keyARN (kms:GetPublicKey) as its
// JWK. It refuses a key the proxy cannot sign RS256 assertions with: not
// SIGN_VERIFY, not ehrlaunchenv.AssertionKeySpec, or without
// ehrlaunchenv.AssertionSigningAlgorithm. Every error names the key.
func Read(ctx context.Context, c PublicKeyGetter, keyARN string) (jose.JSONWebKey, error) {
	out, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyARN)})
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("reading the public key of the EHR launch proxy's assertion key %s: %w", keyARN, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("the EHR launch proxy's assertion key %s: %s", keyARN, fmt.Sprintf(format, args...))
	}
	switch {
	case out.KeyUsage != types.KeyUsageTypeSignVerify:
		return jose.JSONWebKey{}, bad("key usage is %s, not %s", out.KeyUsage, types.KeyUsageTypeSignVerify)
	case string(out.KeySpec) != ehrlaunchenv.AssertionKeySpec:
		return jose.JSONWebKey{}, bad("key spec is %s, not %s", out.KeySpec, ehrlaunchenv.AssertionKeySpec)
	case !slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpec(ehrlaunchenv.AssertionSigningAlgorithm)):
		return jose.JSONWebKey{}, bad("does not sign with %s", ehrlaunchenv.AssertionSigningAlgorithm)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return jose.JSONWebKey{}, bad("public key is not DER SubjectPublicKeyInfo: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return jose.JSONWebKey{}, bad("public key is a %T, not RSA", pub)
	}
	jwk, err := Of(rsaPub)
	if err != nil {
		return jose.JSONWebKey{}, bad("%v", err)
	}
	return jwk, nil
}

// Of is the JWK of an assertion key's public half: kid the base64url RFC
// 7638 SHA-256 thumbprint, alg RS256, use sig.
func Of(pub *rsa.PublicKey) (jose.JSONWebKey, error) {
	jwk := jose.JSONWebKey{Key: pub, Algorithm: ehrlaunchenv.AssertionJWSAlgorithm, Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("computing the thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return jwk, nil
}
