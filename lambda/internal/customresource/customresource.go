// Package customresource holds the wire types of the AWS CDK custom-resource
// Provider framework (aws-cdk-lib/custom-resources). The reader of the
// properties CloudFormation hands to a handler is contract/cfnprops.
//
// The handlers in this module run behind the Provider framework: its onEvent
// function calls our onEvent handler and, when it answers, its state machine calls
// our isComplete handler until it reports completion. The framework (not our code)
// talks to CloudFormation, so a handler returns a value or an error and never posts
// to the pre-signed ResponseURL itself.
package customresource

import "github.com/aws/aws-lambda-go/cfn"

// Request types, re-exported so handlers need only this package.
const (
	Create = cfn.RequestCreate
	Update = cfn.RequestUpdate
	Delete = cfn.RequestDelete
)

// Event is the CloudFormation request the framework passes to onEvent.
type Event = cfn.Event

// OnEventResponse is what an onEvent handler returns to the framework.
// A PhysicalResourceId different from the event's on Update means replacement:
// CloudFormation will then send a Delete for the old id.
type OnEventResponse struct {
	PhysicalResourceID string         `json:"PhysicalResourceId,omitempty"`
	Data               map[string]any `json:"Data,omitempty"`
	// NoEcho hides Data from `Fn::GetAtt` output in the console. Secrets never go in
	// Data at all; this only masks non-secret but sensitive values.
	NoEcho bool `json:"NoEcho,omitempty"`
}

// IsCompleteEvent is the request the framework passes to isComplete: the original
// event merged with what onEvent returned (its PhysicalResourceId replaces the
// event's, and its Data is carried along).
type IsCompleteEvent struct {
	cfn.Event
	Data map[string]any `json:"Data,omitempty"`
}

// IsCompleteResponse is what an isComplete handler returns. Data is only read by
// the framework when IsComplete is true; it is merged over onEvent's Data.
type IsCompleteResponse struct {
	IsComplete bool           `json:"IsComplete"`
	Data       map[string]any `json:"Data,omitempty"`
}
