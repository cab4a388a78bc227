package launchflow

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// HookEventType is the eventType of Okta's token inline hook.
const HookEventType = "com.okta.oauth2.tokens.transform"

// HookRequest is the part of Okta's token inline hook request the flow reads
// (Okta management API, "Create a token inline hook" webhook; field names as in
// okta-management-openapi-spec's TokenPayLoad and TokenProtocolRequest schemas,
// dist/current/management-minimal.yaml).
type HookRequest struct {
	EventType string   `json:"eventType"`
	Data      HookData `json:"data"`
}

// HookData is the request's data object.
type HookData struct {
	Context struct {
		Protocol HookProtocol `json:"protocol"`
	} `json:"context"`
	Access struct {
		Claims map[string]any `json:"claims"`
	} `json:"access"`
	// RefreshToken is the refresh token being issued, when Okta issues one.
	// Okta sends its id at code issuance too ("the refresh token ID that you
	// can store on the first access token request ... This allows you to
	// connect the two requests": Okta's token inline hook reference, and the
	// 2023.06.0 release note OKTA-576905), so the hook binds it there as well
	// as by state; the flow does not depend on it being sent.
	RefreshToken *HookToken `json:"refresh_token,omitempty"`
}

// HookProtocol is data.context.protocol (the spec's TokenPayLoad schema).
type HookProtocol struct {
	// Request is the request Okta is answering: at code issuance the
	// /authorize request (state, client_id, scope, redirect_uri, but no
	// custom parameter); on a refresh the /token request.
	Request HookProtocolRequest `json:"request"`
	// Client is the client the token is for.
	Client struct {
		ID string `json:"id"`
	} `json:"client"`
	// OriginalGrant is present on a refresh: the original authorization
	// request and the refresh token presented. The spec spells the property
	// OriginalGrant (encoding/json matches names case-insensitively).
	OriginalGrant *HookOriginalGrant `json:"OriginalGrant,omitempty"`
}

// HookOriginalGrant is data.context.protocol.OriginalGrant. The spec names the
// original authorization request "authorization" since its 2026.03.0 release
// and "request" in every earlier one (dist/<version>/management-minimal.yaml,
// TokenPayLoad); the hook reads either.
type HookOriginalGrant struct {
	Authorization HookProtocolRequest `json:"authorization"`
	Request       HookProtocolRequest `json:"request"`
	RefreshToken  *HookToken          `json:"refresh_token,omitempty"`
}

// authorization is the original authorization request, under either name.
func (g *HookOriginalGrant) authorization() HookProtocolRequest {
	if g.Authorization != (HookProtocolRequest{}) {
		return g.Authorization
	}
	return g.Request
}

// clientID is the client the token is for: data.context.protocol.client.id,
// else the request's client_id. Both present and different is a fault.
func (p *HookProtocol) clientID() (string, bool) {
	c, r := p.Client.ID, p.Request.ClientID
	switch {
	case c != "" && r != "" && c != r:
		return "", false
	case c != "":
		return c, true
	}
	return r, r != ""
}

// HookProtocolRequest is data.context.protocol.request (and the original
// grant's authorization): the spec's TokenProtocolRequest.
type HookProtocolRequest struct {
	ClientID    string `json:"client_id"`
	State       string `json:"state"`
	RedirectURI string `json:"redirect_uri"`
	Scope       string `json:"scope"`
}

// HookToken identifies a token by jti.
type HookToken struct {
	JTI string `json:"jti"`
}

// HookResponse is the hook's answer: commands, or an error that makes Okta fail
// the request ("error" object: Okta's token inline hook reference, "Response
// objects that you send": returning an error object stops the token from being
// issued).
type HookResponse struct {
	Commands []HookCommand `json:"commands,omitempty"`
	Error    *HookError    `json:"error,omitempty"`
}

// HookCommand is one command; the flow only sends com.okta.access.patch.
type HookCommand struct {
	Type  string    `json:"type"`
	Value []PatchOp `json:"value"`
}

// PatchOp is a JSON Patch (RFC 6902) operation on the access token.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// HookError is the error object.
type HookError struct {
	ErrorSummary string `json:"errorSummary"`
}

// maxHookBody bounds the hook request (Okta's payloads are a few kB).
const maxHookBody = 256 << 10

// hook is Okta's token inline hook. Every fault answers an error object with
// status 200: a non-200, a timeout or an unreadable answer would make Okta issue
// the token unchanged (fail-open), an error object makes it fail the request.
//
// Okta calls it at code issuance with the proxy's transaction id as state,
// once: "The token inline hook isn't retried" (Okta's createTokenInlineHook
// reference, "Timeout behavior", since 2026.05.1). So a second call for a
// transaction whose hook already answered is a replay and fails the request.
// The transaction's hook step is recorded (MarkHookOK) only once the
// commands are built and the refresh binding stored, and only when that work
// took less than Options.HookBudget, so that the answer most likely reaches
// Okta in time; the callback hands over a launch's code only with that record.
// This cannot close the fail-open case completely: an answer sent in time may
// still reach Okta late (the network, or Lambda's cold start before the handler
// runs), and Okta then issues the code without the context. The validator's
// marker rule is the backstop: a token with the launch scope but without the
// marker claim has no patient context (launch_context_unverified).
func (s *Server) hook(w http.ResponseWriter, r *http.Request) {
	if !s.hookAuthentic(r) {
		// Not Okta: nothing to fail open, so a plain 401.
		s.refuse(r, "hook", "bad or missing hook credentials")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	resp, reason := s.hookCommands(r)
	w.Header().Set("Cache-Control", "no-store")
	if reason != "" {
		s.refuse(r, "hook", reason)
		writeJSON(w, http.StatusOK, HookResponse{Error: &HookError{ErrorSummary: "launch context unavailable"}})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// hookAuthentic compares the Authorization header with the secret in constant
// time. Both sides are hashed (the secret once, by New) so that neither the
// length of the secret nor a prefix match shows in the timing.
func (s *Server) hookAuthentic(r *http.Request) bool {
	got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return subtle.ConstantTimeCompare(got[:], s.hookSecretSum[:]) == 1
}

// hookCommands builds the answer, or says why it cannot (never with a token or
// context value in the reason).
func (s *Server) hookCommands(r *http.Request) (HookResponse, string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.HookBudget)
	defer cancel()
	var in HookRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxHookBody)).Decode(&in); err != nil {
		return HookResponse{}, "the hook request is not JSON"
	}
	if in.EventType != HookEventType {
		return HookResponse{}, "unexpected eventType"
	}
	proto := &in.Data.Context.Protocol
	if proto.OriginalGrant != nil {
		return s.hookRefresh(ctx, &in)
	}
	client, ok := proto.clientID()
	if !ok {
		return HookResponse{}, "the hook request names no client, or two"
	}
	req := proto.Request
	if req.RedirectURI != s.cfg.Callback() {
		return HookResponse{}, "the authorization request did not come through the proxy"
	}
	tx, err := s.store.GetTransaction(ctx, req.State)
	if errors.Is(err, launchstore.ErrNotFound) {
		return HookResponse{}, "unknown or expired transaction"
	}
	if err != nil {
		s.opts.Logger.Error("hook", "error", err.Error())
		return HookResponse{}, "the transaction could not be read"
	}
	if tx.CallbackDone {
		return HookResponse{}, "the transaction is already complete"
	}
	if tx.HookOK {
		// Okta does not retry the token hook: a second call with the same
		// state replays an authorization request Okta's logs showed.
		return HookResponse{}, "a repeated hook call for a transaction"
	}
	if tx.ClientID != client {
		return HookResponse{}, "the transaction belongs to another client"
	}
	lc := tx.Launch
	if tx.Picker {
		// A standalone launch through the patient picker: the picked
		// patient goes in like an EHR's context, for clinicians only.
		var reason string
		if lc, reason = s.pickedContext(tx, in.Data.Access.Claims); reason != "" {
			return HookResponse{}, reason
		}
	}
	resp, reason := contextCommands(lc, in.Data.Access.Claims)
	if reason != "" {
		return HookResponse{}, reason
	}
	if lc != nil {
		// Keyed on the transaction id: Okta sends it back on every refresh as
		// the original grant's state.
		b := launchstore.RefreshBinding{ClientID: tx.ClientID, Launch: lc}
		if err := s.store.PutGrant(ctx, req.State, b, s.opts.Now().Add(s.cfg.RefreshLifetime)); err != nil {
			s.opts.Logger.Error("hook", "error", err.Error())
			return HookResponse{}, "the grant could not be bound for refreshes"
		}
		// And by the id of the refresh token being issued, Okta's documented
		// link between the first request and its refreshes.
		if rt := in.Data.RefreshToken; rt != nil && rt.JTI != "" {
			if err := s.store.PutRefresh(ctx, rt.JTI, b, s.opts.Now().Add(s.cfg.RefreshLifetime)); err != nil {
				s.opts.Logger.Error("hook", "error", err.Error())
				return HookResponse{}, "the refresh token could not be bound"
			}
		}
	}
	if time.Since(start) > s.opts.HookBudget {
		// Okta has most likely given up on this call and issues the code
		// unchanged: do not vouch for that code.
		return HookResponse{}, "the hook ran past its time budget"
	}
	if err := s.store.MarkHookOK(ctx, req.State); err != nil {
		if !errors.Is(err, launchstore.ErrNotFound) {
			s.opts.Logger.Error("hook", "error", err.Error())
		}
		return HookResponse{}, "the hook's step could not be recorded"
	}
	return resp, ""
}

// hookRefresh re-adds the context of the grant a refresh token belongs to, and
// binds the rotated refresh token, if Okta issued one. The grant is found by
// the original authorization's state (the proxy's transaction id), else by
// the presented refresh token's jti (bound at an earlier rotation). A grant
// with neither binding that was not EHR-launched (no launch scope) passes
// unchanged: standalone apps refresh through the same rule.
func (s *Server) hookRefresh(ctx context.Context, in *HookRequest) (HookResponse, string) {
	proto := &in.Data.Context.Protocol
	og := proto.OriginalGrant
	orig := og.authorization()
	client, ok := proto.clientID()
	if !ok {
		return HookResponse{}, "the hook request names no client, or two"
	}
	if orig.ClientID != "" && orig.ClientID != client {
		return HookResponse{}, "the refresh token belongs to another client"
	}
	var presented string
	if og.RefreshToken != nil {
		presented = og.RefreshToken.JTI
	}
	b, err := launchstore.RefreshBinding{}, launchstore.ErrNotFound
	if st := orig.State; st != "" {
		b, err = s.store.GetGrant(ctx, st)
	}
	if errors.Is(err, launchstore.ErrNotFound) && presented != "" {
		b, err = s.store.GetRefresh(ctx, presented)
	}
	if errors.Is(err, launchstore.ErrNotFound) {
		if launchScoped(orig.Scope, in.Data.Access.Claims) {
			return HookResponse{}, "an EHR-launched grant has no binding"
		}
		return HookResponse{}, ""
	}
	if err != nil {
		s.opts.Logger.Error("hook", "error", err.Error())
		return HookResponse{}, "the refresh binding could not be read"
	}
	if b.ClientID != client {
		return HookResponse{}, "the refresh token belongs to another client"
	}
	resp, reason := contextCommands(b.Launch, in.Data.Access.Claims)
	if reason != "" {
		return HookResponse{}, reason
	}
	if rt := in.Data.RefreshToken; rt != nil && rt.JTI != "" && rt.JTI != presented {
		if err := s.store.PutRefresh(ctx, rt.JTI, b, s.opts.Now().Add(s.cfg.RefreshLifetime)); err != nil {
			s.opts.Logger.Error("hook", "error", err.Error())
			return HookResponse{}, "the rotated refresh token could not be bound"
		}
	}
	return resp, ""
}

// launchScoped says whether a grant was EHR-launched: the authorize proxy
// requires the launch scope exactly when a launch parameter came, so it is in
// the original request's scope or in the access token's scp.
func launchScoped(scope string, claims map[string]any) bool {
	if slices.Contains(strings.Fields(scope), launchclaims.LaunchScope) {
		return true
	}
	scp, _ := claims["scp"].([]any)
	for _, v := range scp {
		if v == launchclaims.LaunchScope {
			return true
		}
	}
	return false
}

// contextCommands patches the launch context and the marker into the access
// token. A standalone transaction (no launch) gets no commands: its patient,
// if any, comes from Okta's own claims.
func contextCommands(lc *launchstore.LaunchContext, claims map[string]any) (HookResponse, string) {
	if lc == nil {
		return HookResponse{}, ""
	}
	var ops []PatchOp
	add := func(name string, v any) {
		ops = append(ops, PatchOp{Op: "add", Path: "/claims/" + name, Value: v})
	}
	add(launchclaims.Patient, lc.Patient)
	if lc.Encounter != "" {
		add(launchclaims.Encounter, lc.Encounter)
	}
	if len(lc.FHIRContext) > 0 {
		add(launchclaims.FHIRContext, lc.FHIRContext)
	}
	add(launchclaims.NeedPatientBanner, lc.NeedPatientBanner)
	if lc.SmartStyleURL != "" {
		add(launchclaims.SmartStyleURL, lc.SmartStyleURL)
	}
	if lc.User != "" {
		// The EHR's user must be the one who signed in at Okta, and only
		// Okta's own fhirUser claim (from the signed-in user's profile) can
		// show who that is. The launch's user is never added: nothing ties
		// whoever signed in at Okta to the EHR's user, and a token must not
		// carry one identity's grant under another's fhirUser.
		have, _ := claims[launchclaims.FHIRUser].(string)
		if have == "" {
			return HookResponse{}, "the launch names a user but the signed-in user has no fhirUser"
		}
		if !sameUser(have, lc.User) {
			return HookResponse{}, "the EHR's user is not the signed-in user"
		}
	}
	add(launchclaims.Marker, launchclaims.MarkerValue)
	return HookResponse{Commands: []HookCommand{{Type: "com.okta.access.patch", Value: ops}}}, ""
}

// sameUser compares a fhirUser claim (often an absolute URL) with the EHR's
// relative reference: equal, or the claim ends with "/" + the reference.
func sameUser(claim, ref string) bool {
	return claim == ref || (len(claim) > len(ref) && claim[len(claim)-len(ref)-1:] == "/"+ref)
}
