package datastore_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

func TestTheDiscoveryCheckReachesTheHandler(t *testing.T) {
	for name, c := range map[string]struct {
		discovery *smartconfig.Discovery
		want      map[string]any // the handler properties; nil value: absent
	}{
		"without Discovery nothing is checked, as before": {nil,
			map[string]any{datastoreprops.PropDiscoveryCheck: nil, datastoreprops.PropDiscoveryUrl: nil}},
		"an empty Discovery checks the issuer's well-known documents": {&smartconfig.Discovery{},
			map[string]any{datastoreprops.PropDiscoveryCheck: "verify", datastoreprops.PropDiscoveryUrl: nil}},
		"a discovery URL is passed on": {&smartconfig.Discovery{Url: jsii.String(okta + "/.well-known/oauth-authorization-server")},
			map[string]any{datastoreprops.PropDiscoveryCheck: "verify", datastoreprops.PropDiscoveryUrl: okta + "/.well-known/oauth-authorization-server"}},
		"skipping is explicit": {&smartconfig.Discovery{Skip: jsii.Bool(true)},
			map[string]any{datastoreprops.PropDiscoveryCheck: "skip"}},
		"proxied endpoints check the issuer and keys only": {&smartconfig.Discovery{IssuerAndKeysOnly: jsii.Bool(true)},
			map[string]any{datastoreprops.PropDiscoveryCheck: "verify-issuer", datastoreprops.PropDiscoveryUrl: nil}},
		"skipping wins over checking the issuer and keys": {&smartconfig.Discovery{Skip: jsii.Bool(true), IssuerAndKeysOnly: jsii.Bool(true)},
			map[string]any{datastoreprops.PropDiscoveryCheck: "skip"}},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			p := minimalProps(newIdp(stack, nil))
			p.Discovery = c.discovery
			datastore.NewSmartDatastore(stack, jsii.String("Datastore"), p)
			_, ds := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), datastore.ResourceType)
			for prop, want := range c.want {
				got, present := ds.Properties[prop]
				if want == nil {
					require.False(t, present, "%s is absent", prop)
					continue
				}
				require.Equal(t, want, got, prop)
			}
		})
	}
	t.Run("a discovery URL over http is refused at synth", func(t *testing.T) {
		stack := newStack(t)
		p := minimalProps(newIdp(stack, nil))
		p.Discovery = &smartconfig.Discovery{Url: jsii.String("http://example.okta.com/metadata")}
		msg := cdktest.Panics(t, func() { datastore.NewSmartDatastore(stack, jsii.String("Datastore"), p) })
		require.Contains(t, msg, "props.Discovery.Url must be an absolute https URL")
	})
}
