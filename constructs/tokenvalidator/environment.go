package tokenvalidator

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// environment renders the function's environment (contract/validatorenv's
// names) from props with their defaults.
func (p *TokenValidatorProps) environment() map[string]*string {
	env := map[string]*string{
		validatorenv.EnvIssuer:       p.Issuer,
		validatorenv.EnvRoleARN:      p.ServiceRole.RoleArn(),
		validatorenv.EnvSmartVersion: jsii.String(string(p.SmartVersion)),
		validatorenv.EnvValidation:   jsii.String(string(p.Validation)),
		validatorenv.EnvLeeway:       seconds(p.TokenLeeway),
	}
	if p.JwksUri != nil {
		env[validatorenv.EnvJWKSURL] = p.JwksUri
	}
	if p.Audiences != nil && len(*p.Audiences) > 0 {
		env[validatorenv.EnvAudiences] = awscdk.Fn_Join(jsii.String(","), p.Audiences)
	}
	p.TokenRules.addEnvironment(env)
	if p.EhrLaunch != nil && *p.EhrLaunch {
		env[validatorenv.EnvEHRLaunch] = jsii.String("true")
	}
	if p.Validation == validatorenv.ValidationIntrospection {
		env[validatorenv.EnvIntrospectionSecretARN] = p.IntrospectionSecret.SecretArn()
		env[validatorenv.EnvIntrospectionCacheTTL] = seconds(p.IntrospectionCacheTtl)
		if p.IntrospectionCallsPerSecond != nil {
			env[validatorenv.EnvIntrospectionRate] = jsii.String(strconv.FormatFloat(*p.IntrospectionCallsPerSecond, 'f', -1, 64))
		}
		if p.IntrospectionEndpoint != nil {
			env[validatorenv.EnvIntrospectionURL] = p.IntrospectionEndpoint
		}
	}
	return env
}

// seconds renders a duration as the variable's seconds: "1.5" for 1500 ms, so
// that validatorenv refuses what the function would (a token stays a token).
func seconds(d awscdk.Duration) *string {
	if *awscdk.Token_IsUnresolved(d.ToString()) {
		return awscdk.Token_AsString(d.ToSeconds(nil), nil)
	}
	s := *d.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
	return jsii.String(strconv.FormatFloat(s, 'f', -1, 64))
}

// propNames maps each variable to the prop it is rendered from, so that the
// function's rules (validatorenv.Parse) speak the construct's language.
var propNames = map[string]string{
	validatorenv.EnvIssuer:                 "props.Issuer",
	validatorenv.EnvJWKSURL:                "props.JwksUri",
	validatorenv.EnvAudiences:              "props.Audiences",
	validatorenv.EnvValidation:             "props.Validation",
	validatorenv.EnvIntrospectionURL:       "props.IntrospectionEndpoint",
	validatorenv.EnvIntrospectionSecretARN: "props.IntrospectionSecret",
	validatorenv.EnvIntrospectionCacheTTL:  "props.IntrospectionCacheTtl",
	validatorenv.EnvIntrospectionRate:      "props.IntrospectionCallsPerSecond",
	validatorenv.EnvRoleARN:                "props.ServiceRole",
	validatorenv.EnvLeeway:                 "props.TokenLeeway",
	validatorenv.EnvSmartVersion:           "props.SmartVersion",
	validatorenv.EnvEHRLaunch:              "props.EhrLaunch",
	validatorenv.EnvScopeClaim:             "props.TokenRules.ScopeClaim",
	validatorenv.EnvClientIDs:              "props.TokenRules.ClientIds",
	validatorenv.EnvAudienceRule:           "props.TokenRules.ClientIdsStandInForAudience",
	validatorenv.EnvScopeMap:               "props.TokenRules.ScopeMap",
}

// checkEnvironment runs the function's own parser over the literal values of
// env, so that a setting the function would refuse at start (and then deny
// every request) fails synthesis instead, named by its prop. Variables whose
// values are tokens (resolved at deploy time) are skipped; the function
// checks those.
func checkEnvironment(env map[string]*string) error {
	deferred := map[string]bool{}
	_, err := validatorenv.Parse(func(name string) string {
		v, ok := env[name]
		if !ok || v == nil {
			return ""
		}
		if *awscdk.Token_IsUnresolved(v) {
			deferred[name] = true
		}
		return *v
	})
	var e *validatorenv.Error
	if !errors.As(err, &e) {
		return err
	}
	var msgs []string
	for _, p := range e.Problems {
		if deferred[p.Variable] {
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s (%s)", propName(p.Variable), speakProps(p.Reason), p.Variable))
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

func propName(variable string) string {
	if n, ok := propNames[variable]; ok {
		return n
	}
	return variable
}

// speakProps replaces the variable names a reason mentions with their props.
func speakProps(reason string) string { return propSpeaker.Replace(reason) }

// propSpeaker is built once from propNames, longest name first: a Replacer
// tries its pairs in argument order at each position, so that no name is
// replaced inside a longer one.
var propSpeaker = func() *strings.Replacer {
	names := slices.SortedFunc(maps.Keys(propNames), func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(names))
	for _, n := range names {
		pairs = append(pairs, n, propNames[n])
	}
	return strings.NewReplacer(pairs...)
}()

// BindAudience says the tokens this validator checks now carry an audience it
// accepts: the data store endpoint of each request. Call it once the
// authorization server's audience is bound to that endpoint, passing the
// resource that binds it (what oktaauth.SmartAuthorizationServer.BindAudience
// returns), or nil when the server's own configuration names the data store
// endpoint (a server this app does not provision). The binding is taken to
// make the call site say what bound the audience; nothing is made to depend
// on it, because the data store (whose endpoint it binds) depends on this
// function. The function's environment does not change either: the endpoint
// arrives in HealthLake's event.
//
// Without it, and without props.Audiences, synthesis fails: the server would
// issue tokens for a placeholder audience and the validator refuse them all.
func (v *TokenValidator) BindAudience(binding constructs.IDependable) {
	v.audienceBound = true
}

// audienceValidation fails synthesis for a validator whose tokens' audience
// was never bound (see BindAudience).
type audienceValidation struct{ v *TokenValidator }

// Validate implements constructs.IValidation.
func (a *audienceValidation) Validate() *[]*string {
	if a.v.audienceBound {
		return &[]*string{}
	}
	return &[]*string{jsii.String("the tokens' audience is never bound: the validator accepts only tokens for the data store " +
		"endpoint (or props.Audiences), which the authorization server's tokens carry once its audience is bound to it. " +
		"After creating the data store, bind the server's audience to its endpoint " +
		"(oktaauth.SmartAuthorizationServer.BindAudience(datastore.DatastoreEndpoint())) and pass the binding to this " +
		"validator's BindAudience (nil for a server configured outside this app), or set props.Audiences to the audience " +
		"the server's tokens carry")}
}
