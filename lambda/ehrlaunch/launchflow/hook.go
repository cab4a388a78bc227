package launchflow

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// HookEventType is the eventType of Okta's token inline hook.
const HookEventType = "com.okta.oauth2.tokens.transform"

// HookRequest is the part of Okta's token inline hook request the flow reads
// (Okta management API, "Create a token inline hook" webhook; field names as in
// the Okta SDK models TokenPayLoadData, TokenProtocolRequest and
// TokenPayLoadDataContextAllOfProtocolOriginalGrant).
type HookRequest struct {
	EventType string   `json:"eventType"`
	Data      HookData `json:"data"`
}

// HookData is the request's data object.
type HookData struct {
	Context struct {
		Protocol struct {
			// Request is the /authorize request as Okta received it: it has
			// state, client_id, scope, redirect_uri, but no custom parameter.
			Request HookProtocolRequest `json:"request"`
			// OriginalGrant is present on a refresh: the original
			// authorization request and the refresh token presented.
			OriginalGrant *struct {
				Request      HookProtocolRequest `json:"request"`
				RefreshToken *HookToken          `json:"refresh_token,omitempty"`
			} `json:"originalGrant,omitempty"`
		} `json:"protocol"`
	} `json:"context"`
	Access struct {
		Claims map[string]any `json:"claims"`
	} `json:"access"`
	// RefreshToken is present when Okta issues a refresh token.
	RefreshToken *HookToken `json:"refresh_token,omitempty"`
}

// HookProtocolRequest is data.context.protocol.request.
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
// time. Both sides are hashed first so that neither the length of the secret
// nor a prefix match shows in the timing.
func (s *Server) hookAuthentic(r *http.Request) bool {
	got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	want := sha256.Sum256([]byte(s.opts.HookSecret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// hookCommands builds the answer, or says why it cannot (never with a token or
// context value in the reason).
func (s *Server) hookCommands(r *http.Request) (HookResponse, string) {
	var in HookRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxHookBody)).Decode(&in); err != nil {
		return HookResponse{}, "the hook request is not JSON"
	}
	if in.EventType != HookEventType {
		return HookResponse{}, "unexpected eventType"
	}
	if in.Data.Context.Protocol.OriginalGrant != nil {
		return s.hookRefresh(r, &in)
	}
	req := in.Data.Context.Protocol.Request
	if req.RedirectURI != s.cfg.Callback() {
		return HookResponse{}, "the authorization request did not come through the proxy"
	}
	tx, err := s.store.UseTransaction(r.Context(), req.State, launchstore.StepHook)
	if errors.Is(err, launchstore.ErrNotFound) {
		return HookResponse{}, "unknown, expired or reused transaction"
	}
	if err != nil {
		s.opts.Logger.Error("hook", "error", err.Error())
		return HookResponse{}, "the transaction could not be read"
	}
	if tx.ClientID != req.ClientID {
		return HookResponse{}, "the transaction belongs to another client"
	}
	resp, reason := contextCommands(tx.Launch, in.Data.Access.Claims)
	if reason != "" {
		return HookResponse{}, reason
	}
	if rt := in.Data.RefreshToken; rt != nil && rt.JTI != "" {
		b := launchstore.RefreshBinding{ClientID: tx.ClientID, Launch: tx.Launch}
		if err := s.store.PutRefresh(r.Context(), rt.JTI, b, s.opts.Now().Add(s.cfg.RefreshLifetime)); err != nil {
			s.opts.Logger.Error("hook", "error", err.Error())
			return HookResponse{}, "the refresh token could not be bound"
		}
	}
	return resp, ""
}

// hookRefresh re-adds the context of the grant a refresh token belongs to, and
// binds the rotated refresh token, if Okta issued one.
func (s *Server) hookRefresh(r *http.Request, in *HookRequest) (HookResponse, string) {
	og := in.Data.Context.Protocol.OriginalGrant
	if og.RefreshToken == nil || og.RefreshToken.JTI == "" {
		return HookResponse{}, "a refresh without the refresh token's jti"
	}
	b, err := s.store.GetRefresh(r.Context(), og.RefreshToken.JTI)
	if errors.Is(err, launchstore.ErrNotFound) {
		return HookResponse{}, "the refresh token has no binding"
	}
	if err != nil {
		s.opts.Logger.Error("hook", "error", err.Error())
		return HookResponse{}, "the refresh binding could not be read"
	}
	client := in.Data.Context.Protocol.Request.ClientID
	if client == "" {
		client = og.Request.ClientID
	}
	if b.ClientID != client {
		return HookResponse{}, "the refresh token belongs to another client"
	}
	resp, reason := contextCommands(b.Launch, in.Data.Access.Claims)
	if reason != "" {
		return HookResponse{}, reason
	}
	if rt := in.Data.RefreshToken; rt != nil && rt.JTI != "" && rt.JTI != og.RefreshToken.JTI {
		if err := s.store.PutRefresh(r.Context(), rt.JTI, b, s.opts.Now().Add(s.cfg.RefreshLifetime)); err != nil {
			s.opts.Logger.Error("hook", "error", err.Error())
			return HookResponse{}, "the rotated refresh token could not be bound"
		}
	}
	return resp, ""
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
