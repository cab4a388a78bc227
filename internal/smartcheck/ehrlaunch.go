package smartcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
)

// CheckEHRLaunch is the ehr-launch check's name; it runs only when asked.
const CheckEHRLaunch = "ehr-launch"

// EnvEHRClientSecret names the environment variable the command reads
// EHRLaunch.ClientSecret from, for a confidential --ehr-client-id.
const EnvEHRClientSecret = "SMARTCHECK_EHR_CLIENT_SECRET"

// EHRLaunch configures the ehr-launch check: it plays an EHR launch against
// the EHR launch API (lambda/ehrlaunch) as far as can be automated.
type EHRLaunch struct {
	// ClientID and RedirectURI are an app the API launches (one of its
	// EHRLAUNCH_CLIENTS) and one of its registered redirect URIs.
	ClientID, RedirectURI string
	// OtherClientID is another app the API launches: a launch registered for
	// it must be refused to ClientID. Empty: that refusal is not tried.
	OtherClientID string
	// ClientSecret, when set, authenticates ClientID at the token proxy with
	// client_secret_basic (a confidential app); empty: a public app, whose
	// code is redeemed with PKCE alone.
	ClientSecret string
	// Patient is the test context's patient id.
	Patient string
	// Scope is requested at the authorize proxy. Default: launch openid
	// fhirUser patient/Patient.rs patient/Observation.rs (.read on SMART v1).
	Scope string
	// Credentials sign POST /launch (SigV4, service execute-api); they must be
	// of one of the EHR roles.
	Credentials aws.CredentialsProvider
	// Region is the API's region, the signature's scope. Default: the one in
	// an execute-api host name.
	Region string
}

// executeAPIHost is API Gateway's default host name: {id}.execute-api.{region}.amazonaws.com.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// noRedirect is the check's client: it reads each redirect rather than
// following it, since the app's redirect URI is not smartcheck's to call.
func (r *run) noRedirect() *http.Client {
	c := *r.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// browser is noRedirect with a cookie jar of its own: the authorize proxy
// binds a sign-in to the browser that started it (a cookie its callback
// requires), so the requests of one launch go through one browser.
func (r *run) browser() *http.Client {
	c := r.noRedirect()
	c.Jar, _ = cookiejar.New(nil) // never fails: no options
	return c
}

// ehrLaunch plays the EHR launch: register a context, send the app to the
// authorize proxy, check the redirect to the issuer carries neither the
// patient nor the app's state, then that the launch is single use and bound
// to its app. When the authorization server signs the user in without a
// browser (the sandbox does), it goes on: code, token response with the
// context, FHIR search limited to the patient. Against Okta it stops at the
// sign-in page and says so.
func (r *run) ehrLaunch(ctx context.Context) (string, time.Duration, error) {
	e := r.cfg.EHRLaunch
	switch {
	case r.smart == nil:
		return "", 0, skip("no SMART configuration")
	case !slices.Contains(r.doc.Capabilities, "launch-ehr"):
		return "", 0, errors.New("the SMART configuration does not advertise launch-ehr: the stack runs no EHR launch (ehrLaunch.enabled in cdk.json) or its Metadata is stale")
	case r.cfg.EHRLaunchAPI == "":
		return "", 0, errors.New("no EHR launch API known: pass --stack (its EhrLaunchApiUrl output) or --ehr-launch-api")
	case e.ClientID == "" || e.RedirectURI == "" || e.Patient == "":
		return "", 0, errors.New("pass --ehr-client-id, --ehr-redirect-uri (an app the EHR launch API launches and its redirect URI) and --ehr-patient (the test context's patient id)")
	case e.Credentials == nil:
		return "", 0, errors.New("no AWS credentials to sign POST /launch with")
	}
	if e.Scope == "" {
		e.Scope = "launch openid fhirUser patient/Patient.rs patient/Observation.rs"
		if r.cfg.SmartVersion == smart.V1 || !slices.Contains(r.doc.Capabilities, "permission-v2") {
			e.Scope = "launch openid fhirUser patient/Patient.read patient/Observation.read"
		}
	}
	api := strings.TrimSuffix(r.cfg.EHRLaunchAPI, "/")
	authorize := r.doc.AuthorizationEndpoint
	if authorize != api+ehrProxyPath["authorization_endpoint"] {
		return "", 0, fmt.Errorf("the SMART configuration's authorization_endpoint %s is not the EHR launch API's %s: apps would bypass the proxy and get no launch context", authorize, api+ehrProxyPath["authorization_endpoint"])
	}
	var steps []string

	launch, err := r.registerLaunch(ctx, api, e.ClientID)
	if err != nil {
		return "", 0, err
	}
	steps = append(steps, "POST /launch (SigV4): 201")

	first, browser := newPKCE(), r.browser()
	up, err := r.authorizeLaunch(ctx, browser, authorize, launch, e.ClientID, first)
	if err != nil {
		return "", 0, err
	}
	if err := r.checkUpstream(up, api, first.state); err != nil {
		return "", 0, err
	}
	steps = append(steps, "authorize: redirected to the issuer without the patient id or the app's state")

	again := newPKCE()
	if err := r.refusedLaunch(ctx, authorize, launch, e.ClientID, again); err != nil {
		return "", 0, fmt.Errorf("the same launch a second time: %w: a launch id must be single use (the proxy must consume it atomically)", err)
	}
	steps = append(steps, "the launch used again: refused")

	if e.OtherClientID != "" {
		foreign, err := r.registerLaunch(ctx, api, e.OtherClientID)
		if err != nil {
			return "", 0, err
		}
		if err := r.refusedLaunch(ctx, authorize, foreign, e.ClientID, newPKCE()); err != nil {
			return "", 0, fmt.Errorf("a launch registered for %s, used by %s: %w: a launch must be bound to its app", e.OtherClientID, e.ClientID, err)
		}
		steps = append(steps, "a launch for "+e.OtherClientID+": refused")
	} else {
		steps = append(steps, "a launch for another app: not tried (no --ehr-other-client-id)")
	}

	if err := r.hookRefusesStrangers(ctx, api); err != nil {
		return "", 0, err
	}
	steps = append(steps, "POST /hook without the hook secret: refused")

	// The sign-in: a real authorization server shows a page here.
	code, signedIn, err := r.signIn(ctx, browser, up, api, e.RedirectURI, first.state)
	if err != nil {
		return "", 0, err
	}
	if !signedIn {
		// Not a pass: the token hook (attached? its secret? active?), the
		// token proxy and the FHIR access were never exercised.
		steps = append(steps, "stopped at the sign-in: "+up.Host+" asks a user to sign in, which smartcheck cannot do, so the token hook, the token response and the FHIR access are unverified; finish one launch in a browser")
		return "", 0, skip("%s", strings.Join(steps, "; "))
	}
	token, err := r.redeemLaunch(ctx, code, first)
	if err != nil {
		return "", 0, err
	}
	steps = append(steps, "signed in without a browser: token response with patient "+e.Patient)
	detail, err := r.patientOnly(ctx, token)
	if s := (errSkip{}); errors.As(err, &s) {
		return "", 0, skip("%s; %s", strings.Join(steps, "; "), s.why)
	}
	if err != nil {
		return "", 0, err
	}
	steps = append(steps, detail)
	return strings.Join(steps, "; "), 0, nil
}

// pkce is one authorization request's secrets.
type pkce struct{ verifier, state string }

func newPKCE() pkce {
	return pkce{verifier: randhex.String(32), state: "smartcheck-" + randhex.String(8)}
}

func (p pkce) challenge() string {
	s := sha256.Sum256([]byte(p.verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// registerLaunch is the EHR's POST /launch, signed with SigV4.
func (r *run) registerLaunch(ctx context.Context, api, clientID string) (string, error) {
	e := r.cfg.EHRLaunch
	u := api + "/launch"
	body, _ := json.Marshal(map[string]any{"client_id": clientID, "aud": r.cfg.FHIREndpoint, "patient": e.Patient})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("building POST %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	creds, err := e.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the AWS credentials to sign POST /launch: %w", err)
	}
	region := e.Region
	if m := executeAPIHost.FindStringSubmatch(req.URL.Hostname()); m != nil {
		region = m[1]
	}
	if region == "" {
		return "", errors.New("no region to sign POST /launch for: pass --region")
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", region, r.cfg.Now()); err != nil {
		return "", fmt.Errorf("signing POST /launch: %w", err)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct {
		Launch      string `json:"launch"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(answer, &out)
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("POST %s: 403 %s: the caller is not one of the EHR roles (ehrLaunch.ehrRoleArns); run with credentials of such a role (AWS_PROFILE)", u, snippet(answer))
	case resp.StatusCode != http.StatusCreated:
		return "", fmt.Errorf("POST %s for client %s, patient %s: HTTP %d %s %s", u, clientID, e.Patient, resp.StatusCode, out.Error, out.Description)
	case len(out.Launch) < 43:
		return "", fmt.Errorf("POST %s answered a launch id of %d characters: it must carry 256 random bits", u, len(out.Launch))
	}
	return out.Launch, nil
}

// authorizeLaunch sends the app to the authorize proxy with the launch and
// returns where the proxy redirects it.
func (r *run) authorizeLaunch(ctx context.Context, browser *http.Client, authorize, launch, clientID string, p pkce) (*url.URL, error) {
	e := r.cfg.EHRLaunch
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {e.RedirectURI},
		"scope": {e.Scope}, "state": {p.state}, "aud": {strings.TrimSuffix(r.cfg.FHIREndpoint, "/")}, "launch": {launch},
		"code_challenge": {p.challenge()}, "code_challenge_method": {"S256"},
	}
	u := authorize + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("building the authorize request: %w", err)
	}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", authorize, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode < 300 || resp.StatusCode > 399 || err != nil {
		return nil, fmt.Errorf("GET %s: HTTP %d %s, not a redirect: check --ehr-client-id and --ehr-redirect-uri against the API's registered apps", authorize, resp.StatusCode, snippet(body))
	}
	return loc, nil
}

// issuerAuthorize is the authorization server's own authorize endpoint.
func (r *run) issuerAuthorize() string {
	if s, _ := r.issuer["authorization_endpoint"].(string); s != "" {
		return s
	}
	return strings.TrimSuffix(r.cfg.Issuer, "/") + "/v1/authorize"
}

// checkUpstream judges the proxy's redirect to the authorization server.
func (r *run) checkUpstream(up *url.URL, api, appState string) error {
	target := *up
	target.RawQuery, target.Fragment = "", ""
	q := up.Query()
	if target.String() != r.issuerAuthorize() {
		if q.Get("error") != "" {
			return fmt.Errorf("the authorize proxy refused the launch: %s (%s)", q.Get("error"), q.Get("error_description"))
		}
		return fmt.Errorf("the authorize proxy redirected to %s, not the issuer's authorize endpoint %s", target.String(), r.issuerAuthorize())
	}
	patient := r.cfg.EHRLaunch.Patient
	for k, vs := range q {
		for _, v := range vs {
			if v == patient || strings.Contains(v, "Patient/"+patient) || (k == "patient" && v != "") {
				return fmt.Errorf("the redirect to the issuer carries the patient id in %s: the authorization server and browsers log URLs; no PHI may be in a URL or a state", k)
			}
		}
	}
	switch {
	case q.Get("state") == "":
		return errors.New("the redirect to the issuer has no state: the proxy must send its own transaction id")
	case q.Get("state") == appState:
		return errors.New("the redirect to the issuer carries the app's own state: the proxy must keep it and send its own transaction id, or the hook cannot find the launch")
	case !under(q.Get("redirect_uri"), api):
		return fmt.Errorf("the redirect to the issuer names redirect_uri %s, not the proxy's callback under %s: the code would bypass the proxy", q.Get("redirect_uri"), api)
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		return errors.New("the redirect to the issuer drops the app's PKCE S256 challenge")
	}
	return nil
}

// refusedLaunch expects the authorize proxy to send the app back to its
// redirect URI with an error and its state, never to the issuer.
func (r *run) refusedLaunch(ctx context.Context, authorize, launch, clientID string, p pkce) error {
	loc, err := r.authorizeLaunch(ctx, r.browser(), authorize, launch, clientID, p)
	if err != nil {
		return err
	}
	target := *loc
	target.RawQuery, target.Fragment = "", ""
	q := loc.Query()
	switch {
	case target.String() == r.issuerAuthorize():
		return errors.New("the authorize proxy accepted it and sent the app on to the issuer")
	case q.Get("error") == "" || q.Get("code") != "":
		return fmt.Errorf("the authorize proxy redirected to %s without an error", target.String())
	case q.Get("state") != p.state:
		return errors.New("the refusal went back without the app's state")
	}
	return nil
}

// signIn follows the redirect to the issuer's authorize endpoint. An
// authorization server that signs the user in without a page (the sandbox's)
// redirects to the proxy's callback, which hands the code to the app's
// redirect URI: signIn returns it. A sign-in page (see signInPage) is not an
// error, the end of what can be automated; any other answer is.
func (r *run) signIn(ctx context.Context, client *http.Client, up *url.URL, api, redirectURI, appState string) (string, bool, error) {
	get := func(u string) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("building a request: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp, body, nil
	}
	resp, body, err := get(up.String())
	if err != nil {
		return "", false, fmt.Errorf("GET the issuer's authorize endpoint: %w", err)
	}
	cb, err := resp.Location()
	if err != nil || !under(cb.String(), api) {
		if signInPage(resp, cb, up) {
			return "", false, nil
		}
		// RFC 6749 4.1.2.1: an authorization server that cannot verify the
		// redirect URI shows an error itself rather than redirecting (Okta:
		// a 400 page when the proxy's callback is not a registered redirect URI).
		return "", false, fmt.Errorf("the authorization server answered the proxied authorize request with HTTP %d %s, not a sign-in page: check the proxy's callback %s is a registered redirect URI of the app at the issuer", resp.StatusCode, snippet(body), up.Query().Get("redirect_uri"))
	}
	if e := cb.Query().Get("error"); e != "" {
		return "", false, fmt.Errorf("the authorization server refused the proxied request: %s (%s)", e, cb.Query().Get("error_description"))
	}
	resp, _, err = get(cb.String())
	if err != nil {
		return "", false, fmt.Errorf("GET the proxy's callback: %w", err)
	}
	back, err := resp.Location()
	if err != nil {
		return "", false, fmt.Errorf("the proxy's callback answered %d, not a redirect to the app (it refuses a browser without the sign-in's binding cookie, set by the authorize proxy)", resp.StatusCode)
	}
	q := back.Query()
	target := *back
	target.RawQuery, target.Fragment = "", ""
	switch {
	case target.String() != strings.SplitN(redirectURI, "?", 2)[0]:
		return "", false, fmt.Errorf("the callback sent the code to %s, not the app's redirect URI %s", target.String(), redirectURI)
	case q.Get("error") != "":
		return "", false, fmt.Errorf("the callback handed the app an error: %s (%s): the token hook did not attach the launch context (check the hook's log)", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != appState:
		return "", false, errors.New("the callback did not give the app back its own state")
	case q.Get("code") == "":
		return "", false, errors.New("the callback handed the app no code")
	}
	return q.Get("code"), true, nil
}

// signInPage reports whether the issuer's answer to the proxied authorize
// request is a sign-in: a 200 HTML page, or a 302/303 to the issuer's own
// host (Okta's /login/login.htm). An error page (4xx/5xx) is not.
func signInPage(resp *http.Response, loc, authorize *url.URL) bool {
	switch resp.StatusCode {
	case http.StatusOK:
		return strings.HasPrefix(strings.ToLower(resp.Header.Get("Content-Type")), "text/html")
	case http.StatusFound, http.StatusSeeOther:
		return loc != nil && strings.EqualFold(loc.Host, authorize.Host)
	}
	return false
}

// hookRefusesStrangers posts to the token hook without its secret and with a
// wrong one: both must be refused (401 or 403), or anyone could have the hook
// attach a launch context to a token.
func (r *run) hookRefusesStrangers(ctx context.Context, api string) error {
	u := api + "/hook"
	for _, auth := range []string{"", "smartcheck-not-the-hook-secret-" + randhex.String(8)} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(`{"eventType":"com.okta.oauth2.tokens.transform"}`))
		if err != nil {
			return fmt.Errorf("building POST %s: %w", u, err)
		}
		req.Header.Set("Content-Type", "application/json")
		what := "without an Authorization header"
		if auth != "" {
			req.Header.Set("Authorization", auth)
			what = "with a wrong hook secret"
		}
		resp, err := r.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("POST %s: %w", u, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			return fmt.Errorf("POST %s %s answered HTTP %d, not 401 or 403: the token hook must refuse a caller without its secret", u, what, resp.StatusCode)
		}
	}
	return nil
}

// redeemLaunch redeems the code at the SMART configuration's token endpoint
// (the token proxy), as a public app or with ClientSecret, and checks the context is at the top
// level of the answer.
func (r *run) redeemLaunch(ctx context.Context, code string, p pkce) (string, error) {
	e := r.cfg.EHRLaunch
	endpoint := r.doc.TokenEndpoint
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.RedirectURI},
		"code_verifier": {p.verifier}}
	if e.ClientSecret == "" {
		form.Set("client_id", e.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if e.ClientSecret != "" {
		// RFC 6749 2.3.1: the id and secret are form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(e.ClientID), url.QueryEscape(e.ClientSecret))
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if out["error"] == "invalid_client" && e.ClientSecret == "" {
			hint = fmt.Sprintf(": %s may be a confidential app; set SMARTCHECK_EHR_CLIENT_SECRET to its client secret", e.ClientID)
		}
		return "", fmt.Errorf("redeeming the code at %s: HTTP %d %v %v%s", endpoint, resp.StatusCode, out["error"], out["error_description"], hint)
	}
	if got, _ := out["patient"].(string); got != e.Patient {
		return "", fmt.Errorf("the token response's top-level patient is %q, not the launch's %q: the token proxy must copy the context claims to the top level", got, e.Patient)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		return "", errors.New("the token response has no Cache-Control: no-store")
	}
	at, _ := out["access_token"].(string)
	if at == "" {
		return "", errors.New("the token response has no access_token")
	}
	return at, nil
}

// maxObservationPages bounds how many pages of the Observation search
// patientOnly reads: enough to see past a first page, never a crawl.
const maxObservationPages = 5

// patientOnly searches Observation with the launch's token: every entry, on
// up to maxObservationPages pages (the Bundle's next links), must be the
// patient's. A search with no entry shows nothing: the check is skipped.
func (r *run) patientOnly(ctx context.Context, token string) (string, error) {
	patient := r.cfg.EHRLaunch.Patient
	u := r.cfg.FHIREndpoint + "Observation"
	entries, pages := 0, 0
	for ; u != "" && pages < maxObservationPages; pages++ {
		status, body, _, err := r.get(ctx, u, token)
		if err != nil {
			return "", err
		}
		if status != http.StatusOK {
			return "", fmt.Errorf("GET Observation with the launch's token: %s", explain(status, body, r.cfg.EHRLaunch.Scope))
		}
		var bundle struct {
			Link []struct {
				Relation string `json:"relation"`
				URL      string `json:"url"`
			} `json:"link"`
			Entry []struct {
				Resource struct {
					ID      string `json:"id"`
					Subject struct {
						Reference string `json:"reference"`
					} `json:"subject"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &bundle); err != nil {
			return "", fmt.Errorf("GET Observation answered 200 but not with a FHIR Bundle: %v", err)
		}
		for _, en := range bundle.Entry {
			if ref := en.Resource.Subject.Reference; ref != "Patient/"+patient {
				return "", fmt.Errorf("GET Observation with the launch's token returned Observation/%s of %s (page %d): the token reaches beyond the launch's patient %s", en.Resource.ID, ref, pages+1, patient)
			}
		}
		entries += len(bundle.Entry)
		u = ""
		for _, l := range bundle.Link {
			if l.Relation == "next" {
				u = l.URL
			}
		}
		// The token goes only to the data store: a next link elsewhere is
		// not followed with it.
		if u != "" && !under(u, strings.TrimSuffix(r.cfg.FHIREndpoint, "/")) {
			return "", fmt.Errorf("the Observation search's next link %s is not under the FHIR endpoint %s", u, r.cfg.FHIREndpoint)
		}
	}
	if entries == 0 {
		return "", skip("GET Observation with the launch's token returned no entry, which shows nothing about the token's reach: pick an --ehr-patient with Observations")
	}
	status, body, _, err := r.get(ctx, r.cfg.FHIREndpoint+"Patient/"+patient, token)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("GET Patient/%s with the launch's token: %s", patient, explain(status, body, r.cfg.EHRLaunch.Scope))
	}
	more := ""
	if u != "" {
		more = fmt.Sprintf(" (first %d pages read)", pages)
	}
	return fmt.Sprintf("GET Observation: %d entr%s on %d page%s%s, all of Patient/%s; GET Patient/%s: 200", entries, plural(entries, "y", "ies"), pages, plural(pages, "", "s"), more, patient, patient), nil
}
