package providerframework

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Request is a custom resource request as CloudFormation sends it (the
// CloudFormation User Guide, "Custom resource request objects").
type Request struct {
	RequestType           string         `json:"RequestType"`
	ServiceToken          string         `json:"ServiceToken"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceType          string         `json:"ResourceType"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// Exchange is one request of a stack operation and what came of it.
type Exchange struct {
	// StackStatus is the stack's status when the request was sent.
	StackStatus string
	Request     Request
	// Response is nil for a request CloudFormation stopped waiting for (a
	// cancelled Create).
	Response *Response
	// Refused is why CloudFormation would reject the response (too long,
	// wrong ids), empty when it was accepted.
	Refused string
}

// Resource is a custom resource of the stack.
type Resource struct {
	LogicalID string
	// Type is the resource type, e.g. Custom::HealthLakeDatastore.
	Type       string
	Properties map[string]any
	// PhysicalID is what CloudFormation recorded; empty before a response.
	PhysicalID string
	// Data is the resource's attributes from its last successful response.
	Data map[string]any
}

// Result is how a stack operation ended.
type Result struct {
	// Status is the stack's final status: CREATE_COMPLETE, ROLLBACK_COMPLETE,
	// ROLLBACK_FAILED, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE,
	// UPDATE_ROLLBACK_FAILED, DELETE_COMPLETE or DELETE_FAILED.
	Status string
	// Reason is the first failure's reason.
	Reason string
	// CleanupFailures are the reasons of failed clean-up deletes, which
	// CloudFormation records without failing the operation.
	CleanupFailures []string
}

// Stack plays CloudFormation for a stack of custom resources served by one
// Framework. Operations are sequential: each request waits for its response
// (at most ResponseTimeout), as CloudFormation does for dependent resources.
//
// What it does after a failure follows CloudFormation's documented and
// reported behaviour: a failed Create is followed by a Delete of the physical
// id the FAILED response gave (aws-cdk PR #5525, the reason for the
// framework's CREATE_FAILED marker); a Create still running when another
// resource fails is cancelled ("Resource creation cancelled") and gets a
// Delete with a physical id CloudFormation generates
// (aws-cloudformation/cloudformation-coverage-roadmap#1814); a failed
// Update's physical id is recorded and the rollback Update goes to it with
// the old properties (aws-cdk issues #13527, #30012); clean-up Deletes run in
// UPDATE_COMPLETE_CLEANUP_IN_PROGRESS and
// UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS (User Guide, "Stack status
// codes").
type Stack struct {
	t  testing.TB
	fw *Framework
	// ID and Name of the stack.
	ID, Name string
	// OnStatus, when set, is told every status the stack passes through, before
	// the requests sent in that status: a fake CloudFormation's DescribeStacks
	// should report it.
	OnStatus func(status string)
	// ResponseTimeout bounds the wait for one response. Default: 30s.
	ResponseTimeout time.Duration

	status    string
	resources map[string]*Resource
	order     []string // creation order
	history   []Exchange
}

// NewStack returns a stack named name whose resources fw serves.
func NewStack(t testing.TB, fw *Framework, name string) *Stack {
	return &Stack{
		t: t, fw: fw, Name: name,
		ID:        fmt.Sprintf("arn:aws:cloudformation:us-east-1:123456789012:stack/%s/%s", name, uuid()),
		resources: map[string]*Resource{},
	}
}

// Status is the stack's current status.
func (s *Stack) Status() string { return s.status }

// Resource returns the stack's current view of a resource.
func (s *Stack) Resource(logicalID string) Resource {
	s.t.Helper()
	r, ok := s.resources[logicalID]
	if !ok {
		s.t.Fatalf("providerframework: no resource %s in stack %s", logicalID, s.Name)
	}
	return *r
}

// History returns every request sent so far, with its response.
func (s *Stack) History() []Exchange { return append([]Exchange(nil), s.history...) }

// Failure is a change that stands for another resource of the stack failing
// at that point of an operation, which makes CloudFormation roll back.
const Failure = "AWS::Test::Fails"

func (s *Stack) setStatus(status string) {
	s.status = status
	if s.OnStatus != nil {
		s.OnStatus(status)
	}
}

// Create creates the stack with the resources, in order. A Resource whose
// Type is Failure fails there. On a failure CloudFormation rolls back:
// ROLLBACK_IN_PROGRESS, then a Delete of every resource that has a physical
// id (a failed Create's is the one its FAILED response gave; one whose
// response was refused has none), newest first.
func (s *Stack) Create(resources ...Resource) Result {
	s.t.Helper()
	s.setStatus("CREATE_IN_PROGRESS")
	var failure string
	for _, r := range resources {
		if r.Type == Failure {
			failure = "Resource " + r.LogicalID + " failed to create"
			break
		}
		res := s.add(r)
		resp := s.send("Create", res, "", res.Properties, nil)
		if resp.Status != "SUCCESS" {
			failure = resp.Reason
			break
		}
	}
	if failure == "" {
		s.setStatus("CREATE_COMPLETE")
		return Result{Status: "CREATE_COMPLETE"}
	}
	return s.rollbackCreate(failure)
}

// CreateCancelled creates the stack with r while another resource fails
// during r's Create: once cancelWhen reports true (it is polled every 10ms
// while no response has come), CloudFormation stops waiting for the Create,
// rolls back and sends a Delete with a physical id it makes up,
// <stack>-<logicalId>-<random>, since the framework never answered. The
// Create's late response is ignored.
func (s *Stack) CreateCancelled(r Resource, cancelWhen func() bool) Result {
	s.t.Helper()
	s.setStatus("CREATE_IN_PROGRESS")
	res := s.add(r)
	ch := s.post("Create", res, "", res.Properties, nil)
	deadline := time.Now().Add(s.timeout())
	for !cancelWhen() {
		select {
		case resp := <-ch:
			s.t.Fatalf("providerframework: the Create of %s answered %s before it could be cancelled", r.LogicalID, resp.Status)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("providerframework: the condition to cancel %s's Create never came within %v", r.LogicalID, s.timeout())
		}
	}
	res.PhysicalID = fmt.Sprintf("%s-%s-%s", s.Name, r.LogicalID, randomSuffix())
	return s.rollbackCreate("Resource creation cancelled")
}

func (s *Stack) rollbackCreate(reason string) Result {
	s.t.Helper()
	s.setStatus("ROLLBACK_IN_PROGRESS")
	for _, id := range slices.Backward(s.order) {
		r := s.resources[id]
		if r.PhysicalID == "" {
			continue
		}
		if resp := s.send("Delete", r, r.PhysicalID, r.Properties, nil); resp.Status != "SUCCESS" {
			s.setStatus("ROLLBACK_FAILED")
			return Result{Status: "ROLLBACK_FAILED", Reason: reason}
		}
	}
	s.setStatus("ROLLBACK_COMPLETE")
	return Result{Status: "ROLLBACK_COMPLETE", Reason: reason}
}

// Change is one resource's part in a stack update.
type Change struct {
	LogicalID string
	// Type is needed for a resource the update adds; Failure makes the update
	// fail at this point.
	Type string
	// Properties are the new properties (of an added resource too).
	Properties map[string]any
	// Remove takes the resource out of the stack: CloudFormation deletes it in
	// the clean-up after a successful update.
	Remove bool
}

type updated struct {
	res      *Resource
	oldProps map[string]any
	newProps map[string]any
	ids      []string // physical ids, oldest first
	added    bool
}

// Update updates the stack, one change after the other, as CloudFormation
// does:
//
//   - an existing resource gets an Update with the new and old properties;
//     a response with another physical id is a replacement;
//   - a new logical id gets a Create;
//   - when all succeed, UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes the
//     replaced physical ids (with their old properties) and the removed
//     resources;
//   - when one fails, UPDATE_ROLLBACK_IN_PROGRESS sends each updated resource,
//     newest first, a rollback Update with old and new properties swapped, to
//     the physical id last recorded for it (the failed response's included);
//     then UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS deletes what the
//     failed update created: the physical ids the rollback left behind and
//     the resources it added. A failed rollback Update ends in
//     UPDATE_ROLLBACK_FAILED.
func (s *Stack) Update(changes ...Change) Result {
	s.t.Helper()
	s.setStatus("UPDATE_IN_PROGRESS")
	var done []*updated
	var removed []*Resource
	failure := ""
	for _, c := range changes {
		if c.Type == Failure {
			failure = "Resource " + c.LogicalID + " failed to update"
			break
		}
		if c.Remove {
			removed = append(removed, s.resources[c.LogicalID])
			continue
		}
		r, ok := s.resources[c.LogicalID]
		if !ok {
			r = s.add(Resource{LogicalID: c.LogicalID, Type: c.Type, Properties: c.Properties})
			u := &updated{res: r, newProps: c.Properties, added: true}
			done = append(done, u)
			resp := s.send("Create", r, "", c.Properties, nil)
			u.ids = append(u.ids, r.PhysicalID)
			if resp.Status != "SUCCESS" {
				failure = resp.Reason
				break
			}
			continue
		}
		u := &updated{res: r, oldProps: r.Properties, newProps: c.Properties, ids: []string{r.PhysicalID}}
		done = append(done, u)
		resp := s.send("Update", r, r.PhysicalID, c.Properties, u.oldProps)
		if resp.PhysicalResourceID != "" {
			r.PhysicalID = resp.PhysicalResourceID
		}
		u.ids = append(u.ids, r.PhysicalID)
		if resp.Status != "SUCCESS" {
			failure = resp.Reason
			break
		}
		r.Properties = c.Properties
	}

	if failure == "" {
		s.setStatus("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
		var cleanup []string
		for _, u := range done {
			if !u.added && u.ids[0] != u.res.PhysicalID {
				cleanup = append(cleanup, s.cleanupDelete(u.res, u.ids[0], u.oldProps)...)
			}
		}
		for _, r := range removed {
			cleanup = append(cleanup, s.cleanupDelete(r, r.PhysicalID, r.Properties)...)
			s.drop(r.LogicalID)
		}
		s.setStatus("UPDATE_COMPLETE")
		return Result{Status: "UPDATE_COMPLETE", CleanupFailures: cleanup}
	}

	s.setStatus("UPDATE_ROLLBACK_IN_PROGRESS")
	for _, u := range slices.Backward(done) {
		if u.added {
			continue
		}
		resp := s.send("Update", u.res, u.res.PhysicalID, u.oldProps, u.newProps)
		if resp.Status != "SUCCESS" {
			s.setStatus("UPDATE_ROLLBACK_FAILED")
			return Result{Status: "UPDATE_ROLLBACK_FAILED", Reason: failure}
		}
		u.res.PhysicalID = resp.PhysicalResourceID
		u.res.Properties = u.oldProps
	}
	s.setStatus("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
	var cleanup []string
	for _, u := range slices.Backward(done) {
		if u.added {
			if u.res.PhysicalID != "" {
				cleanup = append(cleanup, s.cleanupDelete(u.res, u.res.PhysicalID, u.newProps)...)
			}
			s.drop(u.res.LogicalID)
			continue
		}
		// Every physical id the resource had during the update but not after
		// the rollback was made by the failed update. The last one carries the
		// update's properties; one the rollback itself replaced, the old ones.
		seen := map[string]bool{u.res.PhysicalID: true}
		for i, id := range slices.Backward(u.ids) {
			if seen[id] {
				continue
			}
			seen[id] = true
			props := u.newProps
			if i == 0 {
				props = u.oldProps
			}
			cleanup = append(cleanup, s.cleanupDelete(u.res, id, props)...)
		}
	}
	s.setStatus("UPDATE_ROLLBACK_COMPLETE")
	return Result{Status: "UPDATE_ROLLBACK_COMPLETE", Reason: failure, CleanupFailures: cleanup}
}

func (s *Stack) cleanupDelete(r *Resource, id string, props map[string]any) []string {
	s.t.Helper()
	if resp := s.send("Delete", r, id, props, nil); resp.Status != "SUCCESS" {
		return []string{r.LogicalID + " " + id + ": " + resp.Reason}
	}
	return nil
}

// Delete deletes the stack: DELETE_IN_PROGRESS, a Delete of each resource,
// newest first; a failed Delete ends in DELETE_FAILED.
func (s *Stack) Delete() Result {
	s.t.Helper()
	s.setStatus("DELETE_IN_PROGRESS")
	for _, id := range slices.Backward(s.order) {
		r := s.resources[id]
		if resp := s.send("Delete", r, r.PhysicalID, r.Properties, nil); resp.Status != "SUCCESS" {
			s.setStatus("DELETE_FAILED")
			return Result{Status: "DELETE_FAILED", Reason: resp.Reason}
		}
		s.drop(id)
	}
	s.setStatus("DELETE_COMPLETE")
	return Result{Status: "DELETE_COMPLETE"}
}

func (s *Stack) add(r Resource) *Resource {
	s.t.Helper()
	if _, dup := s.resources[r.LogicalID]; dup {
		s.t.Fatalf("providerframework: resource %s already in the stack", r.LogicalID)
	}
	res := &r
	res.PhysicalID = ""
	s.resources[r.LogicalID] = res
	s.order = append(s.order, r.LogicalID)
	return res
}

func (s *Stack) drop(logicalID string) {
	delete(s.resources, logicalID)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == logicalID })
}

func (s *Stack) timeout() time.Duration {
	if s.ResponseTimeout > 0 {
		return s.ResponseTimeout
	}
	return 30 * time.Second
}

// send posts one request and waits for its response. A Create's response
// records the physical id it carries (a FAILED one too, which is how
// CloudFormation learns what to delete), a successful response the Data.
// A response CloudFormation would refuse counts as FAILED with its reason.
func (s *Stack) send(requestType string, r *Resource, physicalID string, props, oldProps map[string]any) Response {
	s.t.Helper()
	ch := s.post(requestType, r, physicalID, props, oldProps)
	ex := &s.history[len(s.history)-1]
	var resp Response
	select {
	case resp = <-ch:
	case <-time.After(s.timeout()):
		s.t.Fatalf("providerframework: no response to %s %s (%s) within %v", requestType, r.LogicalID, physicalID, s.timeout())
	}
	ex.Response = &resp
	if why := s.refuse(ex.Request, resp); why != "" {
		ex.Refused = why
		// CloudFormation could not read it, so it learns no physical id.
		resp = Response{Status: "FAILED", Reason: why}
	}
	if requestType == "Create" && resp.PhysicalResourceID != "" {
		r.PhysicalID = resp.PhysicalResourceID
	}
	if resp.Status == "SUCCESS" && requestType != "Delete" {
		r.Data = resp.Data
	}
	return resp
}

func (s *Stack) post(requestType string, r *Resource, physicalID string, props, oldProps map[string]any) chan Response {
	token := s.fw.ServiceToken()
	req := Request{
		RequestType: requestType, ServiceToken: token, StackID: s.ID, RequestID: uuid(),
		LogicalResourceID: r.LogicalID, PhysicalResourceID: physicalID, ResourceType: r.Type,
		ResourceProperties: withServiceToken(props, token),
	}
	if oldProps != nil {
		req.OldResourceProperties = withServiceToken(oldProps, token)
	}
	req.ResponseURL = s.fw.bucket.presign(s.ID, r.LogicalID, req.RequestID)
	s.history = append(s.history, Exchange{StackStatus: s.status, Request: req})
	ch := s.fw.bucket.wait(req.RequestID)
	s.fw.send(marshal(req))
	return ch
}

// refuse applies CloudFormation's checks of a response (User Guide, "Custom
// resource response objects"): at most 4096 bytes, a known status, the
// request's ids echoed, a physical id of at most 1 KB.
func (s *Stack) refuse(req Request, resp Response) string {
	switch {
	case resp.Size > maxResponseBytes:
		return fmt.Sprintf("Response object is too long (%d bytes).", resp.Size)
	case resp.Status != "SUCCESS" && resp.Status != "FAILED":
		return fmt.Sprintf("Invalid response status %q", resp.Status)
	case resp.RequestID != req.RequestID || resp.StackID != req.StackID || resp.LogicalResourceID != req.LogicalResourceID:
		return "Response does not echo the request's RequestId, StackId and LogicalResourceId"
	case resp.PhysicalResourceID == "" || len(resp.PhysicalResourceID) > 1024:
		return "Invalid PhysicalResourceId"
	}
	return ""
}

// withServiceToken is the properties as CloudFormation sends them to a
// custom resource: with the ServiceToken, and every number and boolean
// turned into a string, lists and maps included.
func withServiceToken(props map[string]any, token string) map[string]any {
	out, _ := stringify(clone(props)).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	out["ServiceToken"] = token
	return out
}

func stringify(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringify(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = stringify(e)
		}
		return x
	case bool, float64:
		return fmt.Sprint(x)
	}
	return v
}

// clone deep-copies JSON-shaped properties.
func clone(p map[string]any) map[string]any {
	if p == nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(marshal(p), &out); err != nil {
		panic(err)
	}
	return out
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// randomSuffix is the random tail of the names CloudFormation makes up: 12
// upper-case letters and digits.
func randomSuffix() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// String summarises the stack's requests and responses, one line each, for
// failure messages.
func (s *Stack) String() string {
	var b strings.Builder
	for _, x := range s.history {
		fmt.Fprintf(&b, "%s: %s %s %q", x.StackStatus, x.Request.RequestType, x.Request.LogicalResourceID, x.Request.PhysicalResourceID)
		switch {
		case x.Response == nil:
			b.WriteString(" -> (no response)")
		default:
			reason := x.Response.Reason
			if i := strings.Index(reason, "\n"); i >= 0 {
				reason = reason[:i]
			}
			fmt.Fprintf(&b, " -> %s %q %q", x.Response.Status, x.Response.PhysicalResourceID, reason)
		}
		if x.Refused != "" {
			b.WriteString(" refused: " + x.Refused)
		}
		b.WriteString("\n")
	}
	return b.String()
}
