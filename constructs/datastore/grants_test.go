package datastore_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

const importedID = "65e74e6cd81e2afd862c4e9dc0b159c1"

func newCaller(stack awscdk.Stack) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String("Caller"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(cdktest.Account)),
	})
}

// callerStatements are the Caller role's statements.
func callerStatements(t *testing.T, stack awscdk.Stack) []cdktest.Statement {
	t.Helper()
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	return cdktest.RoleStatements(t, all, findByPrefix(t, cdktest.OfType(all, "AWS::IAM::Role"), "Caller"))
}

func TestGrantGivesExactlyTheActionsAskedForOnThisDatastore(t *testing.T) {
	stack := newStack(t)
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	var i datastore.ISmartDatastore = ds
	g := i.Grant(newCaller(stack), jsii.String("healthlake:StartFHIRExportJobWithPost"))
	require.True(t, *g.Success())

	all := cdktest.Resources(t, cdktest.Template(t, stack))
	crID, _ := cdktest.Only(t, all, datastore.ResourceType)
	got := callerStatements(t, stack)
	require.Len(t, got, 1)
	require.Equal(t, []string{"healthlake:StartFHIRExportJobWithPost"}, got[0].Actions)
	require.Equal(t, []any{cdktest.GetAtt(crID, "DatastoreArn")}, got[0].Resources)
}

func TestAnImportedDatastore(t *testing.T) {
	t.Run("defaults to the stack's region and account, and HealthLake's endpoint form", func(t *testing.T) {
		stack := newStack(t)
		ds := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), &datastore.SmartDatastoreAttributes{
			DatastoreId: jsii.String(importedID),
		})
		require.Equal(t, importedID, *ds.DatastoreId())
		require.Nil(t, ds.EncryptionKey())
		require.Equal(t, "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/"+importedID, cdktest.Resolved(t, stack, ds.DatastoreArn()))
		endpoint := cdktest.Resolved(t, stack, ds.DatastoreEndpoint())
		require.Equal(t, map[string]any{"Fn::Join": []any{"", []any{
			"https://healthlake.us-east-1.", map[string]any{"Ref": "AWS::URLSuffix"}, "/datastore/" + importedID + "/r4/",
		}}}, endpoint)
	})

	t.Run("takes the region, account and endpoint it is given", func(t *testing.T) {
		stack := newStack(t)
		ds := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), &datastore.SmartDatastoreAttributes{
			DatastoreId:       jsii.String(importedID),
			Region:            jsii.String("eu-west-2"),
			Account:           jsii.String("210987654321"),
			DatastoreEndpoint: jsii.String("https://healthlake.eu-west-2.amazonaws.com/datastore/" + importedID + "/r4/"),
		})
		require.Equal(t, "arn:aws:healthlake:eu-west-2:210987654321:datastore/fhir/"+importedID, cdktest.Resolved(t, stack, ds.DatastoreArn()))
		require.Equal(t, "https://healthlake.eu-west-2.amazonaws.com/datastore/"+importedID+"/r4/", *ds.DatastoreEndpoint())
	})

	for name, c := range map[string]struct {
		readWrite bool
		fhir      []string
	}{
		"GrantRead reads and searches": {false, []string{"healthlake:ReadResource", "healthlake:SearchWithGet",
			"healthlake:SearchWithPost", "healthlake:GetCapabilities"}},
		"GrantReadWrite also creates, updates and deletes": {true, []string{"healthlake:ReadResource", "healthlake:SearchWithGet",
			"healthlake:SearchWithPost", "healthlake:GetCapabilities",
			"healthlake:CreateResource", "healthlake:UpdateResource", "healthlake:DeleteResource"}},
	} {
		t.Run(name+" on that data store only, and uses its key through HealthLake", func(t *testing.T) {
			stack := newStack(t)
			key := awskms.Key_FromKeyArn(stack, jsii.String("Key"),
				jsii.String("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
			ds := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), &datastore.SmartDatastoreAttributes{
				DatastoreId: jsii.String(importedID), EncryptionKey: key,
			})
			caller := newCaller(stack)
			if c.readWrite {
				ds.GrantReadWrite(caller)
			} else {
				ds.GrantRead(caller)
			}
			got := callerStatements(t, stack)
			require.Len(t, got, 2)
			fhir, kms := got[0], got[1]
			if kms.Actions[0][:4] != "kms:" {
				fhir, kms = kms, fhir
			}
			require.ElementsMatch(t, c.fhir, fhir.Actions)
			require.Equal(t, []any{"arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + importedID}, fhir.Resources, "that data store only")
			require.Equal(t, []any{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, kms.Resources)
			require.Equal(t, map[string]any{"StringEquals": viaHealthLake}, kms.Condition)
		})
	}

	t.Run("in another region, its key is used through HealthLake of that region", func(t *testing.T) {
		stack := newStack(t) // us-east-1
		key := awskms.Key_FromKeyArn(stack, jsii.String("Key"),
			jsii.String("arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
		ds := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), &datastore.SmartDatastoreAttributes{
			DatastoreId: jsii.String(importedID), Region: jsii.String("eu-west-2"), EncryptionKey: key,
		})
		ds.GrantRead(newCaller(stack))
		var kms *cdktest.Statement
		for _, st := range callerStatements(t, stack) {
			if strings.HasPrefix(st.Actions[0], "kms:") {
				kms = &st
			}
		}
		require.NotNil(t, kms)
		require.Equal(t, map[string]any{"StringEquals": map[string]any{"kms:ViaService": []any{
			"healthlake.eu-west-2.amazonaws.com", "healthlake.amazonaws.com"}}}, kms.Condition,
			"HealthLake calls KMS from the data store's region, not the stack's")
	})

	for name, c := range map[string]struct {
		attrs *datastore.SmartDatastoreAttributes
		want  string
	}{
		"no attributes":     {nil, "attrs.DatastoreId is required"},
		"no id":             {&datastore.SmartDatastoreAttributes{}, "attrs.DatastoreId is required"},
		"a name, not an id": {&datastore.SmartDatastoreAttributes{DatastoreId: jsii.String("patients")}, `attrs.DatastoreId must be a HealthLake data store id (32 lowercase hex digits), got "patients"`},
		"a bad region": {&datastore.SmartDatastoreAttributes{DatastoreId: jsii.String(importedID), Region: jsii.String("useast1")},
			`attrs.Region must be a region such as us-east-1, got "useast1"`},
		"a bad account": {&datastore.SmartDatastoreAttributes{DatastoreId: jsii.String(importedID), Account: jsii.String("1234")},
			`attrs.Account must be a 12-digit account id, got "1234"`},
		"an endpoint without its trailing slash": {&datastore.SmartDatastoreAttributes{DatastoreId: jsii.String(importedID),
			DatastoreEndpoint: jsii.String("https://healthlake.us-east-1.amazonaws.com/datastore/" + importedID + "/r4")},
			"attrs.DatastoreEndpoint must end with /"},
		"an http endpoint": {&datastore.SmartDatastoreAttributes{DatastoreId: jsii.String(importedID),
			DatastoreEndpoint: jsii.String("http://healthlake.us-east-1.amazonaws.com/datastore/" + importedID + "/r4/")},
			"attrs.DatastoreEndpoint must be an absolute https URL"},
	} {
		t.Run("refused, naming the attribute: "+name, func(t *testing.T) {
			stack := newStack(t)
			msg := cdktest.Panics(t, func() {
				datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), c.attrs)
			})
			require.Contains(t, msg, c.want)
			require.Contains(t, msg, "SmartDatastore_FromDatastoreAttributes(Imported)")
		})
	}

	t.Run("a token id is taken as it is", func(t *testing.T) {
		stack := newStack(t)
		id := awscdk.NewCfnParameter(stack, jsii.String("DatastoreId"), nil).ValueAsString()
		ds := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Imported"), &datastore.SmartDatastoreAttributes{DatastoreId: id})
		require.Equal(t, cdktest.Ref("DatastoreId"), cdktest.Resolved(t, stack, ds.DatastoreId()))
	})
}
