package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/wellknown"
)

// The discovery check: on Create and Update the handler fetches the
// authorization server's live discovery document (OpenID Connect Discovery
// 1.0 or RFC 8414 metadata) and compares it with the endpoints the SMART
// configuration is about to advertise, so that a typo in cdk.json, or an
// authorization server that moved, fails the deployment instead of sending
// every app to a wrong token endpoint.
//
//   - DiscoveryCheck absent: no check. Properties of stacks deployed before the
//     check existed arrive so, in Delete and rollback events too.
//   - DiscoveryCheck "verify": fetch DiscoveryUrl, or by default
//     <Issuer>/.well-known/openid-configuration and, when that cannot be
//     fetched, <Issuer>/.well-known/oauth-authorization-server (both appended
//     to the issuer, where Okta, Keycloak, Auth0, Cognito and Entra ID serve
//     them). issuer, authorization_endpoint, token_endpoint and jwks_uri must
//     equal the configured ones byte for byte (RFC 8414 section 3.3 requires
//     the issuer to be identical; the others are compared as strictly, since
//     apps will use the configured ones); introspection_endpoint and
//     revocation_endpoint when they are configured. ManagementEndpoint is
//     SMART's, not in discovery, and is not compared.
//   - A document that cannot be fetched (connection refused, timeout, not 200,
//     not JSON, a redirect off the host) FAILS the deployment too, naming the
//     URLs and how to skip: a check that passes when the server is unreachable
//     would pass exactly when a URL is wrong. A private IdP the handler cannot
//     reach (it runs outside any VPC) is deployed with DiscoveryCheck "skip".
//   - DiscoveryCheck "verify-issuer": the same fetch, but only issuer and
//     jwks_uri are compared. For a deployment whose authorization, token and
//     introspection endpoints are proxies in front of the server (EHR launch,
//     constructs/ehrlaunch): they differ from the server's own on purpose,
//     while the issuer and keys the validator trusts must still be the
//     server's.
//   - DiscoveryCheck "skip": no check, logged.
//   - During a rollback (the stack is UPDATE_ROLLBACK_IN_PROGRESS) the check is
//     not made: the rollback restores a configuration that passed it when it
//     was deployed, and failing a rollback leaves the stack in
//     UPDATE_ROLLBACK_FAILED, worse than an endpoint that has moved since.
//
// The property names and modes are datastoreprops'.

// discoveryPaths are appended to the issuer when no DiscoveryUrl is given, in
// this order.
var discoveryPaths = []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}

const (
	// discoveryTimeout bounds each fetch, well inside the handler's minutes.
	discoveryTimeout = 10 * time.Second
	// maxDiscoveryBody: a discovery document is a few kilobytes.
	maxDiscoveryBody = 1 << 20
	maxRedirects     = 3
)

// discoveryCheck is what the check compares: the document's field name, the
// property it is configured by, and the configured value.
type discoveryCheck struct {
	urls     []string
	expected []expectedField
}

type expectedField struct {
	field, property, value string
}

// parseDiscovery reads the check's properties; nil means no check. It parses
// with datastoreprops.ParseUpdate, which differs from Parse only where no
// check is made, and reads old properties too; checkedSpec has parsed a
// Create's properties with Parse first.
func parseDiscovery(p cfnprops.Properties) (*discoveryCheck, datastoreprops.DiscoveryMode, error) {
	spec, _, err := datastoreprops.ParseUpdate(p)
	if err != nil {
		return nil, "", err
	}
	mode := spec.Discovery.Mode
	if !mode.Fetches() {
		return nil, mode, nil
	}
	e := spec.Endpoints
	var c discoveryCheck
	for _, f := range []struct {
		field, property, value string
		appFacing              bool // what apps call: a proxy may serve it (verify-issuer)
	}{
		{"issuer", datastoreprops.PropIssuer, e.Issuer, false},
		{"authorization_endpoint", datastoreprops.PropAuthorizationEndpoint, e.Authorization, true},
		{"token_endpoint", datastoreprops.PropTokenEndpoint, e.Token, true},
		{"jwks_uri", datastoreprops.PropJwksUri, e.JWKSURI, false},
		{"introspection_endpoint", datastoreprops.PropIntrospectionEndpoint, e.Introspection, true},
		{"revocation_endpoint", datastoreprops.PropRevocationEndpoint, e.Revocation, true},
	} {
		if (mode == datastoreprops.DiscoveryVerifyIssuer && f.appFacing) || f.value == "" {
			continue
		}
		c.expected = append(c.expected, expectedField{f.field, f.property, f.value})
	}
	if spec.Discovery.URL != "" {
		c.urls = []string{spec.Discovery.URL}
	} else {
		issuer := strings.TrimSuffix(e.Issuer, "/")
		for _, path := range discoveryPaths {
			c.urls = append(c.urls, issuer+path)
		}
	}
	return &c, mode, nil
}

// checkedSpec parses a Create or Update event's properties and makes the
// discovery check, before anything is created or changed.
func (h *Handler) checkedSpec(ctx context.Context, e customresource.Event, log *slog.Logger) (Spec, error) {
	var spec Spec
	var err error
	if e.RequestType == customresource.Update {
		// A value a stack may have been deployed with must not fail an
		// Update, nor the rollback that restores it (see ParseUpdateSpec).
		var relaxed []string
		spec, relaxed, err = ParseUpdateSpec(e.ResourceProperties)
		warnRelaxed(log, relaxed)
	} else {
		spec, err = ParseSpec(e.ResourceProperties)
	}
	if err != nil {
		return Spec{}, err
	}
	if err := h.verifyDiscovery(ctx, e, log); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// verifyDiscovery makes the check for a Create or Update event.
func (h *Handler) verifyDiscovery(ctx context.Context, e customresource.Event, log *slog.Logger) error {
	c, mode, err := parseDiscovery(e.ResourceProperties)
	if err != nil {
		return err
	}
	if c == nil {
		if mode == datastoreprops.DiscoverySkip {
			log.Warn("discovery check skipped as configured: the endpoints are not compared with the authorization server's discovery document")
		}
		return nil
	}
	if e.RequestType == customresource.Update {
		if old, _, err := parseDiscovery(e.OldResourceProperties); err == nil && old != nil && sameCheck(*old, *c) {
			// An outage of the authorization server must not block updates
			// that do not touch what the check compares.
			log.Info("discovery check: the compared endpoints did not change; not fetching the document again")
			return nil
		}
		if h.stacks == nil {
			log.Warn("discovery check skipped: the stack's status cannot be read, and the check must not wedge a rollback")
			return nil
		}
		stack, err := h.describeStack(ctx, e.StackID)
		switch {
		case err != nil:
			// This may be CloudFormation's rollback: a check that fails there
			// leaves the stack in UPDATE_ROLLBACK_FAILED. It is a consistency
			// check, not a security control, so an unknown status skips it.
			log.Warn("discovery check skipped: could not read the stack's status, and the check must not wedge a rollback",
				"error", err.Error())
			return nil
		case stack.StackStatus == cfntypes.StackStatusUpdateRollbackInProgress:
			log.Info("rollback: not checking the discovery document of the configuration being restored")
			return nil
		}
	}
	doc, from, err := h.fetchDiscovery(ctx, c.urls)
	if err != nil {
		return fmt.Errorf("checking the endpoints against the authorization server's discovery document: %w; "+
			"if the data store handler cannot reach this server (it runs outside any VPC), set %s to %s "+
			"(cdk.json, for an external server: external.skipDiscoveryCheck; construct: Discovery.Skip); "+
			"an Okta server this stack provisions is public, so there the org URL or the server's state is wrong",
			err, datastoreprops.PropDiscoveryCheck, datastoreprops.DiscoverySkip)
	}
	var diffs []string
	for _, want := range c.expected {
		got, _ := doc[want.field].(string)
		if got != want.value {
			shown := fmt.Sprintf("%q", got)
			if _, present := doc[want.field]; !present {
				shown = "absent"
			}
			diffs = append(diffs, fmt.Sprintf("%s is %s there but %q in %s", want.field, shown, want.value, want.property))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the authorization server's discovery document %s disagrees with the configured endpoints: %s",
			from, strings.Join(diffs, "; "))
	}
	log.Info("the configured endpoints match the authorization server's discovery document", "discoveryUrl", from)
	return nil
}

// fetchDiscovery returns the first of urls that serves a JSON object, and its URL.
func (h *Handler) fetchDiscovery(ctx context.Context, urls []string) (map[string]any, string, error) {
	var errs []error
	for _, u := range urls {
		doc, err := h.fetchJSON(ctx, u)
		if err == nil {
			return doc, u, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", fmt.Errorf("could not fetch the discovery document: %w", errors.Join(errs...))
}

func (h *Handler) fetchJSON(ctx context.Context, u string) (map[string]any, error) {
	timeout := h.discoveryTimeout
	if timeout == 0 {
		timeout = discoveryTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := wellknown.Get(ctx, h.discoveryClient(), u, maxDiscoveryBody)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return doc, nil
}

// discoveryClient fetches over https only and follows a redirect only to the
// same host: the document describes the server it comes from, so one handed
// out by another host proves nothing about this one.
func (h *Handler) discoveryClient() *http.Client {
	transport := h.discoveryTransport
	if transport == nil {
		transport = http.DefaultTransport
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			switch {
			case len(via) >= maxRedirects:
				return fmt.Errorf("more than %d redirects", maxRedirects)
			case req.URL.Scheme != "https":
				return fmt.Errorf("redirected to %s, which is not https", httpsurl.RedactURL(req.URL))
			case req.URL.Host != via[0].URL.Host:
				return fmt.Errorf("redirected to another host (%s)", httpsurl.RedactURL(req.URL))
			}
			return nil
		},
	}
}

// WithDiscoveryTransport makes the discovery check fetch through rt (tests
// trust their TLS server's certificate so); nil restores the default.
func (h *Handler) WithDiscoveryTransport(rt http.RoundTripper) *Handler {
	h.discoveryTransport = rt
	return h
}

// sameCheck reports whether two checks fetch the same documents and compare
// the same values.
func sameCheck(a, b discoveryCheck) bool {
	return slices.Equal(a.urls, b.urls) && slices.Equal(a.expected, b.expected)
}
