package oktaprops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// Properties are a resource's properties as CloudFormation delivers them; an
// alias, so code outside lambda/ (the CDK construct) can call Parse.
type Properties = cfnprops.Properties

// PropertyError is the error Parse returns, naming the bad property; an alias,
// so code outside lambda/ can inspect it with errors.As.
type PropertyError = cfnprops.PropertyError

// MaxScopes bounds the generated catalogue. Every scope is an API call on create
// and an entry in the rule's scope list; a typo such as a very long resource list
// times levels and permissions should fail here, not after minutes of rate limits.
const MaxScopes = 600

// Connection is what every request type needs, Delete included. It is parsed on
// its own so a Delete still works when the rest of an old property set no longer
// parses.
type Connection struct {
	OrgURL              string
	CredentialSecretARN string
	Name                string
}

// ParseConnection reads the Okta org, the credential secret and the server
// name. Only the first two are required: the name only helps a Delete find the
// leftovers of a failed Create.
func ParseConnection(p cfnprops.Properties) (Connection, error) {
	return parseConnection(p, nil)
}

// parseConnection is ParseConnection; with kept non-nil it also accepts an
// org URL the previous version accepted (see Kept).
func parseConnection(p cfnprops.Properties, kept *Kept) (Connection, error) {
	var c Connection
	var err error
	if c.OrgURL, err = orgURL(p, kept); err != nil {
		return c, err
	}
	if c.CredentialSecretARN, err = p.String(PropCredentialSecretARN); err != nil {
		return c, err
	}
	if name, ok := p[PropName].(string); ok {
		c.Name = name
	}
	return c, nil
}

// UnknownProperties lists properties of the authorization server resource the
// handler does not read. They are reported rather than refused: CloudFormation
// replays old property sets in Delete and rollback events, and refusing one
// would wedge the stack.
func UnknownProperties(p cfnprops.Properties) []string {
	return unknown(p, KnownProperties)
}

// UnknownAudienceBindingProperties is UnknownProperties for the audience binding.
func UnknownAudienceBindingProperties(p cfnprops.Properties) []string {
	return unknown(p, KnownAudienceBindingProperties)
}

func unknown(p cfnprops.Properties, known []string) []string {
	var out []string
	for k := range p {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// AudienceBinding is the audience binding resource's input.
type AudienceBinding struct {
	OrgURL              string
	CredentialSecretARN string
	ServerID            string
	Audience            string
}

// ParseAudienceBinding validates the audience binding's properties. Errors are
// *cfnprops.PropertyError naming the property.
func ParseAudienceBinding(p cfnprops.Properties) (AudienceBinding, error) {
	return parseAudienceBinding(p, nil)
}

func parseAudienceBinding(p cfnprops.Properties, kept *Kept) (AudienceBinding, error) {
	var b AudienceBinding
	conn, err := parseConnection(p, kept)
	if err != nil {
		return b, err
	}
	b.OrgURL, b.CredentialSecretARN = conn.OrgURL, conn.CredentialSecretARN
	if b.ServerID, err = p.String(PropAuthorizationServerID); err != nil {
		return b, err
	}
	if !serverID.MatchString(b.ServerID) {
		return b, propErr(PropAuthorizationServerID, fmt.Sprintf("must be an Okta authorization server id (aus...), got %q", b.ServerID))
	}
	if b.Audience, err = p.String(PropAudience); err != nil {
		return b, err
	}
	if err := checkAudience(b.Audience); err != nil {
		return b, err
	}
	return b, nil
}

func checkAudience(a string) error {
	if strings.ContainsAny(a, " \t\r\n") {
		return propErr(PropAudience, "must not contain whitespace")
	}
	if len(a) > 1024 {
		return propErr(PropAudience, "must be at most 1024 characters")
	}
	return nil
}

// Parse validates the properties and computes the catalogue. Errors are
// *cfnprops.PropertyError naming the property. A claim name Okta
// reserves (ReservedClaimName) is refused: Parse is for synthesis and Create;
// an Update uses ParseUpdate.
//
// Parse also refuses properties whose response could exceed
// CloudFormation's limit (see checkResponseBudget), so that synthesis
// fails, not a Create after it made every Okta object. ParseUpdate does not:
// a rollback must parse the deployed properties whatever the budget became
// since, and the handler checks the real response anyway.
func Parse(p cfnprops.Properties) (*Spec, error) {
	s, err := parse(p, nil)
	if err != nil {
		return nil, err
	}
	if err := s.checkResponseBudget(); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseUpdate is Parse for an Update event: p are its ResourceProperties and
// deployed its OldResourceProperties. It accepts, and returns in kept so that
// the caller can warn, what stacks were deployed with before a rule got
// stricter: claim names Okta reserves (ReservedClaimName; the list grew
// after stacks were deployed with some of them), and an org URL, redirect
// URIs or a token hook URL the previous version's rules accepted. Refusing
// them only when the deployed properties lack them is not enough: after an
// Update renames a claim away from a reserved name (or fixes a redirect URI)
// and fails, its rollback brings the old value back while its "deployed"
// properties are the failed Update's, which lack it, so the rollback would be
// refused (UPDATE_ROLLBACK_FAILED). See Kept. The deployed properties are not
// read for this; the parameter stays so that an Update's parse sees both of
// its property sets.
func ParseUpdate(p, _ cfnprops.Properties) (spec *Spec, kept Kept, err error) {
	spec, err = parse(p, &kept)
	if err != nil {
		return nil, Kept{}, err
	}
	return spec, kept, nil
}

// parse is Parse; with kept non-nil it accepts what Kept describes and
// records it there (ParseUpdate).
func parse(p cfnprops.Properties, kept *Kept) (*Spec, error) {
	conn, err := parseConnection(p, kept)
	if err != nil {
		return nil, err
	}
	s := &Spec{OrgURL: conn.OrgURL, CredentialSecretARN: conn.CredentialSecretARN}
	if s.Server.Name, err = serverName(p); err != nil {
		return nil, err
	}
	if s.ClientSecretARN, err = p.OptionalString(PropClientSecretARN, ""); err != nil {
		return nil, err
	}
	if s.IntrospectionSecretARN, err = p.OptionalString(PropIntrospectionSecretARN, ""); err != nil {
		return nil, err
	}
	if s.Server.Description, err = p.OptionalString(PropDescription, "SMART on FHIR authorization server"); err != nil {
		return nil, err
	}
	if len(s.Server.Description) > 500 {
		return nil, propErr(PropDescription, "must be at most 500 characters (the ownership marker is appended)")
	}
	// Optional: absent (or empty) leaves the audience to a Custom::SmartOktaAudience
	// resource; see PlaceholderAudience.
	if s.Server.Audience, err = p.OptionalString(PropAudience, ""); err != nil {
		return nil, err
	}
	if err := checkAudience(s.Server.Audience); err != nil {
		return nil, err
	}
	mode, err := enum(p, PropIssuerMode, IssuerModes())
	if err != nil {
		return nil, err
	}
	s.Server.IssuerMode = string(mode)
	if s.Server.Active, err = p.Bool(PropActive, true); err != nil {
		return nil, err
	}

	if err := s.parseScopes(p); err != nil {
		return nil, err
	}
	reserved := func(name, claimType string) bool {
		if !ReservedClaimName(name, claimType) {
			return false
		}
		if kept != nil {
			kept.ReservedClaims = append(kept.ReservedClaims, claimType+" "+name)
			return false
		}
		return true
	}
	if err := s.parseClaims(p, reserved); err != nil {
		return nil, err
	}
	if err := s.parseClients(p, kept); err != nil {
		return nil, err
	}
	if err := s.parsePolicies(p, kept); err != nil {
		return nil, err
	}
	if err := s.parseApps(p); err != nil {
		return nil, err
	}
	if err := s.parseProxyAssertionKey(p); err != nil {
		return nil, err
	}
	return s, nil
}

// jsonArray decodes the optional property name, a JSON array of what, into
// out, refusing unknown fields: a misspelt key would otherwise be dropped
// without a word. It reports whether the property was set.
func jsonArray(p cfnprops.Properties, name, what string, out any) (bool, error) {
	if !p.Has(name) {
		return false, nil
	}
	raw, err := p.String(name)
	if err != nil {
		return false, err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return false, propErr(name, "must be a JSON array of "+what+": "+err.Error())
	}
	return true, nil
}

func propErr(name, reason string) error {
	return &cfnprops.PropertyError{Property: name, Reason: reason}
}

// orgURL reads the org URL; with kept non-nil it also accepts one the
// previous version accepted (see Kept).
func orgURL(p cfnprops.Properties, kept *Kept) (string, error) {
	raw, err := p.String(PropOrgURL)
	if err != nil {
		return "", err
	}
	// http on loopback is the in-process fake of the tests; oktaclient.New
	// refuses http anyway unless its InsecureHTTPForTests option is set.
	org, err := CheckOrgURL(raw, true)
	if err != nil {
		legacy, ok := legacyOrgURL(raw)
		if err := kept.relaxed(PropOrgURL, err, ok); err != nil {
			return "", err
		}
		return legacy, nil
	}
	return org, nil
}

func serverName(p cfnprops.Properties) (string, error) {
	name, err := p.String(PropName)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(name) != name || len(name) > 100 {
		return "", propErr(PropName, "must have no leading or trailing spaces and at most 100 characters")
	}
	return name, nil
}

// enum reads a property taking one of allowed, whose first is the default.
func enum[T ~string](p cfnprops.Properties, name string, allowed []T) (T, error) {
	v, err := p.OptionalString(name, string(allowed[0]))
	if err != nil {
		return "", err
	}
	if !slices.Contains(allowed, T(v)) {
		return "", propErr(name, oneOf(allowed, T(v)))
	}
	return T(v), nil
}

func list(p cfnprops.Properties, name string, def []string) ([]string, error) {
	if !p.Has(name) {
		return slices.Clone(def), nil
	}
	v, err := p.StringList(name)
	if err != nil {
		return nil, err
	}
	for i, s := range v {
		if strings.TrimSpace(s) == "" {
			return nil, propErr(fmt.Sprintf("%s[%d]", name, i), "must not be empty")
		}
	}
	return v, nil
}

// minutes reads a lifetime property, in minutes.
func minutes(p cfnprops.Properties, name string, def, lo, hi int) (int64, error) {
	v, err := p.Int(name, def)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		return 0, propErr(name, fmt.Sprintf("must be between %d and %d minutes, got %d", lo, hi, v))
	}
	return int64(v), nil
}

var (
	resourceType  = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)
	attributeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,49}$`)
	scopeName     = regexp.MustCompile(`^[!#-\[\]-~]{1,256}$`) // RFC 6749 scope-token: printable ASCII but space, " and \
	oktaID        = regexp.MustCompile(`^[A-Za-z0-9]{20}$`)
	serverID      = regexp.MustCompile(`^aus[A-Za-z0-9]{17}$`)
)

var levelWords = map[string]string{
	"patient": "for the patient in context",
	"user":    "that the signed-in user may access",
	"system":  "for a backend service",
}

var v1Words = map[string]string{"read": "Read", "write": "Write", "*": "Read and write"}

var v2Letters = map[byte]string{'c': "create", 'r': "read", 'u': "update", 'd': "delete", 's': "search"}

// SmartVersionBoth is the SmartVersion value that generates the clinical
// scopes of both SMART versions. The construct does not offer it (its prop is
// a smart.Version); smart.V2 generates v2 scopes only.
const SmartVersionBoth = "both"

// smartVersions reads SmartVersion (or, from a stack deployed before the
// rename, PropLegacyScopeFlavor): which versions' scopes to generate.
func smartVersions(p cfnprops.Properties) (v1, v2 bool, err error) {
	name := PropSmartVersion
	if p.Has(PropLegacyScopeFlavor) {
		legacy, err := p.String(PropLegacyScopeFlavor)
		if err != nil {
			return false, false, err
		}
		current, err := p.OptionalString(PropSmartVersion, legacy)
		if err != nil {
			return false, false, err
		}
		if current != legacy {
			return false, false, propErr(PropLegacyScopeFlavor, "is the old name of SmartVersion and differs from it: leave it out")
		}
		name = PropLegacyScopeFlavor
	}
	allowed := []string{string(smart.V2), string(smart.V1), SmartVersionBoth}
	v, err := enum(p, name, allowed)
	if err != nil {
		return false, false, err
	}
	return v != string(smart.V2), v != string(smart.V1), nil
}

func (s *Spec) parseScopes(p cfnprops.Properties) error {
	withV1, withV2, err := smartVersions(p)
	if err != nil {
		return err
	}
	levels, err := list(p, PropScopeLevels, []string{"patient", "user", "system"})
	if err != nil {
		return err
	}
	for i, l := range levels {
		if _, ok := levelWords[l]; !ok {
			return propErr(fmt.Sprintf("%s[%d]", PropScopeLevels, i), fmt.Sprintf("must be patient, user or system, got %q", l))
		}
		if slices.Index(levels, l) != i {
			return propErr(PropScopeLevels, fmt.Sprintf("lists %q twice", l))
		}
	}
	resources, err := list(p, PropScopeResources, DefaultResources)
	if err != nil {
		return err
	}
	for i, r := range resources {
		if r != "*" && !resourceType.MatchString(r) {
			return propErr(fmt.Sprintf("%s[%d]", PropScopeResources, i), fmt.Sprintf("must be a FHIR resource type such as Observation, or *, got %q", r))
		}
		if slices.Index(resources, r) != i {
			return propErr(PropScopeResources, fmt.Sprintf("lists %q twice", r))
		}
	}
	permsV1, err := list(p, PropScopePermissionsV1, []string{"read"})
	if err != nil {
		return err
	}
	for i, perm := range permsV1 {
		if _, ok := v1Words[perm]; !ok {
			return propErr(fmt.Sprintf("%s[%d]", PropScopePermissionsV1, i), fmt.Sprintf("must be read, write or *, got %q", perm))
		}
	}
	permsV2, err := list(p, PropScopePermissionsV2, []string{"rs"})
	if err != nil {
		return err
	}
	for i, perm := range permsV2 {
		if !validV2(perm) {
			return propErr(fmt.Sprintf("%s[%d]", PropScopePermissionsV2, i), fmt.Sprintf("must be letters of cruds in that order, each once (rs, cud, cruds), got %q", perm))
		}
	}
	consentType, err := enum(p, PropScopeConsent, ScopeConsents())
	if err != nil {
		return err
	}
	publishTo, err := enum(p, PropScopeMetadataPublish, ScopeMetadataPublishes())
	if err != nil {
		return err
	}
	consent, publish := string(consentType), string(publishTo)

	for _, name := range ContextScopes {
		s.Scopes = append(s.Scopes, Scope{Name: name, DisplayName: contextDescriptions[name], Description: contextDescriptions[name],
			Consent: string(ScopeConsentImplicit), MetadataPublish: publish})
	}
	var perms []string
	if withV1 {
		perms = append(perms, permsV1...)
	}
	if withV2 {
		perms = append(perms, permsV2...)
	}
	for _, level := range levels {
		for _, res := range resources {
			for _, perm := range perms {
				name := level + "/" + res + "." + perm
				if slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.Name == name }) {
					continue // the same permission listed for v1 and v2 ("*" is not v2, so only by repetition)
				}
				desc := clinicalDescription(level, res, perm)
				s.Scopes = append(s.Scopes, Scope{Name: name, DisplayName: desc, Description: desc,
					Consent: consent, MetadataPublish: publish})
			}
		}
	}

	extras, err := list(p, PropExtraScopes, nil)
	if err != nil {
		return err
	}
	for i, name := range extras {
		prop := fmt.Sprintf("%s[%d]", PropExtraScopes, i)
		switch {
		case !scopeName.MatchString(name):
			return propErr(prop, fmt.Sprintf("%q is not a valid scope name (printable ASCII, no spaces, quotes or backslashes)", name))
		case strings.HasPrefix(name, "okta."):
			return propErr(prop, "scope names starting with okta. are reserved by Okta")
		case strings.Contains(name, "<") && strings.Contains(name, ">"):
			return propErr(prop, fmt.Sprintf("%q holds both '<' and '>', which Okta refuses in scope names", name))
		case slices.Contains(OktaSystemScopes, name):
			return propErr(prop, fmt.Sprintf("%q is an Okta system scope and exists already", name))
		case slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.Name == name }):
			return propErr(prop, fmt.Sprintf("%q is already in the generated catalogue", name))
		}
		s.Scopes = append(s.Scopes, Scope{Name: name, DisplayName: name, Description: "Custom scope " + name,
			Consent: consent, MetadataPublish: publish})
	}
	if len(s.Scopes) > MaxScopes {
		return propErr(PropScopeResources, fmt.Sprintf("levels x resources x permissions give %d scopes; keep the catalogue under %d", len(s.Scopes), MaxScopes))
	}
	return nil
}

var contextDescriptions = map[string]string{
	"launch":           "SMART EHR launch: receive the launch context",
	"launch/patient":   "SMART standalone launch: select a patient",
	"launch/encounter": "SMART standalone launch: select an encounter",
	"fhirUser":         "Identify the signed-in user as a FHIR resource",
	"online_access":    "Refresh access while the user stays online",
}

func validV2(perm string) bool {
	if perm == "" {
		return false
	}
	last := -1
	for i := 0; i < len(perm); i++ {
		at := strings.IndexByte("cruds", perm[i])
		if at <= last {
			return false
		}
		last = at
	}
	return true
}

func clinicalDescription(level, res, perm string) string {
	what := "all resources"
	if res != "*" {
		what = res + " resources"
	}
	var verb string
	if w, ok := v1Words[perm]; ok {
		verb = w
	} else {
		var words []string
		for i := 0; i < len(perm); i++ {
			words = append(words, v2Letters[perm[i]])
		}
		verb = strings.ToUpper(words[0][:1]) + strings.Join(words, ", ")[1:]
	}
	return fmt.Sprintf("%s %s %s", verb, what, levelWords[level])
}

// ExtraClaim is one element of the ExtraClaims JSON property; what is unset
// is left out of its JSON, so the defaults apply.
type ExtraClaim struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// ClaimType defaults to ClaimTypeResource.
	ClaimType ClaimType `json:"claimType,omitempty"`
	// ValueType defaults to ClaimValueExpression.
	ValueType ClaimValueType `json:"valueType,omitempty"`
	// GroupFilterType is required with ClaimValueGroups, refused otherwise.
	GroupFilterType GroupFilterType `json:"groupFilterType,omitempty"`
	Scopes          []string        `json:"scopes,omitempty"`
	// AlwaysIncludeInToken defaults to true.
	AlwaysIncludeInToken *bool `json:"alwaysIncludeInToken,omitempty"`
}

// parseClaims reads the claims; reserved tells whether a claim name is
// refused as reserved by Okta.
func (s *Spec) parseClaims(p cfnprops.Properties, reserved func(name, claimType string) bool) error {
	fhirAttr, err := p.OptionalString(PropFhirUserAttribute, "fhirUser")
	if err != nil {
		return err
	}
	if !attributeName.MatchString(fhirAttr) {
		return propErr(PropFhirUserAttribute, fmt.Sprintf("must be an Okta user profile attribute name, got %q", fhirAttr))
	}
	s.UserAttributes = append(s.UserAttributes, fhirAttr)
	for _, ct := range []ClaimType{ClaimTypeIdentity, ClaimTypeResource} {
		s.Claims = append(s.Claims, Claim{Name: "fhirUser", ClaimType: string(ct), ValueType: string(ClaimValueExpression),
			Value: "user." + fhirAttr, Scopes: []string{"fhirUser"}, AlwaysIncludeInToken: true})
	}
	withPatient, err := p.Bool(PropPatientClaim, true)
	if err != nil {
		return err
	}
	if withPatient {
		name, err := p.OptionalString(PropPatientClaimName, "patient")
		if err != nil {
			return err
		}
		if reserved(name, string(ClaimTypeResource)) {
			return propErr(PropPatientClaimName, fmt.Sprintf("%q is reserved by Okta, not a usable claim name", name))
		}
		if !attributeName.MatchString(name) || name == "fhirUser" {
			return propErr(PropPatientClaimName, fmt.Sprintf("%q is not a usable claim name", name))
		}
		attr, err := p.OptionalString(PropPatientAttribute, "patientId")
		if err != nil {
			return err
		}
		if !attributeName.MatchString(attr) {
			return propErr(PropPatientAttribute, fmt.Sprintf("must be an Okta user profile attribute name, got %q", attr))
		}
		if !slices.Contains(s.UserAttributes, attr) {
			s.UserAttributes = append(s.UserAttributes, attr)
		}
		s.Claims = append(s.Claims, Claim{Name: name, ClaimType: string(ClaimTypeResource), ValueType: string(ClaimValueExpression),
			Value: "user." + attr, Scopes: []string{"launch/patient"}, AlwaysIncludeInToken: true})
	}

	var extras []ExtraClaim
	if set, err := jsonArray(p, PropExtraClaims, "claims", &extras); !set || err != nil {
		return err
	}
	known := append(s.ScopeNames(), OktaSystemScopes...)
	for i, x := range extras {
		prop := fmt.Sprintf("%s[%d]", PropExtraClaims, i)
		if x.ClaimType == "" {
			x.ClaimType = ClaimTypeResource
		}
		if x.ValueType == "" {
			x.ValueType = ClaimValueExpression
		}
		groups := x.ValueType == ClaimValueGroups
		switch {
		case !attributeName.MatchString(x.Name):
			return propErr(prop+".name", fmt.Sprintf("%q is not a valid claim name", x.Name))
		case !x.ClaimType.Valid():
			return propErr(prop+".claimType", oneOf(ClaimTypes(), x.ClaimType))
		case reserved(x.Name, string(x.ClaimType)):
			return propErr(prop+".name", fmt.Sprintf("%q is reserved by Okta", x.Name))
		case !x.ValueType.Valid():
			return propErr(prop+".valueType", oneOf(ClaimValueTypes(), x.ValueType))
		case strings.TrimSpace(x.Value) == "":
			return propErr(prop+".value", "is required")
		case groups && x.GroupFilterType == "":
			return propErr(prop+".groupFilterType", fmt.Sprintf("is required for %s claims: %s", ClaimValueGroups,
				oneOf(GroupFilterTypes(), x.GroupFilterType)))
		case groups && !x.GroupFilterType.Valid():
			return propErr(prop+".groupFilterType", oneOf(GroupFilterTypes(), x.GroupFilterType))
		case !groups && x.GroupFilterType != "":
			return propErr(prop+".groupFilterType", fmt.Sprintf("applies to %s claims only", ClaimValueGroups))
		}
		if slices.ContainsFunc(s.Claims, func(c Claim) bool { return c.Name == x.Name && c.ClaimType == string(x.ClaimType) }) {
			return propErr(prop+".name", fmt.Sprintf("a %s claim %q is already defined", x.ClaimType, x.Name))
		}
		for j, sc := range x.Scopes {
			if !slices.Contains(known, sc) {
				return propErr(fmt.Sprintf("%s.scopes[%d]", prop, j), fmt.Sprintf("scope %q is not in the catalogue", sc))
			}
		}
		always := true
		if x.AlwaysIncludeInToken != nil {
			always = *x.AlwaysIncludeInToken
		}
		s.Claims = append(s.Claims, Claim{Name: x.Name, ClaimType: string(x.ClaimType), ValueType: string(x.ValueType),
			Value: x.Value, GroupFilterType: string(x.GroupFilterType), Scopes: slices.Clone(x.Scopes), AlwaysIncludeInToken: always})
	}
	return nil
}

func (s *Spec) parseClients(p cfnprops.Properties, kept *Kept) error {
	consent := "TRUSTED"
	if slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.Consent == string(ScopeConsentRequired) }) {
		consent = "REQUIRED" // Okta shows the consent screen only to apps that ask for it
	}
	name := s.Server.Name
	if on, err := p.Bool(PropConfidentialClient, false); err != nil {
		return err
	} else if on {
		redirects, err := redirectURIs(p, PropConfidentialRedirectURIs, true, false, kept)
		if err != nil {
			return err
		}
		logout, err := redirectURIs(p, PropConfidentialPostLogoutURIs, false, false, kept)
		if err != nil {
			return err
		}
		s.Clients = append(s.Clients, Client{Kind: ConfidentialClient, Label: name + " confidential app",
			ApplicationType: "web", GrantTypes: []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"}, RedirectURIs: redirects, PostLogoutRedirectURIs: logout,
			TokenEndpointAuthMethod: "client_secret_basic", PKCERequired: true, ConsentMethod: consent})
	}
	if on, err := p.Bool(PropPublicClient, false); err != nil {
		return err
	} else if on {
		appType, err := enum(p, PropPublicClientType, PublicClientTypes())
		if err != nil {
			return err
		}
		redirects, err := redirectURIs(p, PropPublicRedirectURIs, true, appType == PublicClientTypeNative, kept)
		if err != nil {
			return err
		}
		s.Clients = append(s.Clients, Client{Kind: PublicClient, Label: name + " public app",
			ApplicationType: string(appType), GrantTypes: []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"}, RedirectURIs: redirects,
			TokenEndpointAuthMethod: "none", PKCERequired: true, ConsentMethod: consent})
	}
	if on, err := p.Bool(PropBackendClient, false); err != nil {
		return err
	} else if on {
		keys, err := publicJWKS(p)
		if err != nil {
			return err
		}
		s.Clients = append(s.Clients, Client{Kind: BackendClient, Label: name + " backend service",
			ApplicationType: "service", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"token"},
			TokenEndpointAuthMethod: "private_key_jwt", ConsentMethod: "TRUSTED", JWKS: keys})
	}
	if on, err := p.Bool(PropIntrospectionClient, false); err != nil {
		return err
	} else if on {
		s.Clients = append(s.Clients, Client{Kind: IntrospectionClient, Label: name + " token introspection",
			ApplicationType: "service", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"token"},
			TokenEndpointAuthMethod: "client_secret_basic", ConsentMethod: "TRUSTED"})
	}
	// Each secret-holding client has its own secret, so the token Lambda can be
	// allowed to read the introspection credential and nothing else.
	if _, on := s.Client(ConfidentialClient); on && s.ClientSecretARN == "" {
		return propErr(PropClientSecretARN, "is required when ConfidentialClient is enabled (its client secret is written there)")
	}
	if _, on := s.Client(IntrospectionClient); on && s.IntrospectionSecretARN == "" {
		return propErr(PropIntrospectionSecretARN, "is required when IntrospectionClient is enabled (its client id and secret are written there for the token Lambda)")
	}
	return nil
}

// redirectURIs reads a list of redirect URIs; with kept non-nil it also
// accepts those the previous version accepted (see Kept).
func redirectURIs(p cfnprops.Properties, name string, required, allowCustomScheme bool, kept *Kept) ([]string, error) {
	uris, err := list(p, name, nil)
	if err != nil {
		return nil, err
	}
	if required && len(uris) == 0 {
		return nil, propErr(name, "is required: list at least one redirect URI")
	}
	for i, raw := range uris {
		if err := httpsurl.CheckRedirect(raw, allowCustomScheme); err != nil {
			if err := kept.relaxed(fmt.Sprintf("%s[%d]", name, i), err, legacyRedirect(raw, allowCustomScheme)); err != nil {
				return nil, err
			}
		}
	}
	return uris, nil
}

// JWK members that only private keys have. A JWKS registered for private_key_jwt
// must be public: a private key here would end up in the template.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"}

func publicJWKS(p cfnprops.Properties) ([]map[string]any, error) {
	raw, err := p.String(PropBackendClientJWKS)
	if err != nil {
		return nil, &cfnprops.PropertyError{Property: PropBackendClientJWKS, Reason: "is required when BackendClient is enabled: the service's public JWKS"}
	}
	keys, i, reason := decodePublicJWKS([]byte(raw))
	switch {
	case reason == "":
		return keys, nil
	case i < 0:
		return nil, propErr(PropBackendClientJWKS, reason)
	}
	return nil, propErr(fmt.Sprintf("%s.keys[%d]", PropBackendClientJWKS, i), reason)
}

// decodePublicJWKS reads a JWK Set registered for private_key_jwt (the
// BackendClientJwks property, an app's jwks): a {"keys": [...]} object of at
// least one public RSA key. On failure reason says why, about the set (i is
// -1) or about keys[i]; the callers name the property their own way.
func decodePublicJWKS(raw []byte) (keys []map[string]any, i int, reason string) {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, -1, "must be a JSON Web Key Set {\"keys\": [...]}: " + err.Error()
	}
	if len(set.Keys) == 0 {
		return nil, -1, "must hold at least one key"
	}
	for i, k := range set.Keys {
		for _, m := range privateJWKMembers {
			if _, ok := k[m]; ok {
				return nil, i, fmt.Sprintf("is a private key (has %q): register the public key only", m)
			}
		}
		// RSA only: okta-sdk-golang/v2's JsonWebKey has no EC members (crv, x, y),
		// so an EC key could not be sent intact.
		if kty, _ := k["kty"].(string); kty != "RSA" {
			return nil, i, fmt.Sprintf("kty must be RSA (the Okta SDK v2 cannot register EC keys), got %q", kty)
		}
		n, _ := k["n"].(string)
		e, _ := k["e"].(string)
		if n == "" || e == "" {
			return nil, i, "an RSA public key needs n and e"
		}
	}
	return set.Keys, -1, ""
}

func (s *Spec) parsePolicies(p cfnprops.Properties, kept *Kept) error {
	assign, err := enum(p, PropPolicyAssignment, PolicyAssignments())
	if err != nil {
		return err
	}
	all := assign == PolicyAssignmentAllClients
	groups, err := list(p, PropUserGroupIDs, []string{EveryoneGroup})
	if err != nil {
		return err
	}
	for i, g := range groups {
		if g != EveryoneGroup && !oktaID.MatchString(g) {
			return propErr(fmt.Sprintf("%s[%d]", PropUserGroupIDs, i), fmt.Sprintf("must be an Okta group id (00g...) or EVERYONE, got %q", g))
		}
	}
	s.UserGroupIDs = groups
	// The bounds are Okta's (see MinAccessTokenLifetimeMinutes).
	access, err := minutes(p, PropAccessTokenLifetimeMinutes, DefaultAccessTokenLifetimeMinutes,
		MinAccessTokenLifetimeMinutes, MaxAccessTokenLifetimeMinutes)
	if err != nil {
		return err
	}
	window, err := minutes(p, PropRefreshTokenWindowMinutes, DefaultRefreshTokenWindowMinutes,
		MinRefreshTokenWindowMinutes, MaxRefreshTokenWindowMinutes)
	if err != nil {
		return err
	}
	refresh, err := minutes(p, PropRefreshTokenLifetimeMinutes, DefaultRefreshTokenLifetimeMinutes, 0, MaxRefreshTokenLifetimeMinutes)
	if err != nil {
		return err
	}
	// Okta wants access lifetime <= refresh window <= refresh lifetime (when
	// the latter is not unlimited).
	if window < access {
		return propErr(PropRefreshTokenWindowMinutes, fmt.Sprintf("must be at least %s (%d minutes), got %d minutes",
			PropAccessTokenLifetimeMinutes, access, window))
	}
	if refresh != 0 && refresh < window {
		return propErr(PropRefreshTokenLifetimeMinutes, fmt.Sprintf("must be 0 (unlimited) or at least %s (%d minutes), got %d minutes",
			PropRefreshTokenWindowMinutes, window, refresh))
	}
	backendAccess, err := minutes(p, PropBackendAccessTokenLifetime, DefaultBackendAccessTokenLifetimeMinutes,
		MinAccessTokenLifetimeMinutes, MaxAccessTokenLifetimeMinutes)
	if err != nil {
		return err
	}
	hook, err := p.OptionalString(PropTokenInlineHookID, "")
	if err != nil {
		return err
	}
	if hook != "" && !oktaID.MatchString(hook) {
		return propErr(PropTokenInlineHookID, fmt.Sprintf("must be an Okta inline hook id (cal...), got %q", hook))
	}
	if s.TokenHook, err = tokenHook(p, kept); err != nil {
		return err
	}
	if s.TokenHook != nil && hook != "" {
		return propErr(PropTokenHookURL, "cannot be used with TokenInlineHookId: the user-facing rule references one hook, either the one this resource registers or one made elsewhere")
	}

	// Scopes by audience: system/ scopes only for backend services, everything
	// else (with OpenID Connect's own scopes) for user-facing apps.
	userScopes := []string{"openid", "profile", "offline_access"}
	var systemScopes []string
	for _, sc := range s.Scopes {
		if strings.HasPrefix(sc.Name, "system/") {
			systemScopes = append(systemScopes, sc.Name)
		} else {
			userScopes = append(userScopes, sc.Name)
		}
	}

	priority := int64(1)
	_, hasConf := s.Client(ConfidentialClient)
	_, hasPublic := s.Client(PublicClient)
	if all || hasConf || hasPublic {
		s.Policies = append(s.Policies, Policy{
			Name:        UserFacingPolicyName,
			Description: "SMART on FHIR apps acting for a user: authorization code with PKCE; refresh tokens through offline_access/online_access",
			Priority:    priority, AllClients: all, ClientKinds: []ClientKind{ConfidentialClient, PublicClient},
			Rules: []Rule{{
				Name: UserFacingRuleName, Priority: 1,
				// Okta has no refresh_token grant in rules: refresh is allowed by
				// the apps' grant types plus the offline_access scope, and bounded
				// by the lifetimes below.
				GrantTypes: []string{"authorization_code"}, Scopes: userScopes, GroupIDs: groups,
				AccessTokenLifetimeMinutes: access, RefreshTokenLifetimeMinutes: refresh,
				RefreshTokenWindowMinutes: window, InlineHookID: hook, ManagedTokenHook: s.TokenHook != nil,
			}},
		})
		priority++
	}
	_, hasBackend := s.Client(BackendClient)
	if (all || hasBackend) && len(systemScopes) > 0 {
		s.Policies = append(s.Policies, Policy{
			Name:        BackendPolicyName,
			Description: "SMART Backend Services: client credentials with private_key_jwt, system/ scopes only",
			Priority:    priority, AllClients: all, ClientKinds: []ClientKind{BackendClient},
			Rules: []Rule{{
				Name: BackendRuleName, Priority: 1,
				GrantTypes: []string{"client_credentials"}, Scopes: systemScopes, GroupIDs: []string{EveryoneGroup},
				// No refresh tokens for client credentials; Okta still wants the
				// fields, so they carry its defaults.
				AccessTokenLifetimeMinutes: backendAccess, RefreshTokenLifetimeMinutes: DefaultRefreshTokenLifetimeMinutes,
				RefreshTokenWindowMinutes: DefaultRefreshTokenWindowMinutes,
			}},
		})
	} else if hasBackend {
		return propErr(PropScopeLevels, "BackendClient needs system/ scopes: include system in ScopeLevels or list system/ ExtraScopes")
	}
	return nil
}

// secretARN matches a Secrets Manager secret ARN (any partition).
var secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$`)

// tokenHook reads TokenHookUrl and TokenHookSecretArn, which come together.
// The URL rules are the management API spec's
// (InlineHookChannelConfigCreate.uri: "must begin with https:// ... No white
// space is allowed in the URI", at most 1024 characters); user info is
// refused besides. With kept non-nil a URL the previous version accepted (with
// user info) is accepted too (see Kept).
func tokenHook(p cfnprops.Properties, kept *Kept) (*TokenHook, error) {
	uri, err := p.OptionalString(PropTokenHookURL, "")
	if err != nil {
		return nil, err
	}
	arn, err := p.OptionalString(PropTokenHookSecretARN, "")
	if err != nil {
		return nil, err
	}
	switch {
	case uri == "" && arn == "":
		return nil, nil
	case arn == "":
		return nil, propErr(PropTokenHookSecretARN, "is required with TokenHookUrl: the secret holding the Authorization header value Okta sends to the hook")
	case uri == "":
		return nil, propErr(PropTokenHookURL, "is required with TokenHookSecretArn: the https URL of the token inline hook")
	}
	if httpsurl.Check(uri) != nil || strings.ContainsAny(uri, " \t\r\n") {
		strict := fmt.Errorf("must be an absolute https URL without user info, fragment or white space, got %q", httpsurl.Redact(uri))
		if err := kept.relaxed(PropTokenHookURL, strict, legacyTokenHookURL(uri)); err != nil {
			return nil, err
		}
	}
	if len(uri) > 1024 {
		return nil, propErr(PropTokenHookURL, "must be at most 1024 characters")
	}
	if !secretARN.MatchString(arn) {
		return nil, propErr(PropTokenHookSecretARN, fmt.Sprintf("must be a Secrets Manager secret ARN, got %q", arn))
	}
	return &TokenHook{URL: uri, SecretARN: arn}, nil
}
