package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// metadata is the part of RFC 8414 / OpenID Connect discovery we use.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// maxBody bounds what we read from the authorization server: a discovery
// document, a JWK Set or an introspection answer is a few kilobytes.
const maxBody = 1 << 20

// discoveryPaths are tried in order: RFC 8414 first (Okta serves it for custom
// authorization servers), then OpenID Connect. Both are appended to the issuer,
// which is where Okta serves them.
var discoveryPaths = []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}

// discover fetches the issuer's metadata and returns the URL pick selects from
// the first document that has it. The document's issuer must be ours (RFC 8414
// section 3.3) and the URL must pass the same rules as configured URLs.
func discover(ctx context.Context, client *http.Client, issuer string, what string, pick func(metadata) string) (string, error) {
	var errs []error
	for _, p := range discoveryPaths {
		u := strings.TrimSuffix(issuer, "/") + p
		md, err := fetchMetadata(ctx, client, u)
		if err == nil && md.Issuer != issuer {
			err = fmt.Errorf("document names issuer %q, want %q", redactURL(md.Issuer), issuer)
		}
		if err == nil && pick(md) == "" {
			err = fmt.Errorf("document has no %s", what)
		}
		if err == nil {
			err = validatorenv.CheckURL(pick(md))
		}
		if err == nil {
			return pick(md), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("discovering %s: %w", what, errors.Join(errs...))
}

func fetchMetadata(ctx context.Context, client *http.Client, u string) (metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return metadata{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return metadata{}, unwrapURLError(err) // the caller names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return metadata{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var md metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&md); err != nil {
		return metadata{}, fmt.Errorf("decoding: %w", err)
	}
	return md, nil
}
