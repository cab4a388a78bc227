package smarthealthlake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// EhrLaunchApp names a user-facing Okta client this construct creates: one
// of the single clients (EhrLaunchConfidentialApp, EhrLaunchPublicApp) or an
// app of the registry (EhrLaunchRegistryApp).
type EhrLaunchApp string

// registryAppPrefix marks a registry app's EhrLaunchApp. App names are
// lower-case letters, digits and hyphens (oktaprops.AppNamePattern), so a
// registry app named "public" is "app:public", never EhrLaunchPublicApp.
const registryAppPrefix = "app:"

// EhrLaunchRegistryApp names the user-facing app of
// AuthorizationServer.Apps called name (public or confidential; a backend
// app cannot be launched).
func EhrLaunchRegistryApp(name string) EhrLaunchApp {
	return EhrLaunchApp(registryAppPrefix + name)
}

// registryApp is the registry app's name, or false for a single client.
func (a EhrLaunchApp) registryApp() (string, bool) {
	return strings.CutPrefix(string(a), registryAppPrefix)
}

// The user-facing clients EHRs may launch.
const (
	// EhrLaunchConfidentialApp is AuthorizationServer.ConfidentialClient.
	EhrLaunchConfidentialApp EhrLaunchApp = "confidential"
	// EhrLaunchPublicApp is AuthorizationServer.PublicClient.
	EhrLaunchPublicApp EhrLaunchApp = "public"
)

// EhrLaunchOptions turn on SMART's EHR launch (constructs/ehrlaunch) in front
// of the Okta authorization server: the launch-context API for EHRs, the
// authorize, token and introspection proxies that the data store's SMART
// configuration then advertises (with launch-ehr, context-ehr-patient and
// context-ehr-encounter), Okta's token inline hook, and a token validator
// that requires the hook's marker claim for launch context. Okta only: with
// an ExternalAuthorizationServer it is refused. The proxy serves
// AuthorizationServer.ConfidentialClient, PublicClient and the user-facing
// apps of AuthorizationServer.Apps it is given. Backend services
// (AuthorizationServer.BackendClient and the backend apps) may use the
// advertised token endpoint too (ProxyBackendServices): the proxy verifies
// their assertions and re-signs them for Okta with the EHR launch
// construct's assertion key, whose public half the Okta resource adds to
// their clients' JWKS (so every key of those JWKS needs a kid, which a
// service calling Okta directly must then send in its assertion's header).
type EhrLaunchOptions struct {
	// Apps are the user-facing clients EHRs may launch; each must be
	// configured in AuthorizationServer: EhrLaunchConfidentialApp,
	// EhrLaunchPublicApp, or EhrLaunchRegistryApp(name) for a public or
	// confidential app of AuthorizationServer.Apps. Their Okta redirect URIs
	// gain the proxy's callback. A configured client left out still gets
	// tokens from Okta directly, but not through the authorize endpoint the
	// SMART configuration advertises (a synthesis warning says so).
	// Default: every configured user-facing client, single and registry.
	Apps []EhrLaunchApp
	// PickerApps are launched apps for clinicians whose standalone
	// launch/patient requests (no EHR launch) go through the proxy's patient
	// picker: the clinician enters a patient id before Okta's sign-in, and
	// the token hook adds it (with the marker) only when the signed-in user's
	// fhirUser is a Practitioner or PractitionerRole. The SMART
	// configuration then advertises context-standalone-patient. Each must be
	// in Apps. Default: none.
	PickerApps []EhrLaunchApp
	// EhrRoles may register launch contexts (POST /launch, SigV4). Required,
	// at least one.
	EhrRoles *[]awsiam.IRole
	// CorsOrigins are browser origins (https://host) allowed to call the
	// token endpoint. Default: none.
	CorsOrigins *[]*string
	// LaunchLifetime is how long a launch id is valid, at most 5 minutes.
	// Default: 5 minutes.
	LaunchLifetime awscdk.Duration
	// ProxyBackendServices sends every backend service
	// (AuthorizationServer.BackendClient and the backend apps of
	// AuthorizationServer.Apps) through the token proxy, so that the
	// SMART configuration's token_endpoint serves them too. Their JWKS then
	// need a kid on every key and travel in the proxy's environment, which
	// Lambda limits to 4 KB (checked at synthesis). False leaves them on
	// Okta's token endpoint (the TokenEndpoint output) alone, as before the
	// proxy served them: no assertion key, their Okta JWKS as given, and a
	// synthesis info message that they must not follow the advertised
	// token_endpoint. Default: true.
	ProxyBackendServices *bool
}

// proxyBackendServices says whether the proxy serves the backend services
// (EhrLaunchOptions.ProxyBackendServices, default true).
func (p settings) proxyBackendServices() bool {
	x := p.EhrLaunch
	return x != nil && (x.ProxyBackendServices == nil || *x.ProxyBackendServices)
}

// ehrLaunchApps are the apps EHRs may launch, with the configured default.
func (p settings) ehrLaunchApps() []EhrLaunchApp {
	if p.EhrLaunch.Apps != nil {
		return p.EhrLaunch.Apps
	}
	return p.userFacingApps()
}

// userFacingApps are the configured clients an EHR could launch: the single
// clients, then the registry's public and confidential apps in their order.
func (p settings) userFacingApps() []EhrLaunchApp {
	var out []EhrLaunchApp
	a := p.AuthorizationServer
	if a == nil {
		return nil
	}
	if a.ConfidentialClient != nil {
		out = append(out, EhrLaunchConfidentialApp)
	}
	if a.PublicClient != nil {
		out = append(out, EhrLaunchPublicApp)
	}
	if a.Apps != nil {
		for _, x := range *a.Apps {
			if x != nil && x.Name != nil && x.Type != oktaprops.AppBackend {
				out = append(out, EhrLaunchRegistryApp(*x.Name))
			}
		}
	}
	return out
}

// registryAppProps is the app of AuthorizationServer.Apps named name, or nil.
func (p settings) registryAppProps(name string) *oktaauth.AppProps {
	if p.AuthorizationServer == nil || p.AuthorizationServer.Apps == nil {
		return nil
	}
	for _, x := range *p.AuthorizationServer.Apps {
		if x != nil && x.Name != nil && *x.Name == name {
			return x
		}
	}
	return nil
}

// ehrLaunchProblems names every invalid field of props.EhrLaunch.
func (p settings) ehrLaunchProblems() []string {
	x := p.EhrLaunch
	if x == nil {
		return nil
	}
	var errs []string
	if p.ExternalAuthorizationServer != nil {
		return []string{"props.EhrLaunch needs the Okta authorization server: its token inline hook and clients are " +
			"provisioned in Okta, which an external authorization server does not offer here; leave " +
			"props.ExternalAuthorizationServer or props.EhrLaunch unset"}
	}
	if a := p.AuthorizationServer; a != nil {
		// The user-facing rule references one token hook, and EHR launch
		// sets it to the proxy's (withEhrLaunch): the user's own would be
		// replaced without a word.
		for _, h := range []struct {
			prop string
			set  bool
		}{
			{"TokenHookUrl", a.TokenHookUrl != nil},
			{"TokenHookSecret", a.TokenHookSecret != nil},
			{"TokenInlineHookId", a.TokenInlineHookId != nil},
		} {
			if h.set {
				errs = append(errs, fmt.Sprintf("props.AuthorizationServer.%s cannot be used with props.EhrLaunch: EHR launch "+
					"sets the token inline hook of the user-facing rule to its own (the proxy's /hook), and Okta's rule "+
					"references one hook; leave props.AuthorizationServer.%s or props.EhrLaunch unset", h.prop, h.prop))
			}
		}
	}
	if x.EhrRoles == nil || len(*x.EhrRoles) == 0 {
		errs = append(errs, "props.EhrLaunch.EhrRoles needs at least one role: no EHR could register a launch")
	}
	apps := p.ehrLaunchApps()
	if len(apps) == 0 {
		errs = append(errs, "props.EhrLaunch needs a user-facing app to launch: set props.AuthorizationServer.ConfidentialClient, "+
			"props.AuthorizationServer.PublicClient or a public or confidential app of props.AuthorizationServer.Apps")
	}
	for i, a := range apps {
		name, registry := a.registryApp()
		x := p.registryAppProps(name)
		switch {
		case registry && x == nil:
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] is registry app %q, but props.AuthorizationServer.Apps has "+
				"no app of that name: only a client this construct creates can be launched", i, name))
		case registry && x.Type == oktaprops.AppBackend:
			// A backend service has no user, no redirect and no launch: it
			// signs its assertions for Okta's token endpoint (RFC 7523 aud).
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] is registry app %q, a backend app: only public and "+
				"confidential apps can be launched; leave it out of props.EhrLaunch.Apps", i, name))
		case registry && (x.RedirectUris == nil || len(*x.RedirectUris) == 0):
			// Checked here, in the composite's words: the launch API, made
			// before the Okta server, would refuse it in its own.
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] is registry app %q, which has no RedirectUris: "+
				"a user-facing app needs at least one (props.AuthorizationServer.Apps)", i, name))
		case !registry && a != EhrLaunchConfidentialApp && a != EhrLaunchPublicApp:
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] must be %q, %q or EhrLaunchRegistryApp(name), got %q", i,
				EhrLaunchConfidentialApp, EhrLaunchPublicApp, a))
		case slices.Index(apps, a) != i:
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] repeats %q", i, a))
		case !registry && p.oktaClientRedirectUris(a) == nil:
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.Apps[%d] is %q, but props.AuthorizationServer.%s is not set: "+
				"only a client this construct creates can be launched", i, a, clientProp(a)))
		}
	}
	errs = append(errs, p.ehrBackendProblems()...)
	for i, a := range x.PickerApps {
		switch {
		case !slices.Contains(apps, a):
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.PickerApps[%d] is %q, which is not among the launched apps "+
				"(props.EhrLaunch.Apps): only an app the proxy serves can use its patient picker", i, a))
		case slices.Index(x.PickerApps, a) != i:
			errs = append(errs, fmt.Sprintf("props.EhrLaunch.PickerApps[%d] repeats %q", i, a))
		}
	}
	return errs
}

// ehrBackendProblems checks the backend services' JWKS, which with EHR
// launch go to the proxy's environment too, in this construct's words: they
// must be literal (the proxy's environment is checked and measured at
// synthesis), public RSA keys (oktaprops.PublicJWKS), and each key needs a
// kid, since the proxy's key joins them in Okta (oktaprops.RoomForProxyKey).
func (p settings) ehrBackendProblems() []string {
	a := p.AuthorizationServer
	if a == nil || !p.proxyBackendServices() {
		return nil // Okta checks them (oktaauth) without the proxy's key
	}
	var errs []string
	check := func(prop string, jwks *string) {
		switch {
		case jwks == nil || *jwks == "":
			errs = append(errs, prop+" is required: the backend service's public JSON Web Key Set")
			return
		case *awscdk.Token_IsUnresolved(jwks):
			errs = append(errs, prop+" must be literal JSON with props.EhrLaunch: the EHR launch proxy verifies the "+
				"service's assertions with it, from an environment checked at synthesis")
			return
		}
		keys, err := oktaprops.PublicJWKS(json.RawMessage(*jwks))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s %v", prop, err))
			return
		}
		if key, reason := oktaprops.RoomForProxyKey(keys); reason != "" {
			errs = append(errs, fmt.Sprintf("%s%s %s", prop, key,
				strings.ReplaceAll(reason, "with "+oktaprops.PropProxyAssertionKeyARN, "with props.EhrLaunch")+
					" (or set props.EhrLaunch.ProxyBackendServices to false)"))
		}
	}
	if a.BackendClient != nil {
		check("props.AuthorizationServer.BackendClient.Jwks", a.BackendClient.Jwks)
	}
	if a.Apps != nil {
		for i, x := range *a.Apps {
			if x != nil && x.Type == oktaprops.AppBackend {
				check(fmt.Sprintf("props.AuthorizationServer.Apps[%d].Jwks", i), x.Jwks)
			}
		}
	}
	return errs
}

func clientProp(a EhrLaunchApp) string {
	if a == EhrLaunchPublicApp {
		return "PublicClient"
	}
	return "ConfidentialClient"
}

// oktaClientRedirectUris are the app's own redirect URIs, or nil when the
// client is not configured.
func (p settings) oktaClientRedirectUris(a EhrLaunchApp) *[]*string {
	if name, ok := a.registryApp(); ok {
		if x := p.registryAppProps(name); x != nil {
			return x.RedirectUris
		}
		return nil
	}
	o := p.AuthorizationServer
	switch {
	case o == nil:
		return nil
	case a == EhrLaunchConfidentialApp && o.ConfidentialClient != nil:
		return o.ConfidentialClient.RedirectUris
	case a == EhrLaunchPublicApp && o.PublicClient != nil:
		return o.PublicClient.RedirectUris
	}
	return nil
}

// lazy defers a value to synthesis: the EHR launch API comes before the Okta
// server (whose clients and hook need the API's URLs) and the data store
// (whose SMART configuration names the proxies), yet its function needs
// their issuer, client ids and endpoint. In the template these are plain
// GetAtt references: CloudFormation creates the API, then Okta, then the
// data store, then the function.
type lazy struct{ produce func() *string }

// Produce implements awscdk.IStableStringProducer.
func (l *lazy) Produce() *string { return l.produce() }

func lazyString(f func() *string) *string { return awscdk.Lazy_String(&lazy{f}, nil) }

// newEhrLaunch creates the EHR launch API before the Okta server, which
// it wires through lazy values.
func (s *SmartHealthLake) newEhrLaunch(p settings) *ehrlaunch.EhrLaunch {
	var apps []*ehrlaunch.App
	for _, a := range p.ehrLaunchApps() {
		clientID := lazyString(func() *string { return s.okta.ConfidentialClientId() })
		if name, ok := a.registryApp(); ok {
			clientID = lazyString(func() *string { return s.okta.AppClientId(name) })
		} else if a == EhrLaunchPublicApp {
			clientID = lazyString(func() *string { return s.okta.PublicClientId() })
		}
		apps = append(apps, &ehrlaunch.App{ClientId: clientID, RedirectUris: p.oktaClientRedirectUris(a),
			PatientPicker: jsii.Bool(slices.Contains(p.EhrLaunch.PickerApps, a))})
	}
	for _, a := range p.userFacingApps() {
		if !slices.Contains(p.ehrLaunchApps(), a) {
			what := fmt.Sprintf("the %s client", a)
			if name, ok := a.registryApp(); ok {
				what = fmt.Sprintf("registry app %q (EhrLaunchRegistryApp(%q))", name, name)
			}
			awscdk.Annotations_Of(s).AddWarningV2(jsii.String("smart-healthlake:ehr-launch-app-left-out"), jsii.String(fmt.Sprintf(
				"props.EhrLaunch.Apps leaves out %s: the SMART configuration's authorization_endpoint is the EHR "+
					"launch proxy, which refuses it; that app must use Okta's authorize endpoint directly", what)), nil)
		}
	}
	backend, services := s.ehrBackendClients(p)
	props := &ehrlaunch.EhrLaunchProps{
		OktaIssuer:     lazyString(func() *string { return s.okta.Issuer() }),
		FhirEndpoint:   lazyString(func() *string { return s.datastore.DatastoreEndpoint() }),
		Apps:           &apps,
		EhrRoles:       p.EhrLaunch.EhrRoles,
		CorsOrigins:    p.EhrLaunch.CorsOrigins,
		LaunchLifetime: p.EhrLaunch.LaunchLifetime,
		LogRetention:   p.LogRetention,
		BackendClients: backend,
	}
	// The EHR launch construct checks it too, but in its own props' words.
	if size, err := ehrlaunch.EstimateEnvironment(s, props); err == nil && !size.Fits() {
		panic(&EhrLaunchEnvironmentError{Id: *s.Node().Id(), Estimate: size, BackendServices: services})
	}
	if !p.proxyBackendServices() {
		if names := p.backendServiceNames(); len(names) > 0 {
			// Info, not a warning: it was asked for, and a warning would fail
			// `cdk synth --strict` on every synthesis of such a stack.
			awscdk.Annotations_Of(s).AddInfo(jsii.String(fmt.Sprintf(
				"props.EhrLaunch.ProxyBackendServices is false: the SMART configuration's token_endpoint is the EHR launch "+
					"proxy, which forwards the assertions of %s to Okta unchanged, and Okta refuses one signed for the proxy's "+
					"URL (invalid audience); those backend services must use Okta's token endpoint (the TokenEndpoint output) directly",
				strings.Join(names, ", "))))
		}
	}
	return ehrlaunch.NewEhrLaunch(s, jsii.String("EhrLaunch"), props)
}

// backendServiceNames are the configured backend services, as props.
func (p settings) backendServiceNames() []string {
	a := p.AuthorizationServer
	if a == nil {
		return nil
	}
	var out []string
	if a.BackendClient != nil {
		out = append(out, "props.AuthorizationServer.BackendClient")
	}
	if a.Apps != nil {
		for i, x := range *a.Apps {
			if x != nil && x.Name != nil && x.Type == oktaprops.AppBackend {
				out = append(out, fmt.Sprintf("props.AuthorizationServer.Apps[%d] (%q)", i, *x.Name))
			}
		}
	}
	return out
}

// ehrBackendClients are the backend services whose token requests the
// proxy re-signs: AuthorizationServer.BackendClient and every backend app of
// AuthorizationServer.Apps, with their JWKS, and which each is (see
// EhrLaunchEnvironmentError.BackendServices). A private_key_jwt assertion
// names the token endpoint it is for in aud (RFC 7523 section 3), which for
// a service that reads the SMART configuration is the proxy's, and Okta
// accepts only its own: so the proxy verifies the service's assertion and
// signs one for Okta with its assertion key, whose public half the Okta
// resource adds to these clients (ProxyAssertionKey, set by newOkta). Nil
// without backend services or with ProxyBackendServices false: then there
// is no assertion key.
func (s *SmartHealthLake) ehrBackendClients(p settings) (*[]*ehrlaunch.BackendClient, []int) {
	a := p.AuthorizationServer
	if a == nil || !p.proxyBackendServices() {
		return nil, nil
	}
	var out []*ehrlaunch.BackendClient
	var which []int
	if a.BackendClient != nil {
		out = append(out, &ehrlaunch.BackendClient{ClientId: lazyString(func() *string { return s.okta.BackendClientId() }),
			Jwks: a.BackendClient.Jwks})
		which = append(which, -1)
	}
	if a.Apps != nil {
		for i, x := range *a.Apps {
			if x == nil || x.Name == nil || x.Type != oktaprops.AppBackend {
				continue
			}
			name := *x.Name
			out = append(out, &ehrlaunch.BackendClient{ClientId: lazyString(func() *string { return s.okta.AppClientId(name) }),
				Jwks: x.Jwks})
			which = append(which, i)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out, which
}

// EhrLaunchEnvironmentError is what NewSmartHealthLake panics with when the
// EHR launch function's environment would be over Lambda's 4 KB limit on
// all its variables. Error names this construct's props; a caller that took
// them from elsewhere (the stacks package, from cdk.json) explains it in its
// own words with Explain.
type EhrLaunchEnvironmentError struct {
	// Id is the construct's id.
	Id string
	// Estimate is the EHR launch construct's estimate of the environment.
	Estimate ehrlaunch.EnvironmentEstimate
	// BackendServices say which service each of Estimate.BackendBytes is:
	// -1 for AuthorizationServer.BackendClient, otherwise the app's index
	// in AuthorizationServer.Apps.
	BackendServices []int
}

// EhrLaunchNames are the names EhrLaunchEnvironmentError.Explain gives what
// the user set.
type EhrLaunchNames struct {
	// Apps, EhrRoles and CorsOrigins name EhrLaunchOptions' fields.
	Apps, EhrRoles, CorsOrigins string
	// BackendClientJwks names AuthorizationServer.BackendClient.Jwks.
	BackendClientJwks string
	// AppJwks names AuthorizationServer.Apps[i].Jwks.
	AppJwks func(i int) string
	// ProxyBackendServices names EhrLaunchOptions.ProxyBackendServices.
	ProxyBackendServices string
}

// ehrLaunchPropNames are the names of SmartHealthLakeProps, for Error.
var ehrLaunchPropNames = EhrLaunchNames{
	Apps: "props.EhrLaunch.Apps", EhrRoles: "props.EhrLaunch.EhrRoles", CorsOrigins: "props.EhrLaunch.CorsOrigins",
	BackendClientJwks:    "props.AuthorizationServer.BackendClient.Jwks",
	AppJwks:              func(i int) string { return fmt.Sprintf("props.AuthorizationServer.Apps[%d].Jwks", i) },
	ProxyBackendServices: "props.EhrLaunch.ProxyBackendServices",
}

// Explain says what takes the room, in n's words, and what to do.
func (e *EhrLaunchEnvironmentError) Explain(n EhrLaunchNames) string {
	names := ehrlaunch.EnvironmentNames{Apps: n.Apps, EhrRoles: n.EhrRoles, CorsOrigins: n.CorsOrigins,
		BackendOff: fmt.Sprintf("set %s to false (the services then call Okta's token endpoint, the TokenEndpoint output, "+
			"directly)", n.ProxyBackendServices)}
	for _, i := range e.BackendServices {
		if i < 0 {
			names.Backend = append(names.Backend, n.BackendClientJwks)
		} else {
			names.Backend = append(names.Backend, n.AppJwks(i))
		}
	}
	return e.Estimate.Explain(names)
}

// Error implements error, in the words of SmartHealthLakeProps.
func (e *EhrLaunchEnvironmentError) Error() string {
	return fmt.Sprintf("smarthealthlake.NewSmartHealthLake(%s): %s", e.Id, e.Explain(ehrLaunchPropNames))
}

// withEhrLaunch gives the Okta server's options the proxy's callback among
// the launched apps' redirect URIs and the token hook (validate refused a
// hook of the user's own). It copies what it changes: the caller's options
// stay as they were.
func withEhrLaunch(o oktaauth.SmartAuthorizationServerOptions, apps []EhrLaunchApp, ehr *ehrlaunch.EhrLaunch) oktaauth.SmartAuthorizationServerOptions {
	withCallback := func(uris *[]*string) *[]*string {
		if uris == nil {
			return nil // refused by oktaauth as missing, not hidden by the callback
		}
		out := append(append([]*string{}, *uris...), ehr.CallbackUrl())
		return &out
	}
	if o.Apps != nil {
		// A copy of the list and of each launched app: the caller's stay.
		list := append([]*oktaauth.AppProps{}, *o.Apps...)
		for i, x := range list {
			if x != nil && x.Name != nil && slices.Contains(apps, EhrLaunchRegistryApp(*x.Name)) {
				c := *x
				c.RedirectUris = withCallback(c.RedirectUris)
				list[i] = &c
			}
		}
		o.Apps = &list
	}
	for _, a := range apps {
		switch a {
		case EhrLaunchConfidentialApp:
			c := *o.ConfidentialClient
			c.RedirectUris = withCallback(c.RedirectUris)
			o.ConfidentialClient = &c
		case EhrLaunchPublicApp:
			c := *o.PublicClient
			c.RedirectUris = withCallback(c.RedirectUris)
			o.PublicClient = &c
		}
	}
	o.TokenHookUrl = ehr.HookUrl()
	o.TokenHookSecret = ehr.HookSecret()
	return o
}

// ehrLaunchEndpoints are the server's endpoints with the proxies apps call
// instead of Okta's: authorize, token and introspection.
func ehrLaunchEndpoints(e *smartconfig.Endpoints, ehr *ehrlaunch.EhrLaunch) *smartconfig.Endpoints {
	out := *e
	out.AuthorizationEndpoint = ehr.AuthorizeUrl()
	out.TokenEndpoint = ehr.TokenUrl()
	out.IntrospectionEndpoint = ehr.IntrospectUrl()
	return &out
}
