// Command allowall is a deliberately broken IdP Lambda for smartcheck's tests:
// it authorizes every token without verifying it, passing on whatever scopes
// the token claims.
package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func main() {
	role := os.Getenv("HEALTHLAKE_ROLE_ARN")
	lambda.Start(func(_ context.Context, e idp.Event) (idp.Response, error) {
		claims := jwt.MapClaims{}
		_, _, _ = jwt.NewParser().ParseUnverified(strings.TrimPrefix(e.BearerToken, "Bearer "), claims)
		var scopes []string
		if list, ok := claims["scp"].([]any); ok {
			for _, s := range list {
				if s, ok := s.(string); ok {
					scopes = append(scopes, s)
				}
			}
		}
		now := time.Now().Unix()
		return idp.Response{IAMRoleARN: role, AuthPayload: idp.AuthPayload{
			Aud: e.DatastoreEndpoint, Iat: now, Nbf: now, Exp: now + 3600,
			IsAuthorized: true, Scope: strings.Join(scopes, " "),
		}}, nil
	})
}
