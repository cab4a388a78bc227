// Package proxykey reads the EHR launch proxy's assertion key
// (oktaprops.PropProxyAssertionKeyARN) from KMS as the public JWK the Okta
// custom resource registers on the private_key_jwt clients. The JWK is the
// one the proxy signs with (contract/ehrlaunchenv): RS256, use sig, and kid
// the base64url RFC 7638 SHA-256 thumbprint of the public key (go-jose's
// JSONWebKey.Thumbprint), so both sides name the key alike.
package proxykey

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
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

// JWK reads the public half of the KMS key keyARN (kms:GetPublicKey) and
// returns it as a public JWK {kty, n, e, kid, use, alg}. It refuses a key
// the proxy cannot sign RS256 assertions with: not SIGN_VERIFY, not
// ehrlaunchenv.AssertionKeySpec, or without
// ehrlaunchenv.AssertionSigningAlgorithm. Every error names the key.
func JWK(ctx context.Context, c PublicKeyGetter, keyARN string) (map[string]any, error) {
	out, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyARN)})
	if err != nil {
		return nil, fmt.Errorf("reading the public key of the EHR launch proxy's assertion key %s: %w", keyARN, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("the EHR launch proxy's assertion key %s: %s", keyARN, fmt.Sprintf(format, args...))
	}
	switch {
	case out.KeyUsage != types.KeyUsageTypeSignVerify:
		return nil, bad("key usage is %s, not %s", out.KeyUsage, types.KeyUsageTypeSignVerify)
	case string(out.KeySpec) != ehrlaunchenv.AssertionKeySpec:
		return nil, bad("key spec is %s, not %s", out.KeySpec, ehrlaunchenv.AssertionKeySpec)
	case !slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpec(ehrlaunchenv.AssertionSigningAlgorithm)):
		return nil, bad("does not sign with %s", ehrlaunchenv.AssertionSigningAlgorithm)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, bad("public key is not DER SubjectPublicKeyInfo: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, bad("public key is a %T, not RSA", pub)
	}
	k := jose.JSONWebKey{Key: rsaPub, Algorithm: ehrlaunchenv.AssertionJWSAlgorithm, Use: "sig"}
	thumb, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, bad("computing its thumbprint: %v", err)
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	raw, err := k.MarshalJSON()
	if err != nil {
		return nil, bad("encoding it as a JWK: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, bad("decoding its JWK: %v", err)
	}
	return m, nil
}
