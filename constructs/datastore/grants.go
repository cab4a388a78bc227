package datastore

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/servicerole"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/internal/jsiiptr"
)

// ISmartDatastore is a SMART HealthLake data store, made by this stack
// (SmartDatastore) or elsewhere (SmartDatastore_FromDatastoreAttributes): what
// other constructs reference and how they get access to its FHIR data.
type ISmartDatastore interface {
	constructs.IConstruct
	// DatastoreId is the HealthLake data store id.
	DatastoreId() *string
	// DatastoreArn is the data store's ARN
	// (arn:<partition>:healthlake:<region>:<account>:datastore/fhir/<id>).
	DatastoreArn() *string
	// DatastoreEndpoint is the FHIR base URL, ending with "/".
	DatastoreEndpoint() *string
	// EncryptionKey is the data store's customer-managed key, or nil for an
	// AWS-owned key (or one not given to the import).
	EncryptionKey() awskms.IKey
	// Grant lets grantee perform actions on this data store (its ARN only).
	Grant(grantee awsiam.IGrantable, actions ...*string) awsiam.Grant
	// GrantRead lets grantee read and search the FHIR data with SigV4:
	// healthlake:ReadResource, SearchWithGet, SearchWithPost and
	// GetCapabilities (servicerole.ReadActions), on this data store only, as
	// the Service Authorization Reference for HealthLake lists them on the
	// datastore resource type
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awshealthlake.html).
	GrantRead(grantee awsiam.IGrantable) awsiam.Grant
	// GrantReadWrite adds CreateResource, UpdateResource and DeleteResource
	// (servicerole.WriteActions).
	GrantReadWrite(grantee awsiam.IGrantable) awsiam.Grant
}

// The key actions each grant adds with a customer-managed key: HealthLake
// decrypts (read) and generates data keys (write) with the caller's rights.
var (
	readKeyActions      = []string{"kms:DescribeKey", "kms:Decrypt"}
	readWriteKeyActions = []string{"kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"}
)

func grantOn(d ISmartDatastore, grantee awsiam.IGrantable, actions []*string) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      &actions,
		ResourceArns: &[]*string{d.DatastoreArn()},
	})
}

func grantRead(d ISmartDatastore, grantee awsiam.IGrantable) awsiam.Grant {
	return grantWithKey(d, grantee, servicerole.ReadActions(), readKeyActions)
}

func grantReadWrite(d ISmartDatastore, grantee awsiam.IGrantable) awsiam.Grant {
	return grantWithKey(d, grantee, slices.Concat(servicerole.ReadActions(), servicerole.WriteActions()), readWriteKeyActions)
}

// grantWithKey grants the FHIR actions on the data store and, with a
// customer-managed key, the key actions on that key through HealthLake only.
func grantWithKey(d ISmartDatastore, grantee awsiam.IGrantable, fhirActions, keyActions []string) awsiam.Grant {
	g := grantOn(d, grantee, *jsii.Strings(fhirActions...))
	key := d.EncryptionKey()
	if key == nil {
		return g
	}
	// HealthLake uses the key in the data store's region, which for an
	// imported one need not be the stack's.
	region := awscdk.Stack_Of(d).Region()
	if r, ok := d.(interface{ datastoreRegion() *string }); ok {
		region = r.datastoreRegion()
	}
	return g.Combine(awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(keyActions...),
		ResourceArns: &[]*string{key.KeyArn()},
		Conditions: &map[string]*map[string]any{
			"StringEquals": jsiiptr.To(viaHealthLake(region)),
		},
	}))
}

// SmartDatastoreAttributes describe a data store made elsewhere.
type SmartDatastoreAttributes struct {
	// DatastoreId is the HealthLake data store id (32 lowercase hex digits).
	// Required.
	DatastoreId *string
	// Region of the data store.
	// Default: the stack's region.
	Region *string
	// Account of the data store.
	// Default: the stack's account.
	Account *string
	// DatastoreEndpoint is the FHIR base URL.
	// Default: https://healthlake.<region>.<URL suffix>/datastore/<id>/r4/,
	// the form HealthLake's endpoints take.
	DatastoreEndpoint *string
	// EncryptionKey is the data store's customer-managed key, so the grants
	// include its use through HealthLake.
	// Default: none (an AWS-owned key, which needs no grant).
	EncryptionKey awskms.IKey
}

// datastoreIDPattern is the shape of the ids HealthLake issues (32 lowercase
// hex digits; the data store ARN's datastore/fhir/.{32} fixes the length).
var datastoreIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// regionPattern and accountPattern check literal attributes.
var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	accountPattern = regexp.MustCompile(`^\d{12}$`)
)

// importedDatastore is a data store this app does not manage.
type importedDatastore struct {
	constructs.Construct
	id, arn, endpoint, region *string
	key                       awskms.IKey
}

// datastoreRegion is where the imported data store, and so HealthLake's use
// of its key, is.
func (d *importedDatastore) datastoreRegion() *string { return d.region }

// SmartDatastore_FromDatastoreAttributes references a data store made
// elsewhere, for its attributes and grants. It panics, naming the attribute,
// on invalid attributes (literal values only; tokens are taken as they are).
func SmartDatastore_FromDatastoreAttributes(scope constructs.Construct, id *string, attrs *SmartDatastoreAttributes) ISmartDatastore {
	if err := attrs.validate(); err != nil {
		panic(fmt.Sprintf("datastore.SmartDatastore_FromDatastoreAttributes(%s): %v", jsiiptr.Value(id), err))
	}
	d := &importedDatastore{id: attrs.DatastoreId, key: attrs.EncryptionKey}
	constructs.NewConstruct_Override(d, scope, id)
	stack := awscdk.Stack_Of(d)
	region := attrs.Region
	if region == nil {
		region = stack.Region()
	}
	d.region = region
	d.arn = stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("healthlake"),
		Region:       region,
		Account:      attrs.Account, // nil: the stack's
		Resource:     jsii.String("datastore"),
		ResourceName: jsii.String("fhir/" + *attrs.DatastoreId),
	})
	d.endpoint = attrs.DatastoreEndpoint
	if d.endpoint == nil {
		d.endpoint = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("https://healthlake."), region, jsii.String("."), stack.UrlSuffix(),
			jsii.String("/datastore/"), attrs.DatastoreId, jsii.String("/r4/"),
		})
	}
	return d
}

func (a *SmartDatastoreAttributes) validate() error {
	if a == nil || a.DatastoreId == nil || *a.DatastoreId == "" {
		return fmt.Errorf("attrs.DatastoreId is required")
	}
	var errs []string
	if isLiteral(a.DatastoreId) && !datastoreIDPattern.MatchString(*a.DatastoreId) {
		errs = append(errs, fmt.Sprintf("attrs.DatastoreId must be a HealthLake data store id (32 lowercase hex digits), got %q", *a.DatastoreId))
	}
	if a.Region != nil && isLiteral(a.Region) && !regionPattern.MatchString(*a.Region) {
		errs = append(errs, fmt.Sprintf("attrs.Region must be a region such as us-east-1, got %q", *a.Region))
	}
	if a.Account != nil && isLiteral(a.Account) && !accountPattern.MatchString(*a.Account) {
		errs = append(errs, fmt.Sprintf("attrs.Account must be a 12-digit account id, got %q", *a.Account))
	}
	if e := a.DatastoreEndpoint; e != nil && isLiteral(e) {
		if err := checkEndpoint(*e); err != nil {
			errs = append(errs, "attrs.DatastoreEndpoint "+err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (d *importedDatastore) DatastoreId() *string       { return d.id }
func (d *importedDatastore) DatastoreArn() *string      { return d.arn }
func (d *importedDatastore) DatastoreEndpoint() *string { return d.endpoint }
func (d *importedDatastore) EncryptionKey() awskms.IKey { return d.key }

func (d *importedDatastore) Grant(grantee awsiam.IGrantable, actions ...*string) awsiam.Grant {
	return grantOn(d, grantee, actions)
}

func (d *importedDatastore) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return grantRead(d, grantee)
}

func (d *importedDatastore) GrantReadWrite(grantee awsiam.IGrantable) awsiam.Grant {
	return grantReadWrite(d, grantee)
}

// The data store made here is one too.
var _ ISmartDatastore = (*SmartDatastore)(nil)

// checkEndpoint is HealthLake's form of a data store endpoint: the contract's
// rule on https URLs, and the trailing "/" HealthLake's own endpoints have
// (the token validator compares the audience byte for byte).
func checkEndpoint(e string) error {
	if httpsurl.Check(e) != nil {
		return fmt.Errorf("must be an absolute https URL without user info or fragment, got %q", httpsurl.Redact(e))
	}
	if !strings.HasSuffix(e, "/") {
		return fmt.Errorf("must end with /, as HealthLake's endpoints do, got %q", e)
	}
	return nil
}
