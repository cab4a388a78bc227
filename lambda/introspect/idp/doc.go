// Package idp is the token-validation ("identity provider") Lambda that Amazon
// HealthLake calls for every FHIR request to a SMART on FHIR data store: it reads
// HealthLake's event, validates the bearer token issued by the authorization
// server (Okta), and answers with the authPayload HealthLake expects.
//
// # Contract
//
// The event is {"datastoreEndpoint", "bearerToken", "operationName"}; unknown
// fields are ignored and a "Bearer " prefix on the token is stripped. The answer is
//
//	{"authPayload": {"iss", "aud", "iat", "nbf", "exp", "isAuthorized", "uid",
//	                 "scope", "fhirUser", "patient"}, "iamRoleARN"}
//
// where aud is the event's datastoreEndpoint byte for byte, scope is one
// space-separated string, nbf falls back to iat, uid is the token's uid claim or
// else sub, fhirUser and patient (from patient or launch_response_patient) are
// present only when the token carries them in a valid shape (see Launch
// context). isAuthorized is the JSON string
// "true" or "false", as in HealthLake's documented example. A bad, unknown or
// unverifiable token is never an error: it gets a well-formed answer with
// isAuthorized "false", scope "", nbf = exp = now. The handler never returns an
// error, because HealthLake treats one as an identity-provider failure.
//
// # Configuration (environment variables)
//
// The names, and their parser, are package contract/validatorenv's.
//
//   - SMART_ISSUER (required): the exact "iss" tokens must carry. https, or http
//     on a loopback host (tests only).
//   - SMART_JWKS_URL (optional): the JWK Set URL. Default: jwks_uri from the
//     issuer's /.well-known/oauth-authorization-server, else from its
//     /.well-known/openid-configuration (whose "issuer" must equal SMART_ISSUER).
//     Same URL rules as SMART_ISSUER.
//   - SMART_AUDIENCES (optional, comma-separated): token audiences accepted in
//     addition to the event's datastoreEndpoint, such as Okta's "api://default".
//     Audiences compare equal with or without one trailing slash. Default: only
//     the datastoreEndpoint.
//   - SMART_VALIDATION (optional): "jwt" (default; local signature check against
//     the JWK Set) or "introspection" (RFC 7662 call per new token).
//   - SMART_INTROSPECTION_URL (optional): the introspection endpoint. Default:
//     introspection_endpoint from discovery. Used in introspection mode only.
//   - SMART_INTROSPECTION_SECRET_ARN (required in introspection mode): ARN of a
//     Secrets Manager secret holding {"client_id": "...", "client_secret": "..."},
//     read at start (retried by a request if that failed) and read again when
//     the introspection endpoint rejects the credentials with HTTP 401 or 403,
//     as it does once the Okta client has been re-created with a new secret: at
//     most once per 5 s however many requests are rejected, the rejected request
//     then retried once with the new credentials within its budget. Never per
//     request otherwise.
//   - SMART_INTROSPECTION_CACHE_SECONDS (optional, 0-300, default 60): how long an
//     active introspection result is reused; never past the token's exp. 0
//     disables the cache.
//   - SMART_INTROSPECTION_CALLS_PER_SECOND (optional, 1-1000, default 10): the
//     introspection calls one container makes, as a token bucket of as many
//     calls refilled at that rate; over it, new tokens are refused locally
//     (introspection_rate_limited) while cached ones are still served.
//   - HEALTHLAKE_ROLE_ARN (required): the IAM role ARN returned as iamRoleARN.
//   - SMART_LEEWAY_SECONDS (optional, 0-300, default 60): clock skew allowed on
//     exp, nbf and iat.
//   - SMART_VERSION (optional): "v2" (default) for a SMART_ON_FHIR data
//     store, "v1" for SMART_ON_FHIR_V1, which gets v2 scopes translated to v1
//     (see package smartscope). Its old name SMART_SCOPE_VERSION is read
//     when it is absent; both set and different is an error.
//   - SMART_SCOPE_CLAIM, SMART_CLIENT_IDS, SMART_AUDIENCE_RULE, SMART_SCOPE_MAP
//     (optional): the token rules for authorization servers other than the
//     provisioned Okta one (package tokenshape; applied by rules.go): the scope
//     claim, a client allow-list, whether a listed client stands in for a
//     missing aud (JWT mode only: refused with SMART_VALIDATION=introspection,
//     where an answer without aud is always refused), and scope prefix
//     rewrites.
//   - SMART_EHR_LAUNCH (optional, "true" or "false", default false): EHR launch
//     (lambda/ehrlaunch) is deployed; a token with the launch scope then has
//     patient context only with the launch token hook's marker claim
//     (launchclaims.Marker), else its patient/ scopes are dropped
//     (launch_context_unverified).
//
// Missing or invalid configuration is logged once, at start, as one line naming
// the variable; every request is then answered unauthorized, with iamRoleARN
// when HEALTHLAKE_ROLE_ARN itself is valid (HealthLake requires the field).
//
// # Validation
//
// jwt mode: the token must be at most 16 KiB, three canonical base64url segments,
// signed with RS256, RS384, RS512, ES256, ES384 or PS256 (never none or HMAC) by
// the key its "kid" names in the JWK Set; that key's kty (and curve, and at least
// 2048 bits for RSA) must fit the algorithm, and its alg and use, when present,
// must be the token's alg and "sig". The JOSE header must not have crit (RFC 7515
// section 4.1.11: no extension is understood), and its typ must be absent (Okta
// sends none), JWT or at+jwt (RFC 9068), in any case and with or without
// "application/": another explicit type (dpop+jwt, logout+jwt, ...) is another
// kind of JWT (RFC 8725 section 3.11). Claim names are case-sensitive (RFC
// 7519): "EXP" is not "exp" and never overrides it. iss must equal SMART_ISSUER
// (checked before the key lookup, so another issuer's token cannot spend the JWK
// Set refresh), aud (string or array) must contain an accepted audience, exp is
// required and in the future, nbf and iat not in the future, all within the
// leeway; at least one SMART resource scope must remain after scope selection.
// Okta's "scp" array is used when present, else the "scope" string; a scope
// outside RFC 6749's scope-token syntax (white space of any kind, control
// characters) is no scope (see package smartscope).
//
// introspection mode: the token is POSTed to the introspection endpoint with HTTP
// Basic client credentials; "active": false, a token_type other than Bearer (or
// access_token; an absent one included), an answer without aud, or any failure
// means unauthorized; the response's claims get the same checks. A JWT-shaped
// token whose unverified iss is not SMART_ISSUER is refused without a call.
// Definite refusals (inactive, not an access token, failing claims, no scope)
// are remembered by token hash for 10 s, bounded like the token cache, so a
// repeated bad token costs one call.
//
// # Launch context
//
// fhirUser is passed on only as a reference to a Patient, Practitioner,
// PractitionerRole, RelatedPerson or Person with a valid FHIR id, relative
// ("Practitioner/pr-1") or absolute https without userinfo, query, fragment or
// escapes; patient (or launch_response_patient) only as a FHIR id
// ([A-Za-z0-9\-.]{1,64}, not dots alone). A claim of another shape is left out
// and the log line's "dropped" says so (ContextDrop codes). patient/ scopes
// count only with a patient context, a valid patient claim or a fhirUser that
// references a Patient; without one they are dropped, and a token whose only
// resource scopes they were is refused (patient_context_missing): a
// patient-level grant without its patient must not become broader.
//
// # Keys, caching and time limits
//
// The JWK Set is fetched at start and again only when a token names an unknown
// kid, at most once per 30 s; keys already held keep working while the endpoint
// is down, and when it answers without a usable key. A key that does not parse
// is skipped; the others are used. Validated tokens are cached by SHA-256 hash (never the token itself),
// up to 10,000 entries, each until the token's exp (introspection results: at
// most the cache TTL); a key-set change clears the cache. The audience check
// against the event's datastoreEndpoint runs on every request, cached or not.
// Every network wait of a request shares a 500 ms budget (less if the Lambda
// deadline is nearer), so an answer always comes well inside HealthLake's 1 s.
//
// On a cold start without provisioned concurrency that second also covers the
// start-up, so the start-up set-up (discovery and the first JWK Set fetch, or
// discovery and the secret read, side by side) gets 600 ms, and a request that
// arrives less than 800 ms after the start-up began has its network waits end
// by then: the first answer comes within 800 ms of the process start whatever
// the authorization server does. A set-up that failed or timed out is retried
// by the next request (within its budget), then at most once per 5 s; meanwhile
// requests are answered at once, unauthorized (keys_unavailable,
// secret_unavailable or introspection_failed; timeout for a request whose own
// attempt ran out of time).
//
// # Logs
//
// One JSON line per request (log/slog) with decision, reason (a stable code, see
// Reason), cached, operation, datastore, a 12-hex-digit prefix of the token's
// SHA-256 for correlation, the duration, and dropped (ContextDrop codes) when
// part of the launch context was left out. Never the token, a secret, claim
// values, or a URL's query or userinfo.
package idp
