// Command smartcheck verifies a deployed SMART on FHIR endpoint end to end:
//
//	go run ./cmd/smartcheck --stack SmartHealthLake-dev --private-key key.pem
//
// It prints one line per check with its timing and exits 1 when a check fails
// (2 on bad flags). The checks are in internal/smartcheck.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := smartcheck.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
