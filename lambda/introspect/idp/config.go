package idp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"
)

// The environment variables the function reads (see the package documentation).
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
	EnvScopeVersion           = "SMART_SCOPE_VERSION"
	EnvEHRLaunch              = "SMART_EHR_LAUNCH"
)

// Mode is how tokens are validated.
type Mode string

// The validation modes.
const (
	ModeJWT           Mode = "jwt"
	ModeIntrospection Mode = "introspection"
)

// Config is the function's validated configuration.
type Config struct {
	// Issuer is the exact iss tokens must carry.
	Issuer string
	// JWKSURL is the JWK Set URL; empty means discover it from Issuer.
	JWKSURL string
	// Audiences are accepted in addition to the event's datastoreEndpoint.
	Audiences []string
	// Mode is jwt or introspection.
	Mode Mode
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
	// ScopeVersion is the scope syntax the data store understands.
	ScopeVersion smartscope.Version
	// Rules read the token shapes of other authorization servers: scope
	// claim, client allow-list, audience rule, scope map (SMART_SCOPE_CLAIM,
	// SMART_CLIENT_IDS, SMART_AUDIENCE_RULE, SMART_SCOPE_MAP).
	Rules tokenshape.Rules
	// EHRLaunch says EHR launch (lambda/ehrlaunch) is deployed: a token with
	// the launch scope then gets patient context only from the token hook's
	// marker claim and patient (see launchctx.go). Default: false.
	EHRLaunch bool
}

// Default values of the optional settings.
const (
	DefaultLeeway                = 60 * time.Second
	DefaultIntrospectionCacheTTL = 60 * time.Second
	DefaultIntrospectionRate     = 10
	maxIntrospectionRate         = 1000
	maxSeconds                   = 300
)

// ConfigError lists every problem found in the environment.
type ConfigError struct {
	Problems []Problem
}

// Problem is one invalid or missing variable.
type Problem struct {
	Variable string
	Reason   string
}

// Error reports every problem on one line.
func (e *ConfigError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Variable + ": " + p.Reason
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// Variable names the first bad variable.
func (e *ConfigError) Variable() string {
	if len(e.Problems) == 0 {
		return ""
	}
	return e.Problems[0].Variable
}

var (
	roleARN   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$`)
)

// ConfigFromEnv reads and validates the configuration; getenv is os.Getenv in
// production. The error, if any, is a *ConfigError naming every bad variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var (
		c    Config
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

	for a := range strings.SplitSeq(getenv(EnvAudiences), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Audiences = append(c.Audiences, a)
		}
	}

	switch m := getenv(EnvValidation); m {
	case "", string(ModeJWT):
		c.Mode = ModeJWT
	case string(ModeIntrospection):
		c.Mode = ModeIntrospection
	default:
		bad(EnvValidation, "must be %q or %q, not %q", ModeJWT, ModeIntrospection, m)
	}

	c.IntrospectionURL = getenv(EnvIntrospectionURL)
	c.IntrospectionSecretARN = getenv(EnvIntrospectionSecretARN)
	if c.Mode == ModeIntrospection {
		if c.IntrospectionURL != "" {
			if err := httpsurl.CheckOrLoopback(c.IntrospectionURL); err != nil {
				bad(EnvIntrospectionURL, "%v", err)
			}
		}
		switch {
		case c.IntrospectionSecretARN == "":
			bad(EnvIntrospectionSecretARN, "required when %s=%s", EnvValidation, ModeIntrospection)
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
		if err != nil || n < 1 || n > maxIntrospectionRate {
			bad(EnvIntrospectionRate, "must be a whole number of calls from 1 to %d, not %q", maxIntrospectionRate, r)
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

	v, ok := smartscope.ParseVersion(getenv(EnvScopeVersion))
	if !ok {
		bad(EnvScopeVersion, `must be "v1" or "v2"`)
	}
	c.ScopeVersion = v

	rules, problems := tokenshape.FromEnv(getenv)
	c.Rules = rules
	for _, p := range problems {
		bad(p.Variable, "%s", p.Reason)
	}

	switch e := getenv(EnvEHRLaunch); e {
	case "", "false":
	case "true":
		c.EHRLaunch = true
	default:
		bad(EnvEHRLaunch, `must be "true" or "false", not %q`, e)
	}

	if len(errs) > 0 {
		return c, &ConfigError{Problems: errs}
	}
	return c, nil
}

// seconds reads a whole number of seconds in [0, maxSeconds].
func seconds(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxSeconds {
		return def, fmt.Errorf("must be a whole number of seconds from 0 to %d, not %q", maxSeconds, s)
	}
	return time.Duration(n) * time.Second, nil
}
