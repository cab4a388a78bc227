package smarthealthlake

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
)

// defaultDatastoreName is the data store's name when props.DatastoreName is
// unset. A stack's only SmartHealthLake keeps the name it always had,
// "<stack>-fhir", so deployed stacks are not renamed; with more than one in
// the stack each gets "<stack>-<construct id>-fhir", or two would manage one
// name. How many there are is known only once the app is built, so the name
// is a lazy value resolved at synthesis, and a validation refuses a default
// that is not a valid data store name (a construct id may hold characters
// HealthLake refuses).
func (s *SmartHealthLake) defaultDatastoreName() *string {
	s.Node().AddValidation(&defaultNameValidation{s: s})
	return lazyString(func() *string { return jsii.String(s.defaultName()) })
}

func (s *SmartHealthLake) defaultName() string {
	stack := *awscdk.Stack_Of(s).StackName()
	if s.composedWithOthers() {
		return stack + "-" + *s.Node().Id() + "-fhir"
	}
	return stack + "-fhir"
}

// compositeMarker is the construct metadata that marks a SmartHealthLake in
// the tree: the constructs a node search returns are jsii proxies, never the
// Go values, so a type assertion cannot find them. It reaches the cloud
// assembly's manifest only, never a template.
const compositeMarker = "smart-healthlake:composite"

// markComposite marks every SmartHealthLake, named by default or not: each
// takes a name of its own.
func (s *SmartHealthLake) markComposite() {
	s.Node().AddMetadata(jsii.String(compositeMarker), jsii.String("SmartHealthLake"), nil)
}

// composedWithOthers reports whether the stack (not a nested one) holds
// another SmartHealthLake.
func (s *SmartHealthLake) composedWithOthers() bool {
	stack := awscdk.Stack_Of(s)
	n := 0
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if isComposite(c) && *awscdk.Stack_Of(c).Node().Path() == *stack.Node().Path() {
			n++
		}
	}
	return n > 1
}

func isComposite(c constructs.IConstruct) bool {
	for _, m := range *c.Node().Metadata() {
		if m.Type != nil && *m.Type == compositeMarker {
			return true
		}
	}
	return false
}

// defaultNameValidation refuses, at synthesis, a default name HealthLake
// would refuse at deploy time, and warns that a name by construct id is not
// the one a stack's only SmartHealthLake had.
type defaultNameValidation struct {
	s      *SmartHealthLake
	warned bool
}

// Validate implements constructs.IValidation. It runs before the template
// is written, so its warning reaches the cloud assembly.
func (v *defaultNameValidation) Validate() *[]*string {
	name := v.s.defaultName()
	if !v.warned && v.s.composedWithOthers() {
		v.warned = true
		awscdk.Annotations_Of(v.s).AddWarningV2(jsii.String("smart-healthlake:default-datastore-name"), jsii.String(fmt.Sprintf(
			"props.DatastoreName is unset and the stack holds more than one SmartHealthLake: the data store is named %q "+
				"after this construct's id; a data store deployed while this was the stack's only one is named \"<stack>-fhir\" "+
				"and would be renamed: set props.DatastoreName to keep it", name)), nil)
	}
	if *awscdk.Token_IsUnresolved(jsii.String(name)) {
		return &[]*string{} // a stack name token: the handler checks it at deploy time
	}
	if err := datastoreprops.CheckDatastoreName(name); err != nil {
		return &[]*string{jsii.String(fmt.Sprintf("props.DatastoreName is unset and its default %s; set props.DatastoreName", err))}
	}
	return &[]*string{}
}
