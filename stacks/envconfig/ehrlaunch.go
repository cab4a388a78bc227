package envconfig

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// The user-facing Okta apps EHRs may launch. Key: ehrLaunch.apps.
const (
	// EhrLaunchConfidential is the app of okta.confidentialClientRedirectUris.
	EhrLaunchConfidential = "confidential"
	// EhrLaunchPublic is the app of okta.publicClientRedirectUris.
	EhrLaunchPublic = "public"
)

// EhrLaunch turns on SMART's EHR launch in front of Okta: the launch-context
// API EHRs register launches with, the authorize, token and introspection
// proxies the SMART configuration then advertises, Okta's token inline hook,
// and a token validator requiring the hook's marker. Okta environments only.
type EhrLaunch struct {
	// Enabled turns it on; the other keys are read only then.
	// Key: ehrLaunch.enabled. Default: false.
	Enabled bool
	// Apps are the Okta apps EHRs may launch: confidential and/or public (the
	// apps of okta.*RedirectUris) and names of public or confidential apps of
	// okta.apps. Key: ehrLaunch.apps.
	// Default: every configured user-facing app, single and registry.
	Apps []string
	// PickerApps are launched apps for clinicians whose standalone
	// launch/patient requests go through the proxy's patient picker.
	// Key: ehrLaunch.pickerApps. Default: none.
	PickerApps []string
	// EHRRoleARNs are the IAM roles whose SigV4-signed calls may register a
	// launch (POST /launch). Key: ehrLaunch.ehrRoleArns. Required when enabled.
	EHRRoleARNs []string
	// CORSOrigins are browser origins (https://host[:port]) allowed to call
	// the token endpoint. Key: ehrLaunch.corsOrigins. Default: none.
	CORSOrigins []string
	// LaunchLifetimeSeconds is how long a launch id is valid, 1 to 300.
	// Key: ehrLaunch.launchLifetimeSeconds. Default: 300.
	LaunchLifetimeSeconds int
	// ProxyBackendServices sends the backend services (okta.backendClientJwks
	// and the backend apps of okta.apps) through the token proxy the SMART
	// configuration advertises; false leaves them on Okta's token endpoint
	// (the TokenEndpoint output) alone. Key: ehrLaunch.proxyBackendServices.
	// Default: true.
	ProxyBackendServices bool
}

// IsEhrLaunchSingleApp reports whether an entry of ehrLaunch.apps names a
// single client (confidential, public) rather than an app of okta.apps.
func IsEhrLaunchSingleApp(a string) bool { return a == EhrLaunchConfidential || a == EhrLaunchPublic }

// iamRoleARN is what the launch function accepts (lambda/ehrlaunch/launchflow).
var iamRoleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// parseEhrLaunch reads the ehrLaunch block, after the okta or external block.
func parseEhrLaunch(r *reader, root *object, e *Environment) {
	x := root.object("ehrLaunch", false)
	defer x.done()
	e.EhrLaunch.Enabled = x.boolean("enabled", false)
	if !e.EhrLaunch.Enabled {
		// Read, so a disabled block may keep its settings for later.
		for _, k := range []string{"apps", "pickerApps", "ehrRoleArns", "corsOrigins", "launchLifetimeSeconds", "proxyBackendServices"} {
			x.get(k)
		}
		return
	}
	if e.External != nil {
		r.fail("ehrLaunch.enabled", "needs authorizationServer %s: EHR launch provisions Okta's token inline hook and "+
			"the Okta apps' callback, which an external authorization server does not offer here", AuthorizationServerOkta)
		return
	}
	configured := map[string]bool{
		EhrLaunchConfidential: len(e.Okta.ConfidentialClientRedirectURIs) > 0,
		EhrLaunchPublic:       len(e.Okta.PublicClientRedirectURIs) > 0,
	}
	registry := map[string]oktaprops.AppType{}
	for _, a := range e.Okta.Apps {
		registry[a.Name] = a.Type
	}
	if v, set := x.get("apps"); set {
		e.EhrLaunch.Apps = x.stringList("apps")
		if list, ok := v.([]any); ok && len(list) == 0 {
			r.fail("ehrLaunch.apps", "must list at least one app (%s, %s or a name of okta.apps), or be left out for every configured one",
				EhrLaunchConfidential, EhrLaunchPublic)
		}
	} else {
		for _, a := range []string{EhrLaunchConfidential, EhrLaunchPublic} {
			if configured[a] {
				e.EhrLaunch.Apps = append(e.EhrLaunch.Apps, a)
			}
		}
		for _, a := range e.Okta.Apps {
			if a.Type != oktaprops.AppBackend && !IsEhrLaunchSingleApp(a.Name) {
				e.EhrLaunch.Apps = append(e.EhrLaunch.Apps, a.Name)
			}
		}
		if len(e.EhrLaunch.Apps) == 0 {
			r.fail("ehrLaunch.enabled", "needs an app to launch: set okta.confidentialClientRedirectUris, "+
				"okta.publicClientRedirectUris or a public or confidential app in okta.apps")
		}
	}
	for i, a := range e.EhrLaunch.Apps {
		key := fmt.Sprintf("ehrLaunch.apps[%d]", i)
		typ, inRegistry := registry[a]
		switch {
		case IsEhrLaunchSingleApp(a) && inRegistry:
			// The keyword names the single client; the stack could not tell
			// which one is meant.
			r.fail(key, "is %s, which names both the okta.%sClientRedirectUris app and an app of okta.apps: "+
				"rename the app of okta.apps", a, a)
		case slices.Index(e.EhrLaunch.Apps, a) != i:
			r.fail(key, "repeats %q", a)
		case IsEhrLaunchSingleApp(a) && !configured[a]:
			r.fail(key, "is %s, but okta.%sClientRedirectUris is not set: only an app the stack creates can be launched", a, a)
		case IsEhrLaunchSingleApp(a):
		case !inRegistry:
			r.fail(key, "must be %s, %s or the name of an app of okta.apps, got %q", EhrLaunchConfidential, EhrLaunchPublic, a)
		case typ == oktaprops.AppBackend:
			r.fail(key, "is %q, a backend app of okta.apps: only public and confidential apps can be launched; leave it out", a)
		}
	}
	// The proxy's assertion key joins the backend services' Okta JWKS
	// (smarthealthlake's ProxyAssertionKey), and Okta wants a kid on each of
	// several keys: say so in cdk.json's words.
	jwks := func(key, raw string) {
		if raw == "" {
			return
		}
		keys, err := oktaprops.PublicJWKS(json.RawMessage(raw))
		if err != nil {
			return // reported where the key is read
		}
		if at, reason := oktaprops.RoomForProxyKey(keys); reason != "" {
			r.fail(key+at, "%s (or set ehrLaunch.proxyBackendServices to false)",
				strings.ReplaceAll(reason, "with "+oktaprops.PropProxyAssertionKeyARN, "with ehrLaunch.enabled"))
		}
	}
	e.EhrLaunch.ProxyBackendServices = x.boolean("proxyBackendServices", true)
	if e.EhrLaunch.ProxyBackendServices {
		jwks("okta.backendClientJwks", e.Okta.BackendClientJWKS)
		for i, a := range e.Okta.Apps {
			if a.Type == oktaprops.AppBackend {
				jwks(fmt.Sprintf("okta.apps[%d].jwks", i), a.JWKS)
			}
		}
	}
	e.EhrLaunch.PickerApps = x.stringList("pickerApps")
	for i, a := range e.EhrLaunch.PickerApps {
		key := fmt.Sprintf("ehrLaunch.pickerApps[%d]", i)
		switch {
		case !slices.Contains(e.EhrLaunch.Apps, a):
			r.fail(key, "is %q, which is not among the launched apps (ehrLaunch.apps): only an app the proxy serves can use its patient picker", a)
		case slices.Index(e.EhrLaunch.PickerApps, a) != i:
			r.fail(key, "repeats %q", a)
		}
	}
	e.EhrLaunch.EHRRoleARNs = x.stringList("ehrRoleArns")
	if len(e.EhrLaunch.EHRRoleARNs) == 0 {
		r.fail("ehrLaunch.ehrRoleArns", "is required: list the IAM roles of the EHRs that register launches (arn:aws:iam::<account>:role/<name>)")
	}
	for i, arn := range e.EhrLaunch.EHRRoleARNs {
		if !iamRoleARN.MatchString(arn) {
			r.fail(fmt.Sprintf("ehrLaunch.ehrRoleArns[%d]", i), "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got %q", arn)
		}
	}
	e.EhrLaunch.CORSOrigins = x.stringList("corsOrigins")
	for i, o := range e.EhrLaunch.CORSOrigins {
		if !isOrigin(o) {
			r.fail(fmt.Sprintf("ehrLaunch.corsOrigins[%d]", i), "must be an https origin such as https://app.example.org (no path), got %q", o)
		}
	}
	e.EhrLaunch.LaunchLifetimeSeconds = x.integer("launchLifetimeSeconds", 300)
	if l := e.EhrLaunch.LaunchLifetimeSeconds; l < 1 || l > 300 {
		r.fail("ehrLaunch.launchLifetimeSeconds", "must be between 1 and 300 (SMART's launch ids live at most 5 minutes here), got %d", l)
	}
}

// isOrigin is what the launch function accepts as a CORS origin.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && (u.Path == "" || u.Path == "/") &&
		u.RawQuery == "" && u.Fragment == ""
}
