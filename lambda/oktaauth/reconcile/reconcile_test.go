package reconcile_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

var owner = reconcile.Owner{
	StackID:   "arn:aws:cloudformation:eu-west-1:123456789012:stack/clinic/0a1b2c3d-0000-1111-2222-333344445555",
	LogicalID: "Okta",
}

// noSecrets fails the test if the reconciler writes a secret (no client here
// has one).
type noSecrets struct{ t *testing.T }

func (n noSecrets) PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	n.t.Fatal("unexpected PutSecretValue")
	return nil, nil
}

func setup(t *testing.T) (*fakeokta.Server, *reconcile.Reconciler) {
	t.Helper()
	f := fakeokta.New(t, fakeokta.Options{PageSize: 2}) // every list takes several pages
	c, err := oktaclient.New(context.Background(), f.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, oktaclient.Options{
		InsecureHTTPForTests: true, Retry: oktaclient.RetryTransport{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	require.NoError(t, err)
	return f, &reconcile.Reconciler{Okta: c, Secrets: noSecrets{t}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func spec(t *testing.T, kv ...any) *oktaprops.Spec {
	t.Helper()
	p := cfnprops.Properties{
		"OktaOrgUrl": "https://example.okta.com", "CredentialSecretArn": "arn:x", "Name": "clinic", "Audience": "api://clinic",
		"ScopeLevels": []any{"patient", "system"}, "ScopeResources": []any{"Patient"},
		"PublicClient": "true", "PublicClientRedirectUris": []any{"https://spa.example.com/cb"},
	}
	for i := 0; i < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	s, err := oktaprops.Parse(p)
	require.NoError(t, err)
	return s
}

func TestOwnerMarker(t *testing.T) {
	assert.Regexp(t, `^cfn-[0-9a-f]{16}$`, owner.Tag())
	d := owner.Describe("SMART server")
	assert.Equal(t, "SMART server (managed by CloudFormation stack clinic, resource Okta) ["+owner.Tag()+"]", d)
	assert.True(t, owner.Owns(d))
	for _, other := range []reconcile.Owner{
		{StackID: owner.StackID, LogicalID: "Okta2"},
		{StackID: "arn:aws:cloudformation:eu-west-1:123456789012:stack/clinic/ffffffff-0000-1111-2222-333344445555", LogicalID: "Okta"},
	} {
		assert.False(t, other.Owns(d), "a recreated stack of the same name, or another resource, is another owner")
	}
	assert.False(t, owner.Owns("SMART server (managed by CloudFormation stack clinic, resource Okta)"))
}

func TestSurplusAppsFromAnInterruptedRunAreRemoved(t *testing.T) {
	f, r := setup(t)
	ctx := context.Background()
	res, err := r.Create(ctx, spec(t), owner)
	require.NoError(t, err)
	first := res.ClientIDs[oktaprops.PublicClient]
	// A second public app tagged for the same server, as a repeated POST
	// would leave, and a look-alike from another owner.
	dupe := f.AddApp("clinic public app", map[string]any{"managedBy": "smart-healthlake", "owner": owner.Tag(),
		"authorizationServerId": res.ServerID, "smartClient": "public"})
	foreign := f.AddApp("clinic public app", map[string]any{"managedBy": "smart-healthlake", "owner": "cfn-0000000000000000",
		"authorizationServerId": res.ServerID, "smartClient": "public"})

	again, err := r.Update(ctx, res.ServerID, spec(t), spec(t), owner)
	require.NoError(t, err)
	assert.Equal(t, first, again.ClientIDs[oktaprops.PublicClient], "the oldest app is kept")
	_, ok := f.App(dupe)
	assert.False(t, ok, "the surplus app is removed")
	_, ok = f.App(foreign)
	assert.True(t, ok, "another owner's app is never touched")
}

func TestDeleteKeepsOtherOwnersApps(t *testing.T) {
	f, r := setup(t)
	ctx := context.Background()
	res, err := r.Create(ctx, spec(t), owner)
	require.NoError(t, err)
	foreign := f.AddApp("clinic public app", map[string]any{"managedBy": "smart-healthlake", "owner": "cfn-0000000000000000",
		"authorizationServerId": res.ServerID, "smartClient": "public"})
	require.NoError(t, r.Delete(ctx, res.ServerID, "clinic", owner))
	apps := f.Apps()
	require.Len(t, apps, 1)
	assert.Equal(t, foreign, apps[0].ID)
	assert.Empty(t, f.AuthorizationServers())
}

func TestScopesAndRulesChangeInASafeOrder(t *testing.T) {
	f, r := setup(t)
	ctx := context.Background()
	res, err := r.Create(ctx, spec(t), owner)
	require.NoError(t, err)
	f.ResetRequests()
	// Patient is replaced by Observation: the rule must stop naming the old
	// scopes before they are deleted, and name the new ones after they exist.
	_, err = r.Update(ctx, res.ServerID, spec(t, "ScopeResources", []any{"Observation"}), spec(t), owner)
	require.NoError(t, err)
	var order []string
	for _, req := range f.Requests() {
		if req.Method == "GET" {
			continue
		}
		switch {
		case fakeokta.PathMatches("/api/v1/authorizationServers/*/scopes", req.Path):
			order = append(order, "create scope")
		case fakeokta.PathMatches("/api/v1/authorizationServers/*/scopes/*", req.Path):
			order = append(order, "delete scope")
		case fakeokta.PathMatches("/api/v1/authorizationServers/*/policies/*/rules/*", req.Path):
			order = append(order, "update rule")
		}
	}
	assert.Equal(t, []string{"create scope", "create scope", "update rule", "delete scope", "delete scope"}, order)
}
