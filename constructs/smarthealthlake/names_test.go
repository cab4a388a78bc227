package smarthealthlake_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// datastoreNames are the DatastoreName properties of the stack's data stores.
func datastoreNames(t *testing.T, stack awscdk.Stack) []string {
	t.Helper()
	var names []string
	for _, r := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "Custom::SmartHealthLakeDatastore") {
		names = append(names, r.Properties[datastoreprops.PropDatastoreName].(string))
	}
	slices.Sort(names)
	return names
}

// dashboardNames are the DashboardName properties of the stack's dashboards.
func dashboardNames(t *testing.T, stack awscdk.Stack) []string {
	t.Helper()
	var names []string
	for _, r := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::CloudWatch::Dashboard") {
		names = append(names, r.Properties["DashboardName"].(string))
	}
	slices.Sort(names)
	return names
}

// defaultNameWarnings are the stack's warnings about default data store names.
func defaultNameWarnings(t *testing.T, stack awscdk.Stack) []string {
	t.Helper()
	var out []string
	for _, m := range *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_AnyValue()) {
		if msg, ok := m.Entry.Data.(string); ok && strings.Contains(msg, "props.DatastoreName is unset") {
			out = append(out, msg)
		}
	}
	return out
}

// okta is the smallest Okta props under its own construct ids, so that two
// composites can share a stack.
func okta(stack awscdk.Stack, id string) *smarthealthlake.SmartHealthLakeProps {
	return &smarthealthlake.SmartHealthLakeProps{
		OktaOrgUrl:           jsii.String("https://clinic.okta.com"),
		OktaCredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String(id+"Cred"), jsii.String("clinic/okta")),
	}
}

func TestDefaultDatastoreNames(t *testing.T) {
	t.Run("a stack's only SmartHealthLake keeps the name deployed stacks have, <stack>-fhir", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
		require.Equal(t, []string{"Clinic-fhir"}, datastoreNames(t, stack))
		require.Empty(t, defaultNameWarnings(t, stack))
	})
	t.Run("two in one stack get a name each, from their construct ids", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), okta(stack, "Smart"))
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research"), okta(stack, "Research"))
		require.Equal(t, []string{"Clinic-Research-fhir", "Clinic-Smart-fhir"}, datastoreNames(t, stack))
		warnings := defaultNameWarnings(t, stack)
		require.Len(t, warnings, 2, "one per data store named by default")
		require.Contains(t, warnings[0], `would be renamed: set props.DatastoreName to keep it`)
	})
	t.Run("one named explicitly beside one by default: the default names itself by its id", func(t *testing.T) {
		stack := newStack(t)
		p := okta(stack, "Smart")
		p.DatastoreName = jsii.String("Clinic-fhir")
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research"), okta(stack, "Research"))
		require.Equal(t, []string{"Clinic-Research-fhir", "Clinic-fhir"}, datastoreNames(t, stack))
		warnings := defaultNameWarnings(t, stack)
		require.Len(t, warnings, 1, "the explicitly named one is not warned about")
		require.Contains(t, warnings[0], `"Clinic-Research-fhir"`)
	})
	t.Run("two of one construct id under different parents get names of their own, from their paths", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(constructs.NewConstruct(stack, jsii.String("TeamA")), jsii.String("Smart"), okta(stack, "A"))
		smarthealthlake.NewSmartHealthLake(constructs.NewConstruct(stack, jsii.String("TeamB")), jsii.String("Smart"), okta(stack, "B"))
		require.Equal(t, []string{"Clinic-TeamA-Smart-fhir", "Clinic-TeamB-Smart-fhir"}, datastoreNames(t, stack))
		require.Equal(t, []string{"Clinic-TeamA-Smart-us-east-1", "Clinic-TeamB-Smart-us-east-1"}, dashboardNames(t, stack),
			"dashboard names are unique in the account")
		warnings := defaultNameWarnings(t, stack)
		require.Len(t, warnings, 2)
		require.Contains(t, strings.Join(warnings, "\n"), `"Clinic-TeamA-Smart-fhir"`, "the warning names the value the template has")
	})
	t.Run("a stack's only one under a construct keeps <stack>-fhir and <stack>-<id>", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(constructs.NewConstruct(stack, jsii.String("TeamA")), jsii.String("Smart"), okta(stack, "A"))
		require.Equal(t, []string{"Clinic-fhir"}, datastoreNames(t, stack))
		require.Equal(t, []string{"Clinic-Smart-us-east-1"}, dashboardNames(t, stack))
		require.Empty(t, defaultNameWarnings(t, stack))
	})
	t.Run("a second one with names of its own does not rename the first", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), okta(stack, "Smart"))
		p := okta(stack, "Research")
		p.DatastoreName = jsii.String("research-fhir")
		p.DashboardName = jsii.String("research-ops")
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research"), p)
		require.Equal(t, []string{"Clinic-fhir", "research-fhir"}, datastoreNames(t, stack))
		require.Equal(t, []string{"Clinic-Smart-us-east-1", "research-ops"}, dashboardNames(t, stack))
		require.Empty(t, defaultNameWarnings(t, stack))
	})
	t.Run("one per stack in one app: each stack's keeps <stack>-fhir", func(t *testing.T) {
		app := cdktest.NewApp(t, nil)
		a, b := cdktest.NewStackIn(app, "ClinicA"), cdktest.NewStackIn(app, "ClinicB")
		smarthealthlake.NewSmartHealthLake(a, jsii.String("Smart"), smallest(a))
		smarthealthlake.NewSmartHealthLake(b, jsii.String("Smart"), smallest(b))
		require.Equal(t, []string{"ClinicA-fhir"}, datastoreNames(t, a))
		require.Equal(t, []string{"ClinicB-fhir"}, datastoreNames(t, b))
	})
	t.Run("a default HealthLake would refuse fails synthesis, naming the prop", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), okta(stack, "Smart"))
		// The dashboard's name, by default from the id too, would refuse the id first.
		p := okta(stack, "Research")
		p.DashboardName = jsii.String("Research")
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research#2"), p)
		msg := cdktest.Panics(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
		require.Contains(t, msg, `props.DatastoreName is unset and its default must be 1-256 letters`)
		require.Contains(t, msg, `"Clinic-Research#2-fhir"`)
	})
	t.Run("a default dashboard name CloudWatch would refuse fails synthesis, naming the prop", func(t *testing.T) {
		stack := newStack(t)
		p := okta(stack, "Research")
		p.DatastoreName = jsii.String("research-fhir")
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research#2"), p)
		msg := cdktest.Panics(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
		require.Contains(t, msg, `props.DashboardName is unset and its default "Clinic-Research#2-us-east-1" is not a CloudWatch dashboard name`)
	})
}

// dashboardNotes are the stack's info messages about default dashboard names.
func dashboardNotes(t *testing.T, stack awscdk.Stack) []string {
	t.Helper()
	var out []string
	for _, m := range *assertions.Annotations_FromStack(stack).FindInfo(jsii.String("*"), assertions.Match_AnyValue()) {
		if msg, ok := m.Entry.Data.(string); ok && strings.Contains(msg, "props.DashboardName is unset") {
			out = append(out, msg)
		}
	}
	return out
}

func TestDefaultDashboardNamesHoldTheRegion(t *testing.T) {
	t.Run("a stack's only SmartHealthLake names its dashboard <stack>-<id>-<region>", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
		require.Equal(t, []string{"Clinic-Smart-" + cdktest.Region}, dashboardNames(t, stack))
	})
	t.Run("stacks of one name in two regions of one account get dashboards of their own", func(t *testing.T) {
		app := cdktest.NewApp(t, nil)
		in := func(id, region string) awscdk.Stack {
			return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{StackName: jsii.String("Clinic"),
				Env: &awscdk.Environment{Account: jsii.String(cdktest.Account), Region: jsii.String(region)}})
		}
		east, west := in("East", "us-east-1"), in("West", "eu-west-1")
		smarthealthlake.NewSmartHealthLake(east, jsii.String("Smart"), smallest(east))
		smarthealthlake.NewSmartHealthLake(west, jsii.String("Smart"), smallest(west))
		require.Equal(t, []string{"Clinic-Smart-us-east-1"}, dashboardNames(t, east))
		require.Equal(t, []string{"Clinic-Smart-eu-west-1"}, dashboardNames(t, west),
			"dashboard names are global to the account: the same name would be one dashboard")
	})
	t.Run("a stack without a region names it with the region it is deployed in", func(t *testing.T) {
		stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Clinic"), nil)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
		_, d := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::CloudWatch::Dashboard")
		require.Equal(t, map[string]any{"Fn::Join": []any{"", []any{"Clinic-Smart-", map[string]any{"Ref": "AWS::Region"}}}},
			d.Properties["DashboardName"])
	})
	t.Run("the default says that earlier versions named the dashboard without the region, an explicit name does not", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
		notes := dashboardNotes(t, stack)
		require.Len(t, notes, 1)
		require.Contains(t, notes[0], `the dashboard is named "Clinic-Smart-us-east-1"`, "the note names the value the template has")
		require.Contains(t, notes[0], `set props.DashboardName to "Clinic-Smart" to keep that name`)

		kept := newStack(t)
		p := smallest(kept)
		p.DashboardName = jsii.String("Clinic-Smart")
		smarthealthlake.NewSmartHealthLake(kept, jsii.String("Smart"), p)
		require.Equal(t, []string{"Clinic-Smart"}, dashboardNames(t, kept))
		require.Empty(t, dashboardNotes(t, kept), "an explicit name is not noted")
	})
	t.Run("an explicit name equal to the default with its region takes it from the default, the old name does not", func(t *testing.T) {
		stack := newStack(t)
		smarthealthlake.NewSmartHealthLake(constructs.NewConstruct(stack, jsii.String("TeamA")), jsii.String("Smart"), okta(stack, "A"))
		p := okta(stack, "B")
		p.DatastoreName = jsii.String("research-fhir")
		p.DashboardName = jsii.String("Clinic-Smart-us-east-1")
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Research"), p)
		require.Equal(t, []string{"Clinic-Smart-us-east-1", "Clinic-TeamA-Smart-us-east-1"}, dashboardNames(t, stack))

		kept := newStack(t)
		smarthealthlake.NewSmartHealthLake(constructs.NewConstruct(kept, jsii.String("TeamA")), jsii.String("Smart"), okta(kept, "A"))
		p = okta(kept, "B")
		p.DatastoreName = jsii.String("research-fhir")
		p.DashboardName = jsii.String("Clinic-Smart") // the name the first had before the region was added
		smarthealthlake.NewSmartHealthLake(kept, jsii.String("Research"), p)
		require.Equal(t, []string{"Clinic-Smart", "Clinic-Smart-us-east-1"}, dashboardNames(t, kept))
	})
	t.Run("a default that a long region would make too long fails synthesis when the region is a token", func(t *testing.T) {
		// "Clinic-" and a 230-character id: 237 characters, 247 with
		// "-us-east-1", more than 255 with a region of up to 20.
		id := strings.Repeat("A", 230)
		stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Clinic"), nil)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String(id), smallest(stack))
		msg := cdktest.Panics(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
		require.Contains(t, msg, `props.DashboardName is unset and its default "Clinic-`+id+`-<region>" is not a CloudWatch dashboard name`)

		regional := newStack(t)
		smarthealthlake.NewSmartHealthLake(regional, jsii.String(id), smallest(regional))
		require.Equal(t, []string{"Clinic-" + id + "-us-east-1"}, dashboardNames(t, regional), "a known region is counted as it is")
	})
}
