package proxykey_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/proxykey"
)

func client(s *fakekms.Server) *kms.Client {
	return kms.New(kms.Options{Region: fakekms.Region, BaseEndpoint: aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1})
}

func TestJWK(t *testing.T) {
	s := fakekms.New(t)
	arn, err := s.AddSigningKey()
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("the key's public half as an RS256 signing JWK whose kid is its RFC 7638 thumbprint", func(t *testing.T) {
		jwk, err := proxykey.JWK(ctx, client(s), arn)
		require.NoError(t, err)
		pub := s.PublicKey(arn)
		b64 := base64.RawURLEncoding.EncodeToString
		n, e := b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
		// RFC 7638 section 3.2: the required members in lexicographic order,
		// no white space; computed here by hand, not with go-jose.
		sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
		assert.Equal(t, map[string]any{"kty": "RSA", "n": n, "e": e, "kid": b64(sum[:]), "use": "sig", "alg": "RS256"}, jwk)
		raw, _ := json.Marshal(jwk)
		for _, private := range []string{`"d"`, `"p"`, `"q"`} {
			assert.NotContains(t, string(raw), private)
		}
	})
	t.Run("reading it twice gives the same JWK", func(t *testing.T) {
		a, err := proxykey.JWK(ctx, client(s), arn)
		require.NoError(t, err)
		b, err := proxykey.JWK(ctx, client(s), arn)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	})
	t.Run("an unknown key fails naming its ARN", func(t *testing.T) {
		missing := "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
		_, err := proxykey.JWK(ctx, client(s), missing)
		require.ErrorContains(t, err, missing)
		assert.ErrorContains(t, err, "NotFoundException")
	})
	t.Run("a disabled key fails naming its ARN", func(t *testing.T) {
		off, err := s.AddSigningKey()
		require.NoError(t, err)
		s.Disable(off)
		_, err = proxykey.JWK(ctx, client(s), off)
		require.ErrorContains(t, err, off)
		assert.ErrorContains(t, err, "DisabledException")
	})
}

func TestWaitForIAM(t *testing.T) {
	s := fakekms.New(t)
	arn, err := s.AddSigningKey()
	require.NoError(t, err)
	ctx := context.Background()
	waiting := kms.New(kms.Options{Region: fakekms.Region, BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}, proxykey.WaitForIAM)

	t.Run("an AccessDeniedException while IAM propagates the new grant is retried", func(t *testing.T) {
		rule := s.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied})
		_, err := proxykey.JWK(ctx, waiting, arn)
		require.NoError(t, err)
		assert.Equal(t, 1, s.Faults.Fired(rule))
	})
	t.Run("a lasting denial fails after PropagationAttempts tries, naming the key", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits out the SDK's backoff")
		}
		before := s.Calls("GetPublicKey")
		s.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied, Times: proxykey.PropagationAttempts})
		_, err := proxykey.JWK(ctx, kms.New(kms.Options{Region: fakekms.Region, BaseEndpoint: aws.String(s.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}, proxykey.WaitForIAM,
			func(o *kms.Options) { o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond) }), arn)
		require.ErrorContains(t, err, arn)
		assert.ErrorContains(t, err, "AccessDeniedException")
		assert.Equal(t, proxykey.PropagationAttempts, s.Calls("GetPublicKey")-before)
	})
	t.Run("without it, the SDK does not retry a denial", func(t *testing.T) {
		s.Faults.Clear()
		s.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied})
		_, err := proxykey.JWK(ctx, client(s), arn)
		assert.ErrorContains(t, err, "AccessDeniedException")
	})
}
