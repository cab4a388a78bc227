package handler

import (
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

// Spec is the desired data store: the properties as contract/datastoreprops
// parses them, with what the HealthLake API takes in SDK types and the SMART
// configuration document built from them.
type Spec struct {
	datastoreprops.Spec
	Version  types.FHIRVersion
	Strategy types.AuthorizationStrategy
	Metadata string // SMART configuration JSON
}

// ParseSpec reads and validates the properties with datastoreprops.Parse and
// builds the SMART configuration. It reports every bad property at once, each
// error a *cfnprops.PropertyError naming it.
func ParseSpec(p cfnprops.Properties) (Spec, error) {
	c, err := datastoreprops.Parse(p)
	s := Spec{
		Spec:     c,
		Version:  types.FHIRVersion(c.FHIRVersion),
		Strategy: types.AuthorizationStrategy(c.SmartVersion.AuthorizationStrategy()),
	}
	if err != nil {
		return s, err
	}
	e := c.Endpoints
	s.Metadata, err = smartmeta.Build(smartmeta.Config{
		Version: c.SmartVersion,
		Endpoints: smartmeta.Endpoints{
			Issuer: e.Issuer, JWKSURI: e.JWKSURI, Authorization: e.Authorization, Token: e.Token,
			Introspection: e.Introspection, Revocation: e.Revocation, Management: e.Management,
		},
		ScopesSupported: c.ScopesSupported,
		Support:         c.Support,
	})
	if err != nil {
		// The contract checked the URLs and each scope: what is left is about
		// the scopes as a whole.
		return s, &cfnprops.PropertyError{Property: datastoreprops.PropScopesSupported, Reason: err.Error()}
	}
	return s, nil
}
