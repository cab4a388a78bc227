package idp

// Reason is the stable code logged with every decision. Dashboards and alarms
// key off these strings: add codes, never rename them.
type Reason string

// Allow reasons.
const (
	ReasonValid  Reason = "valid"  // validated now
	ReasonCached Reason = "cached" // validated earlier, audience checked now
)

// Deny reasons about the function itself or the event.
const (
	ReasonConfigInvalid Reason = "config_invalid" // see the start-up log line
	ReasonEventInvalid  Reason = "event_invalid"  // no datastoreEndpoint
	ReasonInternal      Reason = "internal_error" // a recovered panic
)

// Deny reasons about the token.
const (
	ReasonTokenMissing    Reason = "token_missing"
	ReasonTokenTooLarge   Reason = "token_too_large"
	ReasonTokenMalformed  Reason = "token_malformed"  // segments, base64, JSON, claim types
	ReasonAlgNotAllowed   Reason = "alg_not_allowed"  // none, HMAC, anything not listed
	ReasonCritUnsupported Reason = "crit_unsupported" // a crit header parameter (RFC 7515 section 4.1.11)
	ReasonTypNotAllowed   Reason = "typ_not_allowed"  // a typ other than JWT or at+jwt
	ReasonKIDMissing      Reason = "kid_missing"
	ReasonKIDUnknown      Reason = "kid_unknown"  // not in the JWK Set, even after a refresh if one was allowed
	ReasonKeyMismatch     Reason = "key_mismatch" // the kid's key does not fit the token's alg
	ReasonSignature       Reason = "signature_invalid"
	ReasonExpired         Reason = "expired"
	ReasonNotYetValid     Reason = "not_yet_valid"
	ReasonIssuedInFuture  Reason = "issued_in_future"
	ReasonClaimMissing    Reason = "claim_missing" // exp or iss absent
	ReasonIssuer          Reason = "issuer_mismatch"
	ReasonAudience        Reason = "audience_mismatch"
	ReasonNoSMARTScope    Reason = "no_smart_scope"
	ReasonPatientContext  Reason = "patient_context_missing" // only patient/ scopes, and no valid patient context
	ReasonInactive        Reason = "introspection_inactive"
	ReasonTokenType       Reason = "token_type_not_bearer" // not an access token: introspection's token_type, or a token_use other than access (Cognito's ID tokens)
	ReasonClaimsInvalid   Reason = "claims_invalid"        // any other claim check jwt/v5 reports

	// ReasonLaunchUnverified: only patient/ scopes in an EHR launch token
	// without the launch token hook's marker (SMART_EHR_LAUNCH=true).
	ReasonLaunchUnverified Reason = "launch_context_unverified"

	// ReasonClientNotAllowed: the token's client (client_id, cid, azp or
	// appid) is not in SMART_CLIENT_IDS.
	ReasonClientNotAllowed Reason = "client_not_allowed"
)

// Deny reasons about the authorization server or AWS.
const (
	ReasonKeysUnavailable     Reason = "keys_unavailable"           // no JWK Set could be had
	ReasonIntrospectionFailed Reason = "introspection_failed"       // endpoint error or bad answer
	ReasonSecretUnavailable   Reason = "secret_unavailable"         // client credentials could not be read
	ReasonTimeout             Reason = "timeout"                    // the request's network budget ran out
	ReasonRateLimited         Reason = "introspection_rate_limited" // this container's introspection calls are used up for now
)
