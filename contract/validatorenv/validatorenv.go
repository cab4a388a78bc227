// Package validatorenv is the token validator's environment contract: the
// name of every environment variable lambda/introspect reads, the typed
// values they take (Validation, AudienceRule, ScopeClaim, smart.Version) and
// Parse, the one parser and validator of that environment. The validator
// (lambda/introspect/idp) parses its environment with it at start; the
// construct (constructs/tokenvalidator) checks the literal values of the
// environment it renders with it at synthesis, so a bad setting fails there,
// named by the construct's prop. It imports nothing but the standard library
// and the other contract packages, so a consumer's synthesis binary links no
// JWT library or SDK to use it.
package validatorenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// The environment variables the validator reads (lambda/introspect/idp's
// package documentation says what each means).
const (
	EnvIssuer                 = "SMART_ISSUER"
	EnvJWKSURL                = "SMART_JWKS_URL"
	EnvAudiences              = "SMART_AUDIENCES"
	EnvValidation             = "SMART_VALIDATION"
	EnvIntrospectionURL       = "SMART_INTROSPECTION_URL"
	EnvIntrospectionSecretARN = "SMART_INTROSPECTION_SECRET_ARN"
	EnvIntrospectionCacheTTL  = "SMART_INTROSPECTION_CACHE_SECONDS"
	EnvIntrospectionRate      = "SMART_INTROSPECTION_CALLS_PER_SECOND"
	EnvRoleARN                = "HEALTHLAKE_ROLE_ARN"
	EnvLeeway                 = "SMART_LEEWAY_SECONDS"
	EnvSmartVersion           = "SMART_VERSION"
	// EnvLegacySmartVersion is SMART_VERSION's old name. A function
	// configured before the rename (a template or a console setting not
	// made by this version of the construct) still has it; ignoring it
	// would silently validate a v1 data store's tokens as v2. It is read
	// when SMART_VERSION is absent.
	EnvLegacySmartVersion = "SMART_SCOPE_VERSION"
	EnvEHRLaunch          = "SMART_EHR_LAUNCH"
	// The token rules of authorization servers other than the provisioned
	// Okta one (see TokenRules).
	EnvScopeClaim   = "SMART_SCOPE_CLAIM"
	EnvClientIDs    = "SMART_CLIENT_IDS"
	EnvAudienceRule = "SMART_AUDIENCE_RULE"
	EnvScopeMap     = "SMART_SCOPE_MAP"
)

// Validation is how the validator checks tokens.
type Validation string

// The validation modes.
const (
	// ValidationJWT checks signatures locally against the issuer's JWK Set.
	ValidationJWT Validation = "jwt"
	// ValidationIntrospection asks the issuer's RFC 7662 introspection
	// endpoint about each new token.
	ValidationIntrospection Validation = "introspection"
)

// Valid reports whether v is a known mode.
func (v Validation) Valid() bool { return v == ValidationJWT || v == ValidationIntrospection }

// ScopeClaim names the claim holding a token's scopes.
type ScopeClaim string

// The scope claims; the zero ScopeClaim reads scp when present, else scope.
const (
	ClaimScope ScopeClaim = "scope" // RFC 9068, Keycloak, Auth0, Ping, Cognito
	ClaimScp   ScopeClaim = "scp"   // Okta (an array), Entra ID (a string)
)

// AudienceRule says when a token's aud is required.
type AudienceRule string

// The audience rules; the zero AudienceRule is AudienceRequired.
const (
	// AudienceRequired: the token's aud must hold an accepted audience.
	AudienceRequired AudienceRule = "aud"
	// AudienceOrAllowedClient: a token without aud is accepted when its
	// client is in the allow-list (Cognito access tokens have no aud). JWT
	// mode only: an introspection answer without aud is refused (it may be
	// about a token that is not an access token for this data store), so the
	// combination is refused rather than deployed without effect.
	AudienceOrAllowedClient AudienceRule = "aud-or-allowed-client"
)

// Defaults and limits of the optional settings.
const (
	DefaultLeeway                = 60 * time.Second
	DefaultIntrospectionCacheTTL = 60 * time.Second
	DefaultIntrospectionRate     = 10
	// MaxSeconds bounds the leeway and the introspection cache TTL.
	MaxSeconds = 300
	// MaxIntrospectionRate bounds the introspection calls per second.
	MaxIntrospectionRate = 1000
)

// Env is the validated environment.
type Env struct {
	// Issuer is the exact iss tokens must carry.
	Issuer string
	// JWKSURL is the JWK Set URL; empty means discover it from Issuer.
	JWKSURL string
	// Audiences are accepted in addition to the event's datastoreEndpoint.
	Audiences []string
	// Validation is jwt or introspection.
	Validation Validation
	// IntrospectionURL is the RFC 7662 endpoint; empty means discover it.
	IntrospectionURL string
	// IntrospectionSecretARN names the secret with the introspection client's
	// credentials.
	IntrospectionSecretARN string
	// IntrospectionCacheTTL bounds how long an active introspection result is
	// reused; zero disables reuse.
	IntrospectionCacheTTL time.Duration
	// IntrospectionCallsPerSecond bounds this container's introspection calls
	// (a token bucket of as many calls, refilled at that rate).
	IntrospectionCallsPerSecond int
	// RoleARN is returned to HealthLake as iamRoleARN.
	RoleARN string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// SmartVersion is the SMART version the data store enforces.
	SmartVersion smart.Version
	// TokenRules read the token shapes of other authorization servers.
	TokenRules TokenRules
	// EHRLaunch says EHR launch (lambda/ehrlaunch) is deployed: a token with
	// the launch scope then gets patient context only from the token hook's
	// marker claim. Default: false.
	EHRLaunch bool
}

// TokenRules are the settings lambda/introspect/tokenshape builds its rules
// from. The zero value reads Okta's and RFC 9068's shapes and requires aud.
type TokenRules struct {
	// ScopeClaim is ClaimScope, ClaimScp or "" (scp when present, else scope).
	ScopeClaim ScopeClaim
	// ClientIDs, when not empty, is the allow-list of clients.
	ClientIDs []string
	// AudienceRule is AudienceRequired or AudienceOrAllowedClient (which
	// needs ClientIDs).
	AudienceRule AudienceRule
	// ScopeMap rewrites scope prefixes (each entry passes CheckScopeMapEntry).
	ScopeMap map[string]string
}

// Problem is one invalid or missing variable.
type Problem struct {
	Variable string
	Reason   string
}

// Error lists every problem found in the environment.
type Error struct {
	Problems []Problem
}

// Error reports every problem on one line.
func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Variable + ": " + p.Reason
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// Variable names the first bad variable.
func (e *Error) Variable() string {
	if len(e.Problems) == 0 {
		return ""
	}
	return e.Problems[0].Variable
}

var (
	roleARN   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$`)
)

// RoleARNValid reports whether s is an IAM role ARN, as HEALTHLAKE_ROLE_ARN
// must be.
func RoleARNValid(s string) bool { return roleARN.MatchString(s) }

// Parse reads and validates the environment; getenv is os.Getenv in
// production. The error, if any, is an *Error naming every bad variable; the
// Env returned with it holds what could be read.
func Parse(getenv func(string) string) (Env, error) {
	var (
		c    Env
		errs []Problem
	)
	bad := func(name, format string, args ...any) {
		errs = append(errs, Problem{Variable: name, Reason: fmt.Sprintf(format, args...)})
	}

	c.Issuer = getenv(EnvIssuer)
	if c.Issuer == "" {
		bad(EnvIssuer, "required")
	} else if err := httpsurl.CheckOrLoopback(c.Issuer); err != nil {
		bad(EnvIssuer, "%v", err)
	}

	c.JWKSURL = getenv(EnvJWKSURL)
	if c.JWKSURL != "" {
		if err := httpsurl.CheckOrLoopback(c.JWKSURL); err != nil {
			bad(EnvJWKSURL, "%v", err)
		}
	}

	c.Audiences = list(getenv(EnvAudiences))

	switch m := Validation(getenv(EnvValidation)); {
	case m == "":
		c.Validation = ValidationJWT
	case m.Valid():
		c.Validation = m
	default:
		bad(EnvValidation, "must be %q or %q, not %q", ValidationJWT, ValidationIntrospection, m)
	}

	c.IntrospectionURL = getenv(EnvIntrospectionURL)
	c.IntrospectionSecretARN = getenv(EnvIntrospectionSecretARN)
	if c.Validation == ValidationIntrospection {
		if c.IntrospectionURL != "" {
			if err := httpsurl.CheckOrLoopback(c.IntrospectionURL); err != nil {
				bad(EnvIntrospectionURL, "%v", err)
			}
		}
		switch {
		case c.IntrospectionSecretARN == "":
			bad(EnvIntrospectionSecretARN, "required when %s=%s", EnvValidation, ValidationIntrospection)
		case !secretARN.MatchString(c.IntrospectionSecretARN):
			bad(EnvIntrospectionSecretARN, "not a Secrets Manager secret ARN")
		}
	}
	var err error
	if c.IntrospectionCacheTTL, err = seconds(getenv(EnvIntrospectionCacheTTL), DefaultIntrospectionCacheTTL); err != nil {
		bad(EnvIntrospectionCacheTTL, "%v", err)
	}

	c.IntrospectionCallsPerSecond = DefaultIntrospectionRate
	if r := getenv(EnvIntrospectionRate); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > MaxIntrospectionRate {
			bad(EnvIntrospectionRate, "must be a whole number of calls from 1 to %d, not %q", MaxIntrospectionRate, r)
		} else {
			c.IntrospectionCallsPerSecond = n
		}
	}

	c.RoleARN = getenv(EnvRoleARN)
	switch {
	case c.RoleARN == "":
		bad(EnvRoleARN, "required")
	case !roleARN.MatchString(c.RoleARN):
		bad(EnvRoleARN, "not an IAM role ARN")
	}

	if c.Leeway, err = seconds(getenv(EnvLeeway), DefaultLeeway); err != nil {
		bad(EnvLeeway, "%v", err)
	}

	c.SmartVersion = smart.V2
	version, legacy := getenv(EnvSmartVersion), getenv(EnvLegacySmartVersion)
	versionVar := EnvSmartVersion
	switch {
	case version != "" && legacy != "" && version != legacy:
		bad(EnvSmartVersion, "is %q but %s, its old name, is %q: set %s only", version, EnvLegacySmartVersion, legacy, EnvSmartVersion)
		version = ""
	case version == "" && legacy != "":
		version, versionVar = legacy, EnvLegacySmartVersion
	}
	if version != "" {
		if v, err := smart.ParseVersion(version); err != nil {
			bad(versionVar, "%v", err)
		} else {
			c.SmartVersion = v
		}
	}

	rules, problems := parseTokenRules(getenv)
	c.TokenRules = rules
	errs = append(errs, problems...)
	if rules.AudienceRule == AudienceOrAllowedClient && c.Validation == ValidationIntrospection {
		// The introspection path refuses an answer without aud before any rule
		// applies (lambda/introspect/idp, introspection.go): the rule would be
		// deployed and never used.
		bad(EnvAudienceRule, "%s applies to JWT validation only: in %s mode an answer without aud is always refused",
			AudienceOrAllowedClient, ValidationIntrospection)
	}

	switch e := getenv(EnvEHRLaunch); e {
	case "", "false":
	case "true":
		c.EHRLaunch = true
	default:
		bad(EnvEHRLaunch, `must be "true" or "false", not %q`, e)
	}

	if len(errs) > 0 {
		return c, &Error{Problems: errs}
	}
	return c, nil
}

// parseTokenRules reads the token rules; the rules returned with problems are
// the safe defaults for the variables in error. Problems are sorted by
// variable.
func parseTokenRules(getenv func(string) string) (TokenRules, []Problem) {
	var r TokenRules
	var problems []Problem
	bad := func(v, format string, args ...any) {
		problems = append(problems, Problem{Variable: v, Reason: fmt.Sprintf(format, args...)})
	}

	switch c := ScopeClaim(getenv(EnvScopeClaim)); c {
	case "", ClaimScope, ClaimScp:
		r.ScopeClaim = c
	default:
		bad(EnvScopeClaim, "must be %q or %q, not %q", ClaimScope, ClaimScp, c)
	}

	r.ClientIDs = list(getenv(EnvClientIDs))

	switch rule := AudienceRule(getenv(EnvAudienceRule)); rule {
	case "", AudienceRequired:
		r.AudienceRule = AudienceRequired
	case AudienceOrAllowedClient:
		if len(r.ClientIDs) == 0 {
			// Tokens without aud from any client of the issuer: apps registered
			// for other APIs of the same server would get in.
			bad(EnvAudienceRule, "%s needs %s: without an allow-list, tokens with no audience would be accepted from any client",
				AudienceOrAllowedClient, EnvClientIDs)
			r.AudienceRule = AudienceRequired
		} else {
			r.AudienceRule = rule
		}
	default:
		r.AudienceRule = AudienceRequired
		bad(EnvAudienceRule, "must be %q or %q, not %q", AudienceRequired, AudienceOrAllowedClient, rule)
	}

	if raw := getenv(EnvScopeMap); raw != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			bad(EnvScopeMap, "must be a JSON object of strings (scope prefix to replacement)")
		} else {
			for _, prefix := range slices.Sorted(maps.Keys(m)) {
				if err := CheckScopeMapEntry(prefix, m[prefix]); err != nil {
					bad(EnvScopeMap, "entry %q: %v", prefix, err)
					continue
				}
				if r.ScopeMap == nil {
					r.ScopeMap = map[string]string{}
				}
				r.ScopeMap[prefix] = m[prefix]
			}
		}
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.Variable, b.Variable) })
	return r, problems
}

// CheckScopeMapEntry checks one scope-map entry: a non-empty prefix that ends
// at a separator ('.', '/', '-' or ':'), so "patient." never rewrites
// "patientx.y", and no white space on either side.
func CheckScopeMapEntry(prefix, replacement string) error {
	switch {
	case prefix == "":
		return errors.New("the prefix must be non-empty")
	case strings.ContainsAny(prefix+replacement, " \t\n\r\v\f"):
		return errors.New("neither side may hold spaces")
	case !strings.ContainsAny(prefix[len(prefix)-1:], "./-:"):
		return errors.New(`the prefix must end at a separator ('.', '/', '-' or ':'), such as "patient."`)
	}
	return nil
}

// list splits a comma-separated variable, dropping blanks.
func list(s string) []string {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// seconds reads a whole number of seconds in [0, MaxSeconds].
func seconds(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > MaxSeconds {
		return def, fmt.Errorf("must be a whole number of seconds from 0 to %d, not %q", MaxSeconds, s)
	}
	return time.Duration(n) * time.Second, nil
}
