// Command extrascope is a deliberately broken IdP Lambda for smartcheck's
// tests: it validates tokens like the project's, then adds scopes the token
// does not hold to every authorized answer.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func main() {
	h := idp.FromEnv(context.Background(), os.Getenv, idp.Options{Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil))})
	lambda.Start(func(ctx context.Context, e idp.Event) (idp.Response, error) {
		r, err := h.Handle(ctx, e)
		if err == nil && r.AuthPayload.IsAuthorized {
			r.AuthPayload.Scope += " system/*.read system/*.rs"
		}
		return r, err
	})
}
