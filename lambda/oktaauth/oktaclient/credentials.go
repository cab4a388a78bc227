package oktaclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// DefaultScopes are the Okta management API scopes requested in private-key mode
// when the secret names none, and what the service app must be granted:
// authorization servers and apps to manage them (app group assignments
// included), okta.groups.read to find the built-in Everyone group that
// UserGroupIds EVERYONE assigns to the user-facing apps, okta.schemas.manage
// to add the user profile attributes the fhirUser and patient claims read, and
// okta.inlineHooks.manage to register the token inline hook (TokenHookUrl;
// the management API spec's security of createInlineHook and the other
// /api/v1/inlineHooks operations).
var DefaultScopes = []string{"okta.authorizationServers.manage", "okta.apps.manage", "okta.groups.read", "okta.schemas.manage",
	"okta.inlineHooks.manage"}

// Credentials authenticate the handler to Okta's management API. Exactly one
// mode is set: an SSWS API token, or an OAuth 2.0 service app (client id and
// private key) that obtains a scoped access token with private_key_jwt.
//
// They are read from a Secrets Manager secret whose SecretString is JSON, one of:
//
//	{"apiToken": "00ab..."}
//	{"clientId": "0oa...", "privateKey": "-----BEGIN PRIVATE KEY-----\n...", "keyId": "optional kid",
//	 "scopes": ["okta.authorizationServers.manage", "okta.apps.manage", "okta.groups.read", "okta.schemas.manage",
//	            "okta.inlineHooks.manage"]}
//
// privateKey is an RSA key in PEM, PKCS#1 or PKCS#8; scopes default to
// DefaultScopes. The private-key mode is the one to prefer: its access tokens are
// short-lived and limited to the granted scopes, where an API token carries its
// creator's full admin rights until revoked.
//
// Credentials never print their secret parts: String, GoString and LogValue
// redact them, so a stray log line or %v cannot leak them.
type Credentials struct {
	APIToken   string   `json:"apiToken,omitempty"`
	ClientID   string   `json:"clientId,omitempty"`
	PrivateKey string   `json:"privateKey,omitempty"`
	KeyID      string   `json:"keyId,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
}

// PrivateKeyMode reports whether the credentials are a service app's key.
func (c Credentials) PrivateKeyMode() bool { return c.APIToken == "" }

// String implements fmt.Stringer without revealing secrets.
func (c Credentials) String() string {
	if c.PrivateKeyMode() {
		return fmt.Sprintf("okta private key credentials (client %s, key [redacted])", c.ClientID)
	}
	return "okta API token [redacted]"
}

// GoString implements fmt.GoStringer (%#v) without revealing secrets.
func (c Credentials) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without revealing secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ParseCredentials decodes and checks the credential secret's JSON. Its errors
// name fields, never values.
func ParseCredentials(secret []byte) (Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(bytes.NewReader(secret))
	dec.DisallowUnknownFields() // a misspelt key ("api_token") must not silently mean "no token"
	if err := dec.Decode(&c); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			// The syntax error's text can quote part of the secret; keep only the offset.
			return Credentials{}, fmt.Errorf("okta credential secret is not valid JSON (offset %d)", syntax.Offset)
		}
		return Credentials{}, fmt.Errorf("okta credential secret: %w", err)
	}
	if dec.More() {
		return Credentials{}, errors.New("okta credential secret: trailing data after the JSON object")
	}
	token := strings.TrimSpace(c.APIToken) != ""
	key := strings.TrimSpace(c.PrivateKey) != "" || strings.TrimSpace(c.ClientID) != ""
	switch {
	case token && key:
		return Credentials{}, errors.New(`okta credential secret: set either "apiToken" or "clientId"+"privateKey", not both`)
	case token:
		c.APIToken = strings.TrimSpace(c.APIToken)
		return c, nil
	case key:
		if strings.TrimSpace(c.ClientID) == "" || strings.TrimSpace(c.PrivateKey) == "" {
			return Credentials{}, errors.New(`okta credential secret: private-key mode needs both "clientId" and "privateKey"`)
		}
		if _, err := parseRSAPrivateKey(c.PrivateKey); err != nil {
			return Credentials{}, fmt.Errorf("okta credential secret: privateKey: %w", err)
		}
		if len(c.Scopes) == 0 {
			c.Scopes = append([]string(nil), DefaultScopes...)
		}
		return c, nil
	default:
		return Credentials{}, errors.New(`okta credential secret: needs "apiToken", or "clientId" and "privateKey"`)
	}
}

// SecretGetter is the part of the Secrets Manager client that reads a secret.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ReadCredentials reads and parses the credential secret. It is read on every
// invocation (custom resource events are rare) so a rotated token is picked up.
func ReadCredentials(ctx context.Context, sm SecretGetter, secretID string) (Credentials, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return Credentials{}, fmt.Errorf("reading okta credential secret %s: %w", secretID, err)
	}
	if out.SecretString == nil {
		return Credentials{}, fmt.Errorf("okta credential secret %s has no SecretString (binary secrets are not supported)", secretID)
	}
	c, err := ParseCredentials([]byte(*out.SecretString))
	if err != nil {
		return Credentials{}, fmt.Errorf("%w (secret %s)", err, secretID)
	}
	return c, nil
}

// assertionParam matches a client assertion in a URL query. okta-sdk-golang/v2
// sends its private_key_jwt assertion in the token request's query string, and
// net/http quotes the whole URL in transport errors (*url.Error), so such an
// error would carry a signed, replayable credential into logs and CloudFormation
// events.
var assertionParam = regexp.MustCompile(`(client_assertion=)[^&\s"']+`)

// Redact removes client assertions from text bound for a log or an error.
func Redact(s string) string {
	return assertionParam.ReplaceAllString(s, "${1}[redacted]")
}

// RedactError returns err with client assertions removed from its message; the
// original stays reachable through errors.Is / errors.As.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
