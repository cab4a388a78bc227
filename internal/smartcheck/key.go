package smartcheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"
)

// ClientKey is the backend service's private key and the kid its public key is
// registered under (empty when unknown: the assertion then carries no kid).
type ClientKey struct {
	Signer crypto.Signer
	KeyID  string
}

// ParseClientKey reads a private key in any of the forms a team keeps one: PEM
// (PKCS #8, PKCS #1 or SEC 1), a private JWK, or a JSON object with a
// "privateKey" (PEM or JWK) and an optional "keyId", as a Secrets Manager
// secret holds it. Errors never quote the key.
func ParseClientKey(data []byte) (ClientKey, error) {
	text := strings.TrimSpace(string(data))
	if strings.HasPrefix(text, "-----BEGIN") {
		s, err := parsePEM([]byte(text))
		return ClientKey{Signer: s}, err
	}
	if !strings.HasPrefix(text, "{") {
		return ClientKey{}, errors.New("the private key is neither PEM nor JSON")
	}
	var wrapper struct {
		PrivateKey json.RawMessage `json:"privateKey"`
		KeyID      string          `json:"keyId"`
	}
	if err := json.Unmarshal([]byte(text), &wrapper); err == nil && len(wrapper.PrivateKey) > 0 {
		var pemText string
		if json.Unmarshal(wrapper.PrivateKey, &pemText) == nil {
			k, err := ParseClientKey([]byte(pemText))
			if k.KeyID == "" {
				k.KeyID = wrapper.KeyID
			}
			return k, err
		}
		k, err := ParseClientKey(wrapper.PrivateKey)
		if k.KeyID == "" {
			k.KeyID = wrapper.KeyID
		}
		return k, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(text)); err != nil {
		return ClientKey{}, fmt.Errorf("the private key is JSON but neither a JWK nor {\"privateKey\": ...}: %w", err)
	}
	if jwk.IsPublic() {
		return ClientKey{}, errors.New("the JWK is a public key; the private key is needed to sign the client assertion")
	}
	s, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return ClientKey{}, errors.New("the JWK is not an RSA or EC private key")
	}
	return ClientKey{Signer: s, KeyID: jwk.KeyID}, nil
}

func parsePEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("the private key is not valid PEM")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the %s: %w", strings.ToLower(block.Type), err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key cannot sign")
	}
	return s, nil
}

// signingMethod is the algorithm SMART Backend Services asks clients to use:
// RS384 for RSA keys, ES384 for P-384 keys (SMART App Launch 2.x, "Client
// Authentication: Asymmetric", which servers must support).
func signingMethod(s crypto.Signer) (jwt.SigningMethod, error) {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("the RSA key has %d bits; use at least 2048", k.N.BitLen())
		}
		return jwt.SigningMethodRS384, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P384() {
			return nil, fmt.Errorf("the EC key is on %s; SMART Backend Services uses ES384, which needs a P-384 key", k.Curve.Params().Name)
		}
		return jwt.SigningMethodES384, nil
	}
	return nil, fmt.Errorf("a %T cannot sign RS384 or ES384, the algorithms SMART Backend Services asks for", s)
}
