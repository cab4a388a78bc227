// Package proxykey reads the EHR launch proxy's assertion key
// (oktaprops.PropProxyAssertionKeyARN) from KMS as the public JWK the Okta
// custom resource registers on the private_key_jwt clients. The JWK is the
// one the proxy signs with (contract/ehrlaunchenv): RS256, use sig, and kid
// the base64url RFC 7638 SHA-256 thumbprint of the public key (go-jose's
// JSONWebKey.Thumbprint), so both sides name the key alike.
package proxykey

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/assertionjwk"
)

// PropagationAttempts is how many times the KMS client tries a call that IAM
// refuses (AccessDeniedException) before giving up: the deployment that adds
// backend services gives the handler's existing role kms:GetPublicKey and runs
// the custom resource right after, and IAM changes take seconds to apply
// everywhere ("changes ... are eventually consistent": IAM User Guide,
// "Troubleshooting IAM", changes that I make are not always immediately
// visible). With the SDK's backoff (up to 20 s each) the last try comes
// about a minute after the first.
const PropagationAttempts = 6

// WaitForIAM is a kms.Options function for the handler's KMS client: the
// SDK's standard retryer, also retrying AccessDeniedException, up to
// PropagationAttempts tries. A lasting denial still fails the step, naming
// the key, and nothing in Okta has changed then (the key is read first).
func WaitForIAM(o *kms.Options) {
	o.Retryer = retry.AddWithMaxAttempts(retry.AddWithErrorCodes(retry.NewStandard(), "AccessDeniedException"), PropagationAttempts)
}

// PublicKeyGetter is what the package uses of the KMS client.
type PublicKeyGetter = assertionjwk.PublicKeyGetter

// JWK reads the public half of the KMS key keyARN (kms:GetPublicKey) and
// returns it as a public JWK {kty, n, e, kid, use, alg}, as
// lambda/internal/assertionjwk defines it for both Lambdas. It refuses a key
// the proxy cannot sign RS256 assertions with. Every error names the key.
func JWK(ctx context.Context, c PublicKeyGetter, keyARN string) (map[string]any, error) {
	k, err := assertionjwk.Read(ctx, c, keyARN)
	if err != nil {
		return nil, err
	}
	raw, err := k.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("the EHR launch proxy's assertion key %s: encoding it as a JWK: %v", keyARN, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the EHR launch proxy's assertion key %s: decoding its JWK: %v", keyARN, err)
	}
	return m, nil
}
