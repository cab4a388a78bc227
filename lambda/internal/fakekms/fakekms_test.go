package fakekms_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
)

func TestTheRealClientSignsAndReadsThePublicKey(t *testing.T) {
	s := fakekms.New(t)
	arn, err := s.AddSigningKey("proxy")
	if err != nil {
		t.Fatal(err)
	}
	c, ctx := s.Client(), context.Background()
	t.Run("the public key is DER SubjectPublicKeyInfo of the key", func(t *testing.T) {
		out, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String("alias/proxy")})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
		if err != nil || !pub.(*rsa.PublicKey).Equal(s.PublicKey(arn)) || aws.ToString(out.KeyId) != arn || out.KeyUsage != types.KeyUsageTypeSignVerify {
			t.Fatalf("pub %v, err %v, out %+v", pub, err, out)
		}
		// An RSA signing key's algorithms (KMS API Reference, "Key spec
		// reference: RSA key specs"): PKCS #1 v1.5 and PSS, each with SHA-256/384/512.
		if out.KeySpec != types.KeySpecRsa2048 || len(out.SigningAlgorithms) != 6 ||
			!slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256) ||
			!slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecRsassaPssSha512) {
			t.Fatalf("key spec %s, signing algorithms %v", out.KeySpec, out.SigningAlgorithms)
		}
	})
	t.Run("a DIGEST signature verifies as PKCS #1 v1.5 over that digest", func(t *testing.T) {
		d := sha256.Sum256([]byte("header.payload"))
		out, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(arn), Message: d[:], MessageType: types.MessageTypeDigest,
			SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(s.PublicKey(arn), crypto.SHA256, d[:], out.Signature); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a RAW message is hashed by KMS", func(t *testing.T) {
		out, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(arn), Message: []byte("header.payload"),
			SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
		d := sha256.Sum256([]byte("header.payload"))
		if err != nil || rsa.VerifyPKCS1v15(s.PublicKey(arn), crypto.SHA256, d[:], out.Signature) != nil {
			t.Fatalf("err %v", err)
		}
	})
	for _, c2 := range []struct {
		name string
		in   kms.SignInput
		want string
	}{
		{"a digest of the wrong length is a ValidationException", kms.SignInput{KeyId: aws.String(arn), Message: []byte("short"),
			MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256}, "ValidationException"},
		{"an ECDSA algorithm on an RSA key is an InvalidKeyUsageException", kms.SignInput{KeyId: aws.String(arn), Message: []byte("m"),
			SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}, "InvalidKeyUsageException"},
		{"an unknown key is a NotFoundException", kms.SignInput{KeyId: aws.String("alias/other"), Message: []byte("m"),
			SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256}, "NotFoundException"},
	} {
		t.Run(c2.name, func(t *testing.T) {
			_, err := c.Sign(ctx, &c2.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != c2.want {
				t.Fatalf("err = %v, want %s", err, c2.want)
			}
		})
	}
	t.Run("a throttle is retried by the SDK", func(t *testing.T) {
		before := s.Calls("GetPublicKey")
		s.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Throttle})
		if _, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		if n := s.Calls("GetPublicKey") - before; n != 2 {
			t.Fatalf("%d calls, want 2 (one throttled, one retried)", n)
		}
	})
	t.Run("a disabled key refuses to sign", func(t *testing.T) {
		s.Disable(arn)
		_, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(arn), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
		var de *types.DisabledException
		if !errors.As(err, &de) {
			t.Fatalf("err = %v, want DisabledException", err)
		}
	})
}
