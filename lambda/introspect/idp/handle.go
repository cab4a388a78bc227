package idp

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokencache"
)

// Handle answers one HealthLake call. It never returns an error: HealthLake
// treats an error as an identity-provider failure, and a bad token is a normal
// "isAuthorized": "false" answer.
func (h *Handler) Handle(ctx context.Context, ev Event) (resp Response, _ error) {
	start := time.Now()
	d := decision{ev: &ev}
	defer func() {
		if p := recover(); p != nil {
			// A bug must not leave HealthLake without an answer, nor log the token.
			d.reason, d.allowed, d.detail = ReasonInternal, false, fmt.Errorf("panic: %T", p)
			resp = h.deny(&ev)
		}
		h.logDecision(ctx, &d, start)
	}()
	return h.decide(ctx, &ev, &d), nil
}

// decision is what gets logged about a request.
type decision struct {
	ev      *Event
	allowed bool
	reason  Reason
	cached  bool
	hashed  bool
	key     tokencache.Key
	dropped dropSet
	detail  error // safe to log: about our set-up, never the token
	// Who asked, set once the token is known genuine (validated now or
	// earlier): the client id and the Okta user id.
	clientID, userID string
}

func (h *Handler) decide(ctx context.Context, ev *Event, d *decision) Response {
	if h.cfgErr != nil {
		d.reason = ReasonConfigInvalid
		return h.deny(ev)
	}
	token := bearer(ev.BearerToken)
	switch {
	case token == "":
		d.reason = ReasonTokenMissing
		return h.deny(ev)
	case len(token) > MaxTokenBytes:
		d.reason = ReasonTokenTooLarge
		return h.deny(ev)
	case ev.DatastoreEndpoint == "":
		d.reason = ReasonEventInvalid
		return h.deny(ev)
	}
	d.key, d.hashed = tokencache.KeyOf(token), true
	now := h.now()

	if !h.noCache {
		if g, ok := h.cache.Get(d.key, now); ok {
			d.cached = true
			return h.answer(ev, d, &g, ReasonCached)
		}
	}
	if h.refusals != nil {
		if r, ok := h.refusals.Get(d.key, now); ok {
			d.cached, d.reason = true, r
			return h.deny(ev)
		}
	}

	gen := h.cache.Generation()
	b := h.newBudget(ctx)
	claims, reason, detail := h.check.validate(&b, token)
	b.release()
	if reason != "" {
		d.reason, d.detail = reason, detail
		h.rememberRefusal(d.key, reason, now)
		return h.deny(ev)
	}
	if reason := applyRules(&h.cfg.Rules, &claims); reason != "" {
		d.reason = reason
		h.rememberRefusal(d.key, reason, now)
		d.clientID, d.userID = claims.clientID(), claims.UID
		return h.deny(ev)
	}
	g, reason := claims.toGrant(h.cfg.SmartVersion, now.Unix(), h.cfg.EHRLaunch)
	if reason != "" {
		// Checked before the audience: no SMART scope is a property of the token
		// alone, so the reason is the same for every data store.
		d.reason, d.dropped = reason, g.dropped
		h.rememberRefusal(d.key, reason, now)
		d.clientID, d.userID = claims.clientID(), claims.UID
		return h.deny(ev)
	}
	if !h.noCache {
		expires := time.Unix(g.exp, 0) // never past the token's own expiry
		if h.cacheTTL > 0 && now.Add(h.cacheTTL).Before(expires) {
			expires = now.Add(h.cacheTTL)
		}
		h.cache.Put(gen, d.key, g, now, expires)
	}
	return h.answer(ev, d, &g, ReasonValid)
}

// definiteRefusals are the refusals the authorization server's answer (or the
// token itself) settles for good: asking again would get the same answer.
// Failures (timeouts, endpoint errors, the local rate limit) are not, and
// neither is a token not valid yet.
var definiteRefusals = map[Reason]bool{
	ReasonInactive: true, ReasonTokenType: true, ReasonIssuer: true, ReasonAudience: true,
	ReasonExpired: true, ReasonClaimMissing: true, ReasonTokenMalformed: true,
	ReasonNoSMARTScope: true, ReasonPatientContext: true, ReasonLaunchUnverified: true, ReasonClientNotAllowed: true,
}

// rememberRefusal caches a definite refusal briefly, in introspection mode.
func (h *Handler) rememberRefusal(k tokencache.Key, reason Reason, now time.Time) {
	if h.refusals != nil && definiteRefusals[reason] {
		h.refusals.Put(h.refusals.Generation(), k, reason, now, now.Add(h.refusalTTL))
	}
}

// answer checks the one thing that depends on the request, the audience against
// this event's data store, and builds the answer.
func (h *Handler) answer(ev *Event, d *decision, g *grant, reason Reason) Response {
	d.dropped = g.dropped
	d.clientID, d.userID = g.clientID, g.userID
	if !h.auds.accepts(g.aud, ev.DatastoreEndpoint) && !h.cfg.Rules.MissingAudienceAccepted(g.aud) {
		d.reason = ReasonAudience
		return h.deny(ev)
	}
	d.allowed, d.reason = true, reason
	return Response{
		AuthPayload: AuthPayload{
			Iss:          g.iss,
			Aud:          ev.DatastoreEndpoint,
			Iat:          g.iat,
			Nbf:          g.nbf,
			Exp:          g.exp,
			IsAuthorized: true,
			Uid:          g.uid,
			Scope:        g.scope,
			FhirUser:     g.fhirUser,
			Patient:      g.patient,
		},
		IAMRoleARN: h.cfg.RoleARN,
	}
}

// deny is the well-formed refusal: every field HealthLake requires is present,
// nothing is granted, and the validity window is already over.
func (h *Handler) deny(ev *Event) Response {
	now := h.now().Unix()
	return Response{
		AuthPayload: AuthPayload{
			Iss: h.cfg.Issuer,
			Aud: ev.DatastoreEndpoint,
			Nbf: now,
			Exp: now,
		},
		IAMRoleARN: h.cfg.RoleARN,
	}
}

// maxLogField bounds event strings copied into logs.
const maxLogField = 256

func (h *Handler) logDecision(ctx context.Context, d *decision, start time.Time) {
	handler := h.log.Handler()
	if !handler.Enabled(ctx, slog.LevelInfo) {
		return
	}
	outcome := "deny"
	if d.allowed {
		outcome = "allow"
	}
	// The record is built here rather than with Logger.LogAttrs, which looks up
	// the caller's program counter on every call: a cost on every request for a
	// source location nobody reads. The attributes are written in place and
	// one clock reading serves the duration and the record.
	end := time.Now()
	var attrs [12]slog.Attr
	attrs[0] = slog.String("decision", outcome)
	attrs[1] = slog.String("reason", string(d.reason))
	attrs[2] = slog.Bool("cached", d.cached)
	attrs[3] = slog.String("operation", clip(d.ev.OperationName))
	attrs[4] = slog.String("datastore", clip(d.ev.DatastoreEndpoint))
	attrs[5] = slog.Int64("duration_us", end.Sub(start).Microseconds())
	n := 6
	if d.hashed {
		// A hash prefix correlates a token's requests without revealing it.
		attrs[n] = slog.String("token_sha256", hex.EncodeToString(d.key[:6]))
		n++
	}
	if id, ok := loggableID(d.clientID); ok {
		attrs[n] = slog.String("client_id", id)
		n++
	}
	if id, ok := loggableID(d.userID); ok {
		attrs[n] = slog.String("user_id", id)
		n++
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs[n] = slog.String("request_id", lc.AwsRequestID)
		n++
	}
	if d.dropped != 0 {
		attrs[n] = slog.String("dropped", d.dropped.String())
		n++
	}
	if d.detail != nil {
		attrs[n] = slog.String("error", d.detail.Error())
		n++
	}
	r := slog.NewRecord(end, slog.LevelInfo, "authorization", 0)
	r.AddAttrs(attrs[:n]...)
	_ = handler.Handle(ctx, r)
}

// maxLogID bounds a logged client or user id; Okta's are 20 characters.
const maxLogID = 128

// loggableID reports whether a client or user id may be logged: an
// identifier, not an e-mail address (an authorization server that puts the
// login in "uid" or "cid") nor anything with spaces or control characters
// (a name, or an attempt to forge log lines).
func loggableID(s string) (string, bool) {
	if s == "" || len(s) > maxLogID {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '@' || c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return s, true
}

func clip(s string) string {
	if len(s) > maxLogField {
		return s[:maxLogField]
	}
	return s
}
