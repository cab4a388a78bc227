package smartcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// Exit codes of Main.
const (
	ExitOK     = 0
	ExitFailed = 1 // a check failed
	ExitUsage  = 2 // bad flags or inputs: no check ran
)

// Main is the smartcheck command: it parses args, gathers the settings (stack
// outputs through the default AWS credential chain, then flags), runs the
// checks and writes the report to stdout.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smartcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		stack     = fs.String("stack", "", "read the settings from this CloudFormation stack's outputs (FhirEndpoint, Issuer, BackendTokenEndpoint or TokenEndpoint, BackendClientId, EhrLaunchApiUrl)")
		region    = fs.String("region", "", "AWS region of the stack and secret (default: the SDK's, from AWS_REGION or the profile)")
		profile   = fs.String("profile", "", "AWS shared config profile to use, ahead of credentials in the environment (default: the SDK's chain)")
		cfg       Config
		keyFile   = fs.String("private-key", "", "PEM or JWK file of the backend client's private key (RSA 2048+ for RS384, or P-384 for ES384)")
		keySecret = fs.String("private-key-secret", "", "Secrets Manager secret id holding the private key instead (PEM, JWK, or {\"privateKey\", \"keyId\"})")
		keyID     = fs.String("key-id", "", "kid of the client's registered public key (default: the secret's keyId or the JWK's kid; none for PEM, with a warning: Okta refuses a kid-less assertion when the client has two keys)")
		version   = fs.String("smart-version", "", "the data store's SMART version, v1 (SMART_ON_FHIR_V1) or v2 (SMART_ON_FHIR), which its SMART configuration must advertise (default: with --stack, DescribeFHIRDatastore of its DatastoreId; else unknown, and a served v2 scope proves v2)")
		caFile    = fs.String("ca-file", "", "PEM certificates to trust besides the system's (the sandbox's CA)")
		jsonOut   = fs.Bool("json", false, "write the report as JSON (for CI) instead of text")
		timeout   = fs.Duration("timeout", 10*time.Second, "timeout of each HTTP request")
		ehrLaunch = fs.Bool("ehr-launch", false, "also run the ehr-launch check: POST /launch signed with SigV4 by the default AWS credentials (one of the EHR roles), then the authorize proxy (needs --ehr-client-id, --ehr-redirect-uri, --ehr-patient)")
		ehr       EHRLaunch
	)
	fs.StringVar(&cfg.EHRLaunchAPI, "ehr-launch-api", "", "base URL of the EHR launch API, whose authorize, token and introspection proxies the SMART configuration may advertise (default: the stack's EhrLaunchApiUrl)")
	fs.StringVar(&ehr.ClientID, "ehr-client-id", "", "with --ehr-launch: an app the EHR launch API launches (a public one, or a confidential one with its secret in $"+EnvEHRClientSecret+")")
	fs.StringVar(&ehr.RedirectURI, "ehr-redirect-uri", "", "with --ehr-launch: a redirect URI registered for --ehr-client-id (smartcheck never calls it)")
	fs.StringVar(&ehr.OtherClientID, "ehr-other-client-id", "", "with --ehr-launch: another app the API launches, whose launch --ehr-client-id must be refused (default: not tried)")
	fs.StringVar(&ehr.Patient, "ehr-patient", "", "with --ehr-launch: the test context's patient id")
	fs.StringVar(&ehr.Scope, "ehr-scope", "", "with --ehr-launch: the scopes to request (default: launch openid fhirUser patient/Patient.rs patient/Observation.rs, .read on SMART v1)")
	fs.StringVar(&cfg.FHIREndpoint, "fhir-endpoint", "", "FHIR base URL of the data store (default: the stack's FhirEndpoint)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "authorization server issuer (default: the stack's Issuer)")
	fs.StringVar(&cfg.TokenEndpoint, "token-endpoint", "", "token endpoint (default: the SMART configuration's)")
	fs.StringVar(&cfg.Audience, "audience", "", "aud the access tokens must carry, for a deployment whose validator lists it in SMART_AUDIENCES (default: the FHIR endpoint)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "backend service client id (default: the stack's BackendClientId)")
	fs.StringVar(&cfg.Scope, "scope", "", "scopes to request; one must allow a search (default: system/Patient.rs, or system/Patient.read on a SMART v1 data store)")
	fs.StringVar(&cfg.ForbiddenType, "forbidden-type", "", "a resource type the scope must not reach (default: a common type it does not cover)")
	fs.IntVar(&cfg.Calls, "calls", 5, "searches the p50 latency is taken over")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "smartcheck: "+format+"\n", a...)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	if *keyFile != "" && *keySecret != "" {
		return usage("give --private-key or --private-key-secret, not both")
	}
	switch v := smart.Version(*version); v {
	case "", smart.V1, smart.V2:
		cfg.SmartVersion = v
	default:
		return usage("--smart-version must be v1 or v2, not %q", *version)
	}

	if *ehrLaunch && (ehr.ClientID == "" || ehr.RedirectURI == "" || ehr.Patient == "") {
		return usage("--ehr-launch needs --ehr-client-id, --ehr-redirect-uri and --ehr-patient")
	}
	if *stack != "" || *keySecret != "" || *ehrLaunch {
		var opts []func(*config.LoadOptions) error
		if *region != "" {
			opts = append(opts, config.WithRegion(*region))
		}
		if *profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(*profile))
		}
		awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return usage("loading AWS credentials: %v", err)
		}
		if *stack != "" {
			outputs, err := StackOutputs(ctx, cloudformation.NewFromConfig(awsCfg), *stack)
			if err != nil {
				return usage("%v", err)
			}
			if err := ApplyOutputs(&cfg, outputs); err != nil {
				return usage("stack %s: %v", *stack, err)
			}
			if id := outputs[OutputDatastoreID]; cfg.SmartVersion == "" && id != "" {
				if cfg.SmartVersion, err = DatastoreVersion(ctx, healthlake.NewFromConfig(awsCfg), id); err != nil {
					return usage("%v", err)
				}
			}
		}
		if *ehrLaunch {
			ehr.Credentials, ehr.Region = awsCfg.Credentials, awsCfg.Region
			// A secret is not a flag: flags show in ps and shell history.
			ehr.ClientSecret = os.Getenv(EnvEHRClientSecret)
			cfg.EHRLaunch = &ehr
		}
		if *keySecret != "" {
			if cfg.Key, err = SecretKey(ctx, secretsmanager.NewFromConfig(awsCfg), *keySecret); err != nil {
				return usage("%v", err)
			}
		}
	}
	if *keyFile != "" {
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return usage("reading the private key: %v", err)
		}
		if cfg.Key, err = ParseClientKey(data); err != nil {
			return usage("%s: %v", *keyFile, err)
		}
	}
	if *keyID != "" {
		cfg.Key.KeyID = *keyID
	}
	if cfg.FHIREndpoint == "" || cfg.Issuer == "" {
		return usage("give --stack, or --fhir-endpoint and --issuer")
	}

	client, err := httpClient(*caFile, *timeout)
	if err != nil {
		return usage("%v", err)
	}
	cfg.HTTPClient = client
	rep := Run(ctx, cfg)
	if *jsonOut {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "smartcheck: writing the report:", err)
	}
	if !rep.Passed {
		return ExitFailed
	}
	return ExitOK
}

func httpClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("--ca-file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
