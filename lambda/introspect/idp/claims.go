package idp

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"
)

// tokenClaims is what we read from a JWT payload or an introspection response
// (RFC 7662 uses the same claim names). It implements jwt.Claims, so jwt/v5's
// validator checks exp, nbf, iat and iss as usual, but it is decoded without
// custom unmarshalers: on the first sight of a token, JSON decoding is the
// largest cost after the signature check, and this layout halves it. A zero time
// is treated as absent (a token from 1970 is expired or harmless either way).
type tokenClaims struct {
	Issuer    string  `json:"iss"`
	Subject   string  `json:"sub"`
	IssuedAt  float64 `json:"iat"`
	NotBefore float64 `json:"nbf"`
	Expires   float64 `json:"exp"`
	// RawAudience, RawScp and RawScope are a string or an array of strings;
	// normalize checks and converts them.
	RawAudience any `json:"aud"`
	// RawScope is the RFC 9068 "scope" string (an array is tolerated).
	RawScope any `json:"scope"`
	// RawScp is Okta's array of scopes (a string is tolerated).
	RawScp any    `json:"scp"`
	UID    string `json:"uid"`
	// The launch context is decoded as "any": a value that is not a string
	// is dropped from the answer (with its drop code), as a malformed string
	// is, instead of refusing the whole token.
	FHIRUser              any `json:"fhirUser"`
	Patient               any `json:"patient"`
	LaunchResponsePatient any `json:"launch_response_patient"`
	// LaunchMarker is the EHR launch token hook's marker
	// (launchclaims.Marker; a test keeps the tag and the constant equal).
	LaunchMarker any `json:"smart_launch_ctx"`

	// RawCID (Okta's "cid"), RawClientID (RFC 9068 and RFC 7662
	// "client_id"), RawAZP (OpenID Connect's "azp": Entra ID v2.0, Keycloak,
	// Auth0) and RawAppID (Entra ID v1.0's "appid") name the client the token
	// was issued to: logged, and matched against SMART_CLIENT_IDS when set
	// (rules.go), where a value of another type counts as no client.
	RawCID      any `json:"cid"`
	RawClientID any `json:"client_id"`
	RawAZP      any `json:"azp"`
	RawAppID    any `json:"appid"`
	// RawTokenUse is Cognito's "token_use": "access" or "id" (rules.go).
	RawTokenUse any `json:"token_use"`

	// Set by normalize.
	audience, scopes []string
	// Backing store for the jwt.Claims getters, so they do not allocate.
	exp, nbf, iat jwt.NumericDate
}

// errClaimType marks a claim of the wrong JSON type or an absurd time.
var errClaimType = errors.New("claim of the wrong type")

// maxTime bounds times in seconds (year 36812); beyond it a float does not
// convert to an int64 the same way on every CPU.
const maxTime = 1 << 40

// normalize checks the claims decoded as "any" and converts them. It runs before
// any use of the claims, in both modes.
func (c *tokenClaims) normalize() error {
	for _, t := range []float64{c.IssuedAt, c.NotBefore, c.Expires} {
		if t < 0 || t > maxTime {
			return errClaimType
		}
	}
	var ok bool
	if c.audience, ok = strings1(c.RawAudience, false); !ok {
		return errClaimType
	}
	raw := c.RawScp
	if raw == nil {
		raw = c.RawScope
	}
	if c.scopes, ok = strings1(raw, true); !ok {
		return errClaimType
	}
	return nil
}

// strings1 reads a JSON string (split on spaces if split is set) or an array
// of strings; JSON null or absence is an empty list.
//
// A scope string is split on U+0020 only, as RFC 6749 section 3.3 delimits
// scopes: any other white space (\t, \v, U+00A0, U+2028, ...) stays inside its
// piece, which then fails the scope-token syntax and is dropped. Splitting on
// all white space would turn "a\vsystem/*.cruds" into a second scope the
// authorization server never granted.
func strings1(v any, split bool) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		if split {
			return splitScopes(v), true
		}
		return []string{v}, true
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// date returns a pointer into the claims for a time, nil when absent, or
// errClaimType for a time outside [0, maxTime] (which jwt's validator reports).
func date(seconds float64, d *jwt.NumericDate) (*jwt.NumericDate, error) {
	switch {
	case seconds == 0:
		return nil, nil
	case seconds < 0 || seconds > maxTime:
		return nil, errClaimType
	}
	whole, frac := math.Modf(seconds)
	d.Time = time.Unix(int64(whole), int64(frac*1e9)).Truncate(jwt.TimePrecision)
	return d, nil
}

// The jwt.Claims methods.

// GetExpirationTime implements jwt.Claims.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return date(c.Expires, &c.exp) }

// GetNotBefore implements jwt.Claims.
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return date(c.NotBefore, &c.nbf) }

// GetIssuedAt implements jwt.Claims.
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) { return date(c.IssuedAt, &c.iat) }

// GetIssuer implements jwt.Claims.
func (c *tokenClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *tokenClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims; the audience is checked per request by
// audiences.accepts, not by jwt.
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error) { return c.audience, nil }

// grant is a validated token reduced to what the answer needs. It holds no
// request-specific decision: the audience is kept so each request can check it
// against its own datastoreEndpoint.
type grant struct {
	iss           string
	aud           []string
	iat, nbf, exp int64
	uid           string
	scope         string
	fhirUser      string
	patient       string
	dropped       dropSet // launch context left out, for the log

	// clientID and userID say who asked, for the decision log: the client
	// ("cid" or "client_id") and the Okta user id ("uid", never "sub", which
	// Okta sets to the user's login, often an e-mail address).
	clientID, userID string
}

// toGrant reduces validated claims for a data store of version v; reason is
// not empty when no SMART resource scope remains (ReasonPatientContext when
// patient/ scopes were all there was, but no patient context). now fills nbf
// when the token has neither nbf nor iat, because HealthLake requires one.
//
// The launch context is checked first: a fhirUser or patient claim of the wrong
// shape is dropped (see launchctx.go), and patient/ scopes count only when the
// token names its patient, by a valid patient claim or a fhirUser that
// references a Patient.
//
// With ehrLaunch, a token carrying the launch scope is an EHR launch: its
// patient context counts only if the token hook's marker is there, because
// Okta issues the token unchanged (fail-open) when the hook times out or
// fails, and a patient from elsewhere (a profile claim) is not the EHR's.
func (c *tokenClaims) toGrant(v smart.Version, now int64, ehrLaunch bool) (grant, Reason) {
	var drops dropSet
	fhirUser, ok := contextString(c.FHIRUser)
	if !ok {
		drops |= droppedFHIRUser
	}
	fhirUserType, fhirUserID := "", ""
	if fhirUser != "" {
		if fhirUserType, fhirUserID, ok = fhirUserRef(fhirUser); !ok {
			fhirUser = ""
			drops |= droppedFHIRUser
		}
	}
	patient, patientOK := contextString(c.Patient)
	if patient == "" && patientOK {
		patient, patientOK = contextString(c.LaunchResponsePatient)
	}
	if !patientOK || (patient != "" && !isFHIRID(patient)) {
		patient = ""
		drops |= droppedPatient
	}
	if patient != "" && fhirUserType == "Patient" && patient != fhirUserID {
		// Two patients: HealthLake's fine-grained authorization follows
		// fhirUser, so a patient claim naming someone else is not passed on.
		patient = ""
		drops |= droppedPatient
	}
	unverified := ehrLaunch && unverifiedLaunch(c)
	if unverified {
		patient, fhirUserType = "", ""
	}
	sel := smartscope.Granted(c.scopes, v, smartscope.LaunchContext{Patient: patient != "" || fhirUserType == "Patient"})
	if sel.PatientDropped {
		drops |= droppedPatientScopes
		if unverified {
			drops |= droppedLaunchUnverified
		}
	}
	g := grant{dropped: drops}
	if !sel.Resource {
		if sel.PatientDropped && unverified {
			return g, ReasonLaunchUnverified
		}
		if sel.PatientDropped {
			return g, ReasonPatientContext
		}
		return g, ReasonNoSMARTScope
	}
	g.iss, g.aud, g.uid, g.scope, g.fhirUser, g.patient = c.Issuer, c.audience, c.UID, sel.Scope, fhirUser, patient
	g.clientID, g.userID = c.clientID(), c.UID
	if g.uid == "" {
		g.uid = c.Subject
	}
	g.exp, g.iat, g.nbf = int64(c.Expires), int64(c.IssuedAt), int64(c.NotBefore)
	switch {
	case g.nbf != 0:
	case g.iat != 0:
		g.nbf = g.iat
	default:
		g.nbf = now
	}
	return g, ""
}

// clientID returns the client the token was issued to, "" when not named:
// client_id, else cid, azp or appid (tokenshape.Client); a claim of another
// type counts as absent.
func (c *tokenClaims) clientID() string {
	str := func(v any) string { s, _ := v.(string); return s }
	return tokenshape.Client(str(c.RawClientID), str(c.RawCID), str(c.RawAZP), str(c.RawAppID))
}

// audiences is the configured extra audiences, normalised once.
type audiences []string

func newAudiences(extra []string) audiences {
	out := make(audiences, len(extra))
	for i, a := range extra {
		out[i] = strings.TrimSuffix(a, "/")
	}
	return out
}

// accepts reports whether a token audience list contains the request's data
// store endpoint or a configured audience. One trailing slash is ignored on both
// sides because Okta audiences are often configured without it while HealthLake's
// endpoint always has it.
func (extra audiences) accepts(tokenAud []string, endpoint string) bool {
	endpoint = strings.TrimSuffix(endpoint, "/")
	for _, a := range tokenAud {
		a = strings.TrimSuffix(a, "/")
		if a == "" {
			continue
		}
		if a == endpoint {
			return true
		}
		for _, e := range extra {
			if a == e {
				return true
			}
		}
	}
	return false
}

// splitScopes splits a scope string on spaces, skipping empty pieces.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
}

// contextString reads a launch-context claim: absent or a string is ok; any
// other JSON type is not (the claim is then dropped, not the token).
func contextString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}
