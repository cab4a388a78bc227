package launchflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// apiGatewayCaller reads the principal API Gateway's IAM authorization
// verified (the REST API's requestContext.identity.userArn). With IAM
// authorization off the field is empty and every launch is refused, so a
// mis-deployed API cannot accept unsigned calls.
func apiGatewayCaller(r *http.Request) (string, bool) {
	rc, ok := core.GetAPIGatewayContextFromContext(r.Context())
	if !ok || rc.Identity.UserArn == "" {
		return "", false
	}
	return rc.Identity.UserArn, true
}

// fhirID is FHIR R4's id datatype: [A-Za-z0-9\-\.]{1,64}.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// fhirReference is a relative literal reference Type/id (FHIR R4 References,
// "Literal references").
var fhirReference = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$`)

// maxLaunchBody bounds what an EHR may store per launch.
const maxLaunchBody = 16 << 10

// LaunchResponse is POST /launch's answer.
type LaunchResponse struct {
	// Launch is the opaque launch id the EHR passes to the app.
	Launch string `json:"launch"`
	// ExpiresIn is the id's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
}

func (s *Server) launch(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.opts.Caller(r)
	if !ok || !s.principals.allow(caller) {
		s.refuse(r, "launch", "caller not an allowed EHR principal")
		jsonError(w, http.StatusForbidden, "access_denied", "the caller may not register launches")
		return
	}
	var lc launchstore.LaunchContext
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLaunchBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lc); err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_request", "the body is not a launch context: "+err.Error())
		return
	}
	if err := s.checkLaunch(lc); err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, err := s.newID()
	if err != nil {
		s.opts.Logger.Error("launch", "error", err.Error())
		jsonError(w, http.StatusInternalServerError, "server_error", "no launch id could be made")
		return
	}
	if err := s.store.PutLaunch(r.Context(), id, lc, s.opts.Now().Add(s.cfg.LaunchLifetime)); err != nil {
		s.opts.Logger.Error("launch", "error", err.Error())
		jsonError(w, http.StatusInternalServerError, "server_error", "the launch could not be stored")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, LaunchResponse{Launch: id, ExpiresIn: int(s.cfg.LaunchLifetime.Seconds())})
}

// checkLaunch validates a context before it is stored: the app must be one the
// proxy serves and the aud this data store, so a launch can only ever resolve
// for that app against that server.
func (s *Server) checkLaunch(lc launchstore.LaunchContext) error {
	if _, ok := s.cfg.Clients[lc.ClientID]; !ok {
		return fmt.Errorf("client_id %q is not an app this server launches", lc.ClientID)
	}
	if !sameAudience(lc.Aud, s.cfg.FHIRAudience) {
		return errors.New("aud is not this FHIR server's endpoint")
	}
	if !fhirID.MatchString(lc.Patient) {
		return errors.New("patient must be a FHIR resource id")
	}
	if lc.Encounter != "" && !fhirID.MatchString(lc.Encounter) {
		return errors.New("encounter must be a FHIR resource id")
	}
	if lc.User != "" && !fhirReference.MatchString(lc.User) {
		return errors.New("user must be a relative FHIR reference such as Practitioner/123")
	}
	if lc.SmartStyleURL != "" {
		if httpsurl.Check(lc.SmartStyleURL) != nil {
			return errors.New("smart_style_url must be an absolute https URL without user info or fragment")
		}
	}
	if len(lc.FHIRContext) > 20 {
		return errors.New("fhirContext has more than 20 entries")
	}
	for i, item := range lc.FHIRContext {
		if item["reference"] == nil && item["canonical"] == nil && item["identifier"] == nil {
			return fmt.Errorf("fhirContext[%d] needs a reference, canonical or identifier", i)
		}
	}
	return nil
}

// sameAudience compares FHIR base URLs, ignoring a trailing slash (HealthLake
// shows the endpoint with one, SMART apps often send it without).
func sameAudience(a, b string) bool {
	return a != "" && strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
