package oktaprops

import (
	"fmt"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
)

// ResponseValues are what a Create or Update learnt from Okta, for the
// response Data.
type ResponseValues struct {
	ServerID string
	// Issuer is the server's issuer URL, as Okta gives it.
	Issuer string
	// Audience is the server's audience after the request.
	Audience string
	// ClientIDs are the single clients' ids, by kind ("" for a client that is off).
	ClientIDs map[ClientKind]string
	// AppClientIDs are the registry apps' client ids, by app name.
	AppClientIDs map[string]string
}

// ResponseData is the Data of the authorization server's response: ids, URLs
// and the secrets' ARNs only, since it is visible to anyone who can read the
// stack. Every attribute is present (a client's id is "" when the client is
// off) so a Fn::GetAtt on it never fails the stack; each registry app adds
// its client id under AppDataKey(name), named by the app, never by its
// position.
func (s *Spec) ResponseData(v ResponseValues) map[string]any {
	issuer := strings.TrimRight(v.Issuer, "/")
	data := map[string]any{
		AttrAuthorizationServerID:  v.ServerID,
		AttrIssuer:                 issuer,
		AttrAuthorizationEndpoint:  issuer + "/v1/authorize",
		AttrTokenEndpoint:          issuer + "/v1/token",
		AttrJwksURI:                issuer + "/v1/keys",
		AttrIntrospectionEndpoint:  issuer + "/v1/introspect",
		AttrRevocationEndpoint:     issuer + "/v1/revoke",
		AttrAudience:               v.Audience,
		AttrClientSecretARN:        s.ClientSecretARN,
		AttrIntrospectionSecretARN: s.IntrospectionSecretARN,
	}
	for _, kind := range ClientKinds {
		data[ClientIDAttr(kind)] = v.ClientIDs[kind]
	}
	for _, app := range s.Apps {
		data[AppDataKey(app.Name)] = v.AppClientIDs[app.Name]
	}
	return data
}

// AppsDataSize is the bytes the registry apps' attributes take in data (a
// ResponseData of s), for the message that refuses a response too large: the
// part the user shortens by naming fewer or shorter apps.
func (s *Spec) AppsDataSize(data map[string]any) int {
	n := 0
	for _, a := range s.Apps {
		n += len(fmt.Sprintf(`"%s":"%v",`, AppDataKey(a.Name), data[AppDataKey(a.Name)]))
	}
	return n
}

// Reserves for the values of the response that the properties do not fix,
// used by the response budget (checkResponseBudget).
const (
	// CustomIssuerHostReserve is the host length counted for an issuer in
	// CUSTOM_URL or DYNAMIC mode, whose domain (the org's custom domain)
	// the properties do not say; the org URL's host when that is longer.
	CustomIssuerHostReserve = 100
	// AudienceReserve is the audience length counted when the Audience
	// property is absent: a Custom::SmartOktaAudience binds the data store's
	// endpoint (https://healthlake.<region>.amazonaws.com/datastore/<id>/r4/,
	// under 100 characters) later, and an Update then reports it.
	AudienceReserve = 128
	// SecretARNReserve is the length counted for a secret ARN that is set:
	// at synthesis the construct's secrets are tokens standing for ARNs of
	// generated names, longer than the stand-ins parsed then.
	SecretARNReserve = 160
	// oktaIDLength is the length of Okta's ids (servers, clients).
	oktaIDLength = 20
)

// checkResponseBudget refuses properties whose response could exceed
// CloudFormation's 4096 bytes once the Provider framework has added its
// fields: such a Create would fail after making every Okta object. It counts
// the whole response with the longest values the properties allow: the
// issuer and the five endpoints derived from it (some six times the
// issuer's length), the audience, the secret ARNs, every client id, and the
// framework's echoed fields at CloudFormation's maxima. The handler checks
// the real response again (with the real values) before it answers.
func (s *Spec) checkResponseBudget() error {
	id := "aus" + strings.Repeat("x", oktaIDLength-3)
	host := strings.TrimPrefix(s.OrgURL, "https://")
	if s.Server.IssuerMode != string(IssuerModeOrgURL) && len(host) < CustomIssuerHostReserve {
		host = strings.Repeat("x", CustomIssuerHostReserve)
	}
	audience := s.Server.Audience
	if audience == "" {
		audience = strings.Repeat("x", max(AudienceReserve, len(PlaceholderAudience(s.Server.Name))))
	}
	longest := *s
	for _, arn := range []*string{&longest.ClientSecretARN, &longest.IntrospectionSecretARN} {
		if *arn != "" && len(*arn) < SecretARNReserve {
			*arn = strings.Repeat("x", SecretARNReserve)
		}
	}
	v := ResponseValues{ServerID: id, Issuer: "https://" + host + "/oauth2/" + id, Audience: audience,
		ClientIDs: map[ClientKind]string{}, AppClientIDs: map[string]string{}}
	for _, c := range s.Clients {
		v.ClientIDs[c.Kind] = strings.Repeat("x", oktaIDLength)
	}
	for _, a := range s.Apps {
		v.AppClientIDs[a.Name] = strings.Repeat("x", oktaIDLength)
	}
	data := longest.ResponseData(v)
	size := cfnprops.LongestSuccessResponse(id, data).Size()
	if size <= cfnprops.MaxResponseBytes {
		return nil
	}
	apps := longest.AppsDataSize(data)
	urls := 6 * len(v.Issuer)
	reason := fmt.Sprintf("the custom resource's response could take %d bytes, over CloudFormation's %d-byte limit on a response: "+
		"the apps' client ids take %d, the issuer and its endpoints (from OktaOrgUrl and IssuerMode) about %d, and the "+
		"Provider framework's fields up to %d", size, cfnprops.MaxResponseBytes, apps, urls,
		cfnprops.LongestSuccessResponse(id, nil).Size())
	if len(s.Apps) > 0 {
		return propErr(PropApps, reason+"; use shorter app names or fewer apps")
	}
	return propErr(PropOrgURL, reason)
}
