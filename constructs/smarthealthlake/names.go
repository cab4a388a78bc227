package smarthealthlake

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
)

// The default names. Data store names are unique per account and region,
// dashboard names per account: "All dashboards in your account are global,
// not region-specific" (CloudWatch API reference, PutDashboard; the
// CloudFormation reference of AWS::CloudWatch::Dashboard says the same), so
// two SmartHealthLakes of one stack must not default to the same, and a
// default dashboard name ends with the stack's region ("-<region>", a
// token resolved at deploy time for a stack without one): two stacks of one
// name in two regions of an account would otherwise share a dashboard (the
// second one's creation fails, or PutDashboard, which overwrites a
// dashboard of the name it is given, replaces the first one's). A stack's
// only SmartHealthLake named by default keeps the data store name it
// always had, "<stack>-fhir", and the dashboard name "<stack>-<construct
// id>-<region>"; with more than one named by default in the stack, each is
// named after its path in the stack ("<stack>-<path>-fhir",
// "<stack>-<path>-<region>", the path's "/" turned into "-", as
// constructs/oktaauth names its server): construct ids are unique among
// siblings only, so two composites of the same id under different parents
// would otherwise share a name. A composite with an explicit name does not
// count, and an explicit name equal to "<stack>-fhir" (or
// "<stack>-<id>-<region>") takes that name away from the default. How many there are is known only
// once the app is built, so the names are uncached lazy values, resolved at
// synthesis, and a validation (which computes the same value, so its
// warning and the template agree) refuses a default the service would
// refuse (a construct id may hold characters HealthLake or CloudWatch
// refuse).

// uncached is a value computed each time it is resolved.
type uncached struct{ produce func() *string }

// Produce implements awscdk.IStringProducer.
func (u *uncached) Produce(awscdk.IResolveContext) *string { return u.produce() }

func uncachedString(f func() *string) *string {
	return awscdk.Lazy_UncachedString(&uncached{f}, nil)
}

// compositeMarker is the construct metadata that marks a SmartHealthLake in
// the tree, with whether its names are defaults and its explicit literal
// names: the constructs a node search returns are jsii proxies, never the Go
// values, so a type assertion cannot find them. It reaches the cloud
// assembly's manifest only, never a template.
const compositeMarker = "smart-healthlake:composite"

// The keys of the marker's data.
const (
	markDefaultDatastore = "defaultDatastoreName"
	markDatastoreName    = "datastoreName"
	markDefaultDashboard = "defaultDashboardName"
	markDashboardName    = "dashboardName"
)

// markComposite marks every SmartHealthLake, named by default or not, from
// the props as the user gave them.
func (s *SmartHealthLake) markComposite(p settings) {
	literal := func(v *string) string {
		if v == nil || *awscdk.Token_IsUnresolved(v) {
			return ""
		}
		return *v
	}
	s.Node().AddMetadata(jsii.String(compositeMarker), map[string]any{
		markDefaultDatastore: p.DatastoreName == nil,
		markDatastoreName:    literal(p.DatastoreName),
		markDefaultDashboard: p.DashboardName == nil,
		markDashboardName:    literal(p.DashboardName),
	}, nil)
}

// composite is what a marker says of one SmartHealthLake.
type composite struct {
	defaultDatastore, defaultDashboard bool
	datastoreName, dashboardName       string
}

// composites are the marked SmartHealthLakes of s's stack (not of a nested
// one), s included.
func (s *SmartHealthLake) composites() []composite {
	stack := awscdk.Stack_Of(s)
	var out []composite
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if *awscdk.Stack_Of(c).Node().Path() != *stack.Node().Path() {
			continue
		}
		for _, m := range *c.Node().Metadata() {
			if m.Type == nil || *m.Type != compositeMarker {
				continue
			}
			data, _ := m.Data.(map[string]any)
			x := composite{}
			x.defaultDatastore, _ = data[markDefaultDatastore].(bool)
			x.defaultDashboard, _ = data[markDefaultDashboard].(bool)
			x.datastoreName, _ = data[markDatastoreName].(string)
			x.dashboardName, _ = data[markDashboardName].(string)
			out = append(out, x)
		}
	}
	return out
}

// byPath is the stack name and s's path in the stack, joined with "-".
func (s *SmartHealthLake) byPath() string {
	return *awscdk.Stack_Of(s).StackName() + "-" + strings.ReplaceAll(*awscdk.Names_StackRelativeConstructPath(s), "/", "-")
}

// keepsStackName says whether s takes the name a stack's only
// SmartHealthLake had (own): it is the only one named by default, and no
// other has that name explicitly.
func (s *SmartHealthLake) keepsStackName(own string, isDefault func(composite) bool, name func(composite) string) bool {
	n := 0
	for _, c := range s.composites() {
		if isDefault(c) {
			n++
		} else if name(c) == own {
			return false
		}
	}
	return n <= 1
}

func (s *SmartHealthLake) defaultName() string {
	own := *awscdk.Stack_Of(s).StackName() + "-fhir"
	if s.keepsStackName(own, func(c composite) bool { return c.defaultDatastore }, func(c composite) string { return c.datastoreName }) {
		return own
	}
	return s.byPath() + "-fhir"
}

// dashboardBase is the default dashboard name without its region: the
// whole default before the region was added (see the defaults above).
// An explicit name takes the default away when it equals the default with
// its region: that is the name that would clash.
func (s *SmartHealthLake) dashboardBase() string {
	own := *awscdk.Stack_Of(s).StackName() + "-" + *s.Node().Id()
	taken := own + "-" + *awscdk.Stack_Of(s).Region()
	if s.keepsStackName(taken, func(c composite) bool { return c.defaultDashboard }, func(c composite) string { return c.dashboardName }) {
		return own
	}
	return s.byPath()
}

// defaultDashboard is dashboardBase and the stack's region (a token when
// the stack has none).
func (s *SmartHealthLake) defaultDashboard() string {
	return s.dashboardBase() + "-" + *awscdk.Stack_Of(s).Region()
}

// defaultDatastoreName is the data store's name when props.DatastoreName is
// unset (see the defaults above).
func (s *SmartHealthLake) defaultDatastoreName() *string {
	s.Node().AddValidation(&defaultNameValidation{s: s})
	return uncachedString(func() *string { return jsii.String(s.defaultName()) })
}

// defaultDashboardName is the dashboard's name when props.DashboardName is
// unset (see the defaults above).
func (s *SmartHealthLake) defaultDashboardName() *string {
	s.Node().AddValidation(&defaultDashboardValidation{s: s})
	return uncachedString(func() *string { return jsii.String(s.defaultDashboard()) })
}

// defaultNameValidation refuses, at synthesis, a default name HealthLake
// would refuse at deploy time, and warns that a name by path is not the one
// a stack's only SmartHealthLake had.
type defaultNameValidation struct {
	s      *SmartHealthLake
	warned bool
}

// Validate implements constructs.IValidation. It runs before the template
// is written, so its warning reaches the cloud assembly.
func (v *defaultNameValidation) Validate() *[]*string {
	name := v.s.defaultName()
	if !v.warned && name != *awscdk.Stack_Of(v.s).StackName()+"-fhir" {
		v.warned = true
		awscdk.Annotations_Of(v.s).AddWarningV2(jsii.String("smart-healthlake:default-datastore-name"), jsii.String(fmt.Sprintf(
			"props.DatastoreName is unset and the stack holds another SmartHealthLake named by default, or one named "+
				"\"<stack>-fhir\": the data store is named %q after this construct's path; a data store deployed while "+
				"this was the stack's only one is named \"<stack>-fhir\" and would be renamed: set props.DatastoreName "+
				"to keep it", name)), nil)
	}
	if *awscdk.Token_IsUnresolved(jsii.String(name)) {
		return &[]*string{} // a stack name token: the handler checks it at deploy time
	}
	if err := datastoreprops.CheckDatastoreName(name); err != nil {
		return &[]*string{jsii.String(fmt.Sprintf("props.DatastoreName is unset and its default %s; set props.DatastoreName", err))}
	}
	return &[]*string{}
}

// dashboardName is what CloudWatch accepts as a dashboard name (PutDashboard's
// DashboardName: letters, digits, "-" and "_", at most 255), which
// awscloudwatch.Dashboard checks only on a literal.
var dashboardName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// regionNameMax is the length a region counts for in the check of a
// default dashboard name when the stack's region is a token: the longest
// region in aws-sdk-go-v2's partitions.json (internal/endpoints/awsrulesfn)
// is "us-isof-south-1", 15 characters; 20 leaves room for new ones.
const regionNameMax = 20

// defaultDashboardValidation refuses, at synthesis, a default dashboard
// name CloudWatch would refuse, and says (info, not a warning) that the
// default, with its region, is not the name earlier versions gave. Not a
// warning: it would be on every synthesis of every default-named
// SmartHealthLake, deployed before or not, failing `cdk synth --strict` and
// any check that a default synthesizes clean, for a replacement that loses
// nothing but the dashboard's URL (a dashboard holds no data).
type defaultDashboardValidation struct {
	s     *SmartHealthLake
	noted bool
}

// Validate implements constructs.IValidation. It runs before the template
// is written, so its message reaches the cloud assembly.
func (v *defaultDashboardValidation) Validate() *[]*string {
	base, region := v.s.dashboardBase(), *awscdk.Stack_Of(v.s).Region()
	shown, checked := base+"-"+region, base+"-"+region
	if *awscdk.Token_IsUnresolved(jsii.String(region)) {
		// Region names are lowercase letters, digits and "-": only their
		// length can make the name too long.
		shown, checked = base+"-<region>", base+"-"+strings.Repeat("x", regionNameMax)
	}
	if !v.noted {
		v.noted = true
		awscdk.Annotations_Of(v.s).AddInfo(jsii.String(fmt.Sprintf(
			"props.DashboardName is unset: the dashboard is named %q, with the stack's region, because CloudWatch "+
				"dashboard names are global to the account; versions before the region was added named it %q, so "+
				"upgrading a deployed stack replaces its dashboard (and changes DashboardUrl): set props.DashboardName "+
				"to %q to keep that name", shown, base, base)))
	}
	if *awscdk.Token_IsUnresolved(jsii.String(base)) || dashboardName.MatchString(checked) {
		return &[]*string{}
	}
	return &[]*string{jsii.String(fmt.Sprintf("props.DashboardName is unset and its default %q is not a CloudWatch dashboard "+
		"name (letters, digits, \"-\" and \"_\", at most 255, a region token counted as %d); set props.DashboardName",
		shown, regionNameMax))}
}
