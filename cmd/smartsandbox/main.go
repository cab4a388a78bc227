// Command smartsandbox runs the SMART on FHIR flow of a deployed stack on
// loopback, with no AWS account and no Okta org: an Okta stand-in, a HealthLake
// FHIR API emulator and a real process of the token-validation Lambda (with
// --ehr-launch, the EHR launch API in front of the Okta stand-in). It prints
// the endpoints and the smartcheck command that verifies them, and runs until
// interrupted. The logic is in internal/sandbox and lambda/ehrlaunch/ehrsandbox.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/ehrsandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "smartsandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	version := flag.String("smart-version", "v2", `the data store's SMART version: "v2" (SMART_ON_FHIR) or "v1" (SMART_ON_FHIR_V1)`)
	validation := flag.String("validation", "jwt", `the validator's mode: "jwt" or "introspection"`)
	fineGrained := flag.Bool("fine-grained", true, "enable fine-grained authorization")
	idpBinary := flag.String("idp-binary", "", "run this IdP Lambda binary instead of building lambda/introspect")
	audience := flag.String("audience", "", "the access tokens' aud (default: the data store endpoint); set another value to see what a missing audience binding looks like")
	ehrLaunch := flag.Bool("ehr-launch", false, "also run the EHR launch API (lambda/ehrlaunch) in front of the Okta stand-in, with its token hook, and advertise its proxies in the SMART configuration")
	verbose := flag.Bool("v", false, "print the emulators' and the Lambda's logs")
	flag.Parse()
	if !smart.Version(*version).Valid() {
		return fmt.Errorf("--smart-version must be v1 or v2, not %q", *version)
	}
	if !validatorenv.Validation(*validation).Valid() {
		return fmt.Errorf("--validation must be jwt or introspection, not %q", *validation)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "smartsandbox")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := *idpBinary
	if bin == "" {
		fmt.Fprintln(os.Stderr, "building lambda/introspect ...")
		if bin, err = sandbox.BuildIdP(ctx, dir); err != nil {
			return err
		}
	}
	var logs io.Writer = io.Discard
	if *verbose {
		logs = os.Stderr
	}
	cfg := sandbox.Config{
		IdPBinary:    bin,
		Dir:          dir,
		Version:      smart.Version(*version),
		Validation:   validatorenv.Validation(*validation),
		FineGrained:  *fineGrained,
		Audience:     *audience,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
		LambdaOutput: logs,
	}
	var (
		sb      *sandbox.Sandbox
		check   string
		ehrInfo string
	)
	if *ehrLaunch {
		w, err := ehrsandbox.Start(ehrsandbox.Config{Sandbox: cfg})
		if err != nil {
			return err
		}
		defer w.Close()
		sb, check = w.Sandbox, w.CheckCommand()
		ehrInfo = fmt.Sprintf(`  EHR launch API       %s (POST /launch: SigV4, profile %s in %s)
  EHR-launched apps    %s (public), %s (confidential), redirect URI %s
`, w.APIURL, ehrsandbox.Profile, w.CredentialsFile, sandbox.EHRAppClientID, sandbox.EHRWebClientID, ehrsandbox.AppRedirectURI)
	} else {
		var err error
		if sb, err = sandbox.Start(cfg); err != nil {
			return err
		}
		defer sb.Close()
		check = sb.CheckCommand()
	}

	fmt.Printf(`smartsandbox: %s data store, %s validation, fine-grained authorization %v
  FHIR endpoint        %s
  SMART configuration  %s.well-known/smart-configuration
  issuer               %s
  token endpoint       %s
  clients              %s (system/), %s (user/, fhirUser Practitioner/dr-1), %s (patient/, Patient/p1)
  client key (ES384)   %s (kid %s)
  CA certificate       %s
%s
Verify it:
  %s

Ctrl-C stops the sandbox and removes its files.
`, *version, *validation, *fineGrained, sb.FHIREndpoint, sb.FHIREndpoint, sb.Issuer, sb.TokenEndpoint,
		sandbox.BackendClientID, sandbox.PractitionerClientID, sandbox.PatientClientID, sb.KeyFile, sb.KeyID, sb.CAFile, ehrInfo, check)
	<-ctx.Done()
	return nil
}
