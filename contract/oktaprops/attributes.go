package oktaprops

// Data attribute names of ResourceTypeAuthorizationServer (Fn::GetAtt). Every
// one is present in every response: a client's id is "" when the client is
// off, so a Fn::GetAtt on it never fails the stack.
const (
	AttrAuthorizationServerID = "AuthorizationServerId"
	AttrIssuer                = "Issuer"
	AttrAuthorizationEndpoint = "AuthorizationEndpoint"
	AttrTokenEndpoint         = "TokenEndpoint"
	AttrJwksURI               = "JwksUri"
	AttrIntrospectionEndpoint = "IntrospectionEndpoint"
	AttrRevocationEndpoint    = "RevocationEndpoint"
	// AttrAudience is the server's audience as of this resource's last create
	// or update (the placeholder until an audience binding sets it).
	AttrAudience               = "Audience"
	AttrConfidentialClientID   = "ConfidentialClientId"
	AttrPublicClientID         = "PublicClientId"
	AttrBackendClientID        = "BackendClientId"
	AttrIntrospectionClientID  = "IntrospectionClientId"
	AttrClientSecretARN        = "ClientSecretArn"
	AttrIntrospectionSecretARN = "IntrospectionSecretArn"
)

// Data attribute names of ResourceTypeAudience; they share names with the
// server's attributes.
const (
	AttrBindingAuthorizationServerID = AttrAuthorizationServerID
	AttrBindingAudience              = AttrAudience
)

// ClientIDAttr is the attribute holding the id of the client of a kind.
func ClientIDAttr(kind ClientKind) string {
	switch kind {
	case ConfidentialClient:
		return AttrConfidentialClientID
	case PublicClient:
		return AttrPublicClientID
	case BackendClient:
		return AttrBackendClientID
	case IntrospectionClient:
		return AttrIntrospectionClientID
	}
	return ""
}
