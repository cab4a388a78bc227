// Package assertionkey signs the token proxy's client assertions for Okta with
// the KMS asymmetric key of the EHR launch contract (ehrlaunchenv
// AssertionKeySpec, AssertionSigningAlgorithm): KMS holds the private key, the
// proxy only ever sees signatures. The JWS is built by go-jose through its
// extension point for external signers (jose.OpaqueSigner); KMS signs the
// SHA-256 digest of the signing input (MessageType DIGEST), which is RS256
// (RFC 7518 section 3.3: RSASSA-PKCS1-v1_5 with SHA-256).
//
// The public key is read from KMS (GetPublicKey) the first time it is needed
// and kept for the container's life; a failed read is retried on the next
// request. Its kid is the contract's: the base64url RFC 7638 SHA-256
// thumbprint of its JWK, the kid the Okta custom resource registers it under.
package assertionkey

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/assertionjwk"
)

// API is the part of the KMS client the key uses (*kms.Client).
type API interface {
	GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
}

// Key is the KMS assertion key. It is safe for concurrent use.
type Key struct {
	api API
	arn string

	mu  sync.Mutex
	pub *jose.JSONWebKey // nil until GetPublicKey succeeded
}

// New returns the key named by arn (ehrlaunchenv Config.AssertionKeyARN).
func New(api API, arn string) *Key { return &Key{api: api, arn: arn} }

// PublicKey returns the key's public JWK, with its kid and alg, reading it
// from KMS on first use.
func (k *Key) PublicKey(ctx context.Context) (jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pub != nil {
		return *k.pub, nil
	}
	jwk, err := assertionjwk.Read(ctx, k.api, k.arn)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	k.pub = &jwk
	return jwk, nil
}

// Sign returns claims as a compact JWS signed by the KMS key (alg RS256, kid
// the key's thumbprint, typ JWT).
func (k *Key) Sign(ctx context.Context, claims any) (string, error) {
	pub, err := k.PublicKey(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: opaque{ctx: ctx, key: k, pub: pub}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("preparing the assertion signer: %w", err)
	}
	out, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return out, nil
}

// opaque is one Sign call's jose.OpaqueSigner: it carries the request's
// context, which OpaqueSigner's methods do not take.
type opaque struct {
	ctx context.Context
	key *Key
	pub jose.JSONWebKey
}

// Public gives go-jose the public JWK, whose KeyID becomes the header's kid.
func (o opaque) Public() *jose.JSONWebKey { return &o.pub }

func (o opaque) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.RS256} }

// SignPayload has KMS sign the SHA-256 digest of the JWS signing input.
func (o opaque) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, fmt.Errorf("the assertion key signs %s only, not %s", jose.RS256, alg)
	}
	digest := sha256.Sum256(payload)
	out, err := o.key.api.Sign(o.ctx, &kms.SignInput{
		KeyId: aws.String(o.key.arn), Message: digest[:], MessageType: types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpec(ehrlaunchenv.AssertionSigningAlgorithm),
	})
	if err != nil {
		return nil, fmt.Errorf("KMS Sign: %w", err)
	}
	return out.Signature, nil
}
