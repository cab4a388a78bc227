package cfnprops

import (
	"bytes"
	"encoding/json"
	"strings"
)

// MaxResponseBytes is CloudFormation's limit on the body of a custom resource
// response (CloudFormation User Guide, "Custom resource response objects":
// the response can't exceed 4096 bytes).
const MaxResponseBytes = 4096

// FrameworkResponse is the body aws-cdk-lib's Provider framework sends to
// CloudFormation when a handler succeeds. cfn-response.js submitResponse
// builds it from the request and the handler's answer: Status, Reason (the
// status when there is none), StackId, RequestId, PhysicalResourceId,
// LogicalResourceId, NoEcho (undefined, so left out, unless true) and Data,
// in that order, and sends JSON.stringify of it. So the framework adds the
// request's StackId, RequestId and LogicalResourceId and some 120 bytes of
// its own to what a handler returns; package
// lambda/oktaauth/frameworktest checks Size against the body the real
// framework sends.
type FrameworkResponse struct {
	Status             string         `json:"Status"`
	Reason             string         `json:"Reason"`
	StackID            string         `json:"StackId"`
	RequestID          string         `json:"RequestId"`
	PhysicalResourceID string         `json:"PhysicalResourceId"`
	LogicalResourceID  string         `json:"LogicalResourceId"`
	NoEcho             bool           `json:"NoEcho,omitempty"`
	Data               map[string]any `json:"Data"`
}

// SuccessResponse is the framework's body for a successful request with
// these echoed fields, physical id and Data.
func SuccessResponse(stackID, requestID, logicalID, physicalID string, data map[string]any) FrameworkResponse {
	return FrameworkResponse{Status: "SUCCESS", Reason: "SUCCESS", StackID: stackID, RequestID: requestID,
		PhysicalResourceID: physicalID, LogicalResourceID: logicalID, Data: data}
}

// Size is the body's length in bytes as the framework sends it (UTF-8, no
// HTML escaping, as JSON.stringify). It is never less than the real length:
// the few characters Go escapes and JavaScript does not (U+2028, U+2029) only
// make it longer. -1 if Data cannot be marshalled.
func (r FrameworkResponse) Size() int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return -1
	}
	return b.Len() - 1 // Encode's newline
}

// Longest values of the fields the framework echoes from the request, for a
// bound on the response before the request is known (at synthesis).
const (
	// MaxStackIDLength bounds a stack ARN: with the longest stack name
	// CloudFormation allows (128 characters) it is 228 bytes in the longest
	// partition and region names of today
	// (arn:aws-iso-b:cloudformation:us-isob-east-1:<account>:stack/<name>/<uuid>);
	// 256 leaves room for longer ones.
	MaxStackIDLength = 256
	// MaxLogicalIDLength is CloudFormation's limit on a logical id.
	MaxLogicalIDLength = 255
	// RequestIDLength is the length of a request id, a UUID.
	RequestIDLength = 36
)

// LongestSuccessResponse is SuccessResponse with the longest stack id,
// request id and logical id CloudFormation sends: its Size bounds the body
// of any request with this physical id and Data.
func LongestSuccessResponse(physicalID string, data map[string]any) FrameworkResponse {
	return SuccessResponse(strings.Repeat("x", MaxStackIDLength), strings.Repeat("x", RequestIDLength),
		strings.Repeat("x", MaxLogicalIDLength), physicalID, data)
}
