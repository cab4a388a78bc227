package smartcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v3"
)

func TestParseClientKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pkcs8PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: ec, KeyID: "k1"})
	publicJWK, _ := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "k1"})
	wrapped, _ := json.Marshal(map[string]string{"privateKey": pkcs8PEM, "keyId": "from-secret"})

	for _, tc := range []struct {
		name, data, kid, alg string
	}{
		{"PKCS #8 PEM", pkcs8PEM, "", "ES384"},
		{"SEC 1 PEM", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), "", "ES384"},
		{"PKCS #1 PEM", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})), "", "RS384"},
		{"a private JWK, with its kid", string(jwk), "k1", "ES384"},
		{"a secret's {privateKey, keyId}", string(wrapped), "from-secret", "ES384"},
	} {
		t.Run("reads "+tc.name+" and signs as SMART Backend Services asks", func(t *testing.T) {
			k, err := ParseClientKey([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if k.KeyID != tc.kid {
				t.Errorf("kid %q, want %q", k.KeyID, tc.kid)
			}
			m, err := signingMethod(k.Signer)
			if err != nil || m.Alg() != tc.alg {
				t.Errorf("alg %v (%v), want %s", m, err, tc.alg)
			}
		})
	}

	t.Run("a public JWK is refused with what is needed", func(t *testing.T) {
		if _, err := ParseClientKey(publicJWK); err == nil || !strings.Contains(err.Error(), "private key is needed") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("a P-256 key is refused because ES384 needs P-384", func(t *testing.T) {
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if _, err := signingMethod(p256); err == nil || !strings.Contains(err.Error(), "P-384") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("an RSA key under 2048 bits is refused", func(t *testing.T) {
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		if _, err := signingMethod(small); err == nil || !strings.Contains(err.Error(), "2048") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("errors never quote the key", func(t *testing.T) {
		bad := "-----BEGIN PRIVATE KEY-----\nTUlJQ2V3SUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbVV3Z2dKaEFnRUFBb0dCQU1Z\n-----END PRIVATE KEY-----\n"
		_, err := ParseClientKey([]byte(bad))
		if err == nil || strings.Contains(err.Error(), "TUlJQ2V3") {
			t.Errorf("error %v", err)
		}
	})
}
