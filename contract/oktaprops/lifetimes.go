package oktaprops

// Bounds of the token lifetime properties, in minutes, the unit of Okta's
// access policy rule (management API spec,
// TokenAuthorizationServerPolicyRuleAction): accessTokenLifetimeMinutes "The
// minimum is five minutes. The maximum is one day."; refreshTokenWindowMinutes
// "The minimum is 10 minutes. The maximum is five years (2,628,000
// minutes).". The backend services rule's access tokens have the same bounds
// as the user-facing rule's: it is the same field.
const (
	MinAccessTokenLifetimeMinutes = 5
	MaxAccessTokenLifetimeMinutes = 24 * 60
	MinRefreshTokenWindowMinutes  = 10
	MaxRefreshTokenWindowMinutes  = 2628000
	// MaxRefreshTokenLifetimeMinutes is this resource's bound, not a
	// documented one of Okta's (the spec gives none; 0 is unlimited): the
	// window's maximum, which keeps a typo of a few orders of magnitude from
	// reaching Okta.
	MaxRefreshTokenLifetimeMinutes = MaxRefreshTokenWindowMinutes
)

// Defaults of the token lifetime properties, in minutes.
const (
	DefaultAccessTokenLifetimeMinutes = 60
	// DefaultRefreshTokenLifetimeMinutes is unlimited: a refresh token then
	// lives as long as it is used within the window.
	DefaultRefreshTokenLifetimeMinutes       = 0
	DefaultRefreshTokenWindowMinutes         = 7 * 24 * 60
	DefaultBackendAccessTokenLifetimeMinutes = 5
)
