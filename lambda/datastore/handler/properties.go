package handler

import (
	"log/slog"

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
// error a *cfnprops.PropertyError naming it. It is for a Create; an Update's
// properties, new or old, go through ParseUpdateSpec.
func ParseSpec(p cfnprops.Properties) (Spec, error) {
	c, err := datastoreprops.Parse(p)
	return buildSpec(c, err)
}

// ParseUpdateSpec is ParseSpec with datastoreprops.ParseUpdate: it also
// accepts what a stack may have been deployed with under the handler's
// previous rules, returned in relaxed for the caller to warn about.
func ParseUpdateSpec(p cfnprops.Properties) (s Spec, relaxed []string, err error) {
	c, relaxed, err := datastoreprops.ParseUpdate(p)
	s, err = buildSpec(c, err)
	return s, relaxed, err
}

// buildSpec adds to the contract's Spec (and its parse error) the SDK types
// and the SMART configuration.
func buildSpec(c datastoreprops.Spec, err error) (Spec, error) {
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

// warnRelaxed warns about what ParseUpdateSpec accepted beyond ParseSpec.
func warnRelaxed(log *slog.Logger, relaxed []string) {
	if len(relaxed) > 0 {
		log.Warn("accepting values the previous version accepted and the current rules refuse, so that this Update "+
			"or its rollback does not fail on them; change them: a new deployment refuses them", "values", relaxed)
	}
}
