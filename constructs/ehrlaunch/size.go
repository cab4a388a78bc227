package ehrlaunch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// EnvironmentEstimate is the synthesis-time estimate of the function's
// environment, the size Lambda measures against MaxEnvironmentBytes: every
// literal exact (JSON escapes included), each deploy-time value counted as
// ClientIdAllowance (a client id) or TokenAllowance (anything else) bytes.
type EnvironmentEstimate struct {
	// Bytes is the whole environment: the JSON object of its variables.
	Bytes int
	// Variables are the estimated values, by variable name: the variables
	// the function gets, no more and no fewer.
	Variables map[string]string
	// BackendBytes are what each of props.BackendClients takes of
	// EHRLAUNCH_BACKEND_CLIENTS, in their order.
	BackendBytes []int
}

// Fits reports whether the estimate is within Lambda's limit.
func (e EnvironmentEstimate) Fits() bool { return e.Bytes <= MaxEnvironmentBytes }

// VariableBytes is what the variable name takes of Bytes (its name, value
// and separators), 0 when the function does not get it.
func (e EnvironmentEstimate) VariableBytes(name string) int {
	v, ok := e.Variables[name]
	if !ok {
		return 0
	}
	return jsonSize(name) + 1 + jsonSize(v) + 1 // name:value,
}

// EstimateEnvironment estimates the environment NewEhrLaunch would give its
// function in scope's stack (NewEhrLaunch refuses one that does not fit).
// A composite runs it first to fail in its own words (Explain). It returns
// the error NewEhrLaunch would panic with on invalid props.
func EstimateEnvironment(scope constructs.Construct, props *EhrLaunchProps) (EnvironmentEstimate, error) {
	if err := validate(props); err != nil {
		return EnvironmentEstimate{}, err
	}
	jwks, err := backendClients(props)
	if err != nil {
		return EnvironmentEstimate{}, err
	}
	return estimateEnvironment(awscdk.Stack_Of(scope), props, jwks), nil
}

// estimateEnvironment mirrors the environment NewEhrLaunch builds, before
// the resources it names exist: what this construct creates (the table, the
// secret, the key, the API's id) is one TokenAllowance each.
func estimateEnvironment(stack awscdk.Stack, p *EhrLaunchProps, jwks []string) EnvironmentEstimate {
	token := strings.Repeat("x", TokenAllowance)
	secret := strings.Repeat("x", IssuerAllowance)
	if p.HookSecret != nil {
		secret = estimate(p.HookSecret.SecretArn(), IssuerAllowance)
	}
	vars := map[string]string{
		ehrlaunchenv.EnvTable:        token,
		ehrlaunchenv.EnvOktaIssuer:   estimate(p.OktaIssuer, IssuerAllowance),
		ehrlaunchenv.EnvFHIRAudience: estimate(p.FhirEndpoint, TokenAllowance),
		// The parts of baseURL.
		ehrlaunchenv.EnvPublicURL: "https://" + strings.Repeat("x", apiIDAllowance) + ".execute-api." +
			estimate(stack.Region(), regionAllowance) + "." + estimate(stack.UrlSuffix(), urlSuffixAllowance) + "/" + StageName,
		ehrlaunchenv.EnvClients:       clientsEstimate(p.Apps),
		ehrlaunchenv.EnvHookSecretARN: secret,
	}
	var roles []string
	for _, r := range *p.EhrRoles {
		roles = append(roles, estimate(r.RoleArn(), TokenAllowance))
	}
	vars[ehrlaunchenv.EnvEHRPrincipals] = strings.Join(roles, ",")
	if p.CorsOrigins != nil && len(*p.CorsOrigins) > 0 {
		var origins []string
		for _, o := range *p.CorsOrigins {
			origins = append(origins, estimate(o, TokenAllowance))
		}
		vars[ehrlaunchenv.EnvCORSOrigins] = strings.Join(origins, ",")
	}
	if p.LaunchLifetime != nil {
		vars[ehrlaunchenv.EnvLaunchSeconds] = fmt.Sprint(*p.LaunchLifetime.ToSeconds(nil))
	}
	e := EnvironmentEstimate{Variables: vars}
	if jwks != nil {
		vars[ehrlaunchenv.EnvAssertionKeyARN] = token
		var parts []string
		for i, c := range *p.BackendClients {
			parts = append(parts, backendEntry(estimate(c.ClientId, ClientIdAllowance), jwks[i]))
			// Its JSON, escaped in the environment's, and its comma.
			e.BackendBytes = append(e.BackendBytes, jsonSize(parts[i])-2+1)
		}
		vars[ehrlaunchenv.EnvBackendClients] = "[" + strings.Join(parts, ",") + "]"
	}
	e.Bytes = environmentSize(vars)
	return e
}

// EnvironmentNames name what the user set, for Explain: a composite gives
// its own prop names (or configuration keys).
type EnvironmentNames struct {
	// Apps names the launched apps (props.Apps).
	Apps string
	// EhrRoles names the EHR roles (props.EhrRoles).
	EhrRoles string
	// CorsOrigins names the CORS origins (props.CorsOrigins).
	CorsOrigins string
	// Backend names each backend service's JWKS, in the order of
	// props.BackendClients.
	Backend []string
	// BackendLead names them all at the head of the message. Default: the
	// Backend names, joined.
	BackendLead string
	// BackendOff says how to send fewer backend services through the proxy.
	BackendOff string
}

// names are this construct's own.
func names(p *EhrLaunchProps) EnvironmentNames {
	n := EnvironmentNames{Apps: "props.Apps", EhrRoles: "props.EhrRoles", CorsOrigins: "props.CorsOrigins",
		BackendLead: "props.BackendClients",
		BackendOff:  "list fewer props.BackendClients (the others can call Okta's token endpoint directly)"}
	if p.BackendClients != nil {
		for i := range *p.BackendClients {
			n.Backend = append(n.Backend, fmt.Sprintf("props.BackendClients[%d].Jwks", i))
		}
	}
	return n
}

// Explain says that the environment is over Lambda's limit, which of what
// the user set takes the room (largest first, in n's words) and what to do.
func (e EnvironmentEstimate) Explain(n EnvironmentNames) string {
	type part struct {
		lead, what, advice string
		bytes              int
	}
	var parts []part
	if v := e.VariableBytes(ehrlaunchenv.EnvBackendClients); v > 0 {
		var each []string
		for i, b := range e.BackendBytes {
			if i < len(n.Backend) {
				each = append(each, fmt.Sprintf("%s %d", n.Backend[i], b))
			}
		}
		lead := n.BackendLead
		if lead == "" {
			lead = strings.Join(n.Backend, ", ")
		}
		parts = append(parts, part{lead, fmt.Sprintf("the backend services' JWKS (%s) take %d (%s)",
			ehrlaunchenv.EnvBackendClients, v, strings.Join(each, ", ")),
			"register only the keys each service signs with (one RSA-2048 key is about 500 bytes), or " + n.BackendOff, v})
	}
	for _, x := range []struct{ name, env, what, advice string }{
		{n.Apps, ehrlaunchenv.EnvClients, "the launched apps", "launch fewer apps or give them fewer redirect URIs"},
		{n.CorsOrigins, ehrlaunchenv.EnvCORSOrigins, "the CORS origins", "allow fewer origins"},
		{n.EhrRoles, ehrlaunchenv.EnvEHRPrincipals, "the EHR roles", "allow fewer roles"},
	} {
		if v := e.VariableBytes(x.env); v > 0 {
			parts = append(parts, part{x.name, fmt.Sprintf("%s (%s, %s) take %d", x.what, x.name, x.env, v), x.advice, v})
		}
	}
	slices.SortStableFunc(parts, func(a, b part) int { return cmp.Compare(b.bytes, a.bytes) })
	var whats []string
	for _, x := range parts {
		whats = append(whats, x.what)
	}
	return fmt.Sprintf("%s: the EHR launch function's environment would take about %d bytes (each deploy-time client id "+
		"counted as %d, any other deploy-time value as %d), over Lambda's %d-byte limit on all environment variables "+
		"together; %s: %s", parts[0].lead, e.Bytes, ClientIdAllowance, TokenAllowance, MaxEnvironmentBytes,
		strings.Join(whats, "; "), parts[0].advice)
}
