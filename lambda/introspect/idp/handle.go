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

	gen := h.cache.Generation()
	b := h.newBudget(ctx)
	claims, reason, detail := h.check.validate(&b, token)
	b.release()
	if reason != "" {
		d.reason, d.detail = reason, detail
		return h.deny(ev)
	}
	g, ok := claims.toGrant(h.cfg.ScopeVersion, now.Unix())
	if !ok {
		// Checked before the audience: no SMART scope is a property of the token
		// alone, so the reason is the same for every data store.
		d.reason = ReasonNoSMARTScope
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

// answer checks the one thing that depends on the request, the audience against
// this event's data store, and builds the answer.
func (h *Handler) answer(ev *Event, d *decision, g *grant, reason Reason) Response {
	d.clientID, d.userID = g.clientID, g.userID
	if !h.auds.accepts(g.aud, ev.DatastoreEndpoint) {
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
	// source location nobody reads.
	var attrs [11]slog.Attr
	n := copy(attrs[:], []slog.Attr{
		slog.String("decision", outcome),
		slog.String("reason", string(d.reason)),
		slog.Bool("cached", d.cached),
		slog.String("operation", clip(d.ev.OperationName)),
		slog.String("datastore", clip(d.ev.DatastoreEndpoint)),
		slog.Int64("duration_us", time.Since(start).Microseconds()),
	})
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
	if d.detail != nil {
		attrs[n] = slog.String("error", d.detail.Error())
		n++
	}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "authorization", 0)
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
