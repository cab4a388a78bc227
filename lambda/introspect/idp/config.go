package idp

import (
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"
)

// Config is the function's validated configuration: the environment as
// validatorenv parsed it, and the token rules built from it.
type Config struct {
	validatorenv.Env
	// Rules read the token shapes of other authorization servers: scope
	// claim, client allow-list, audience rule, scope map (Env.TokenRules).
	Rules tokenshape.Rules
}

// ConfigFromEnv reads and validates the configuration with validatorenv.Parse;
// getenv is os.Getenv in production. The error, if any, is a
// *validatorenv.Error naming every bad variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env, err := validatorenv.Parse(getenv)
	return Config{Env: env, Rules: tokenshape.New(env.TokenRules)}, err
}
