// Command slow is a deliberately broken IdP Lambda for smartcheck's tests: it
// validates tokens like the project's but answers after 1.5 s, past
// HealthLake's one-second budget.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func main() {
	h := idp.FromEnv(context.Background(), os.Getenv, idp.Options{Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil))})
	lambda.Start(func(ctx context.Context, e idp.Event) (idp.Response, error) {
		r, err := h.Handle(ctx, e)
		time.Sleep(1500 * time.Millisecond)
		return r, err
	})
}
