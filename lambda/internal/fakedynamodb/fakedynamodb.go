// Package fakedynamodb is an in-process Amazon DynamoDB speaking the real JSON
// 1.0 wire protocol (X-Amz-Target: DynamoDB_20120810.<Operation>,
// application/x-amz-json-1.0), for tests that drive the real aws-sdk-go-v2
// client. Point a client at it with AWS_ENDPOINT_URL_DYNAMODB=<URL> (through
// config.LoadDefaultConfig) or dynamodb.Options.BaseEndpoint.
//
// It holds tables with a single string partition key and answers PutItem,
// GetItem, DeleteItem and UpdateItem. What it models, with its source (the
// DynamoDB API Reference unless said otherwise):
//
//   - ConditionExpression with the comparison operators =, <>, <, <=, >, >=,
//     attribute_exists, attribute_not_exists and AND ("Condition expressions",
//     Developer Guide, Expressions); a failed condition is a 400
//     ConditionalCheckFailedException and changes nothing (PutItem, DeleteItem,
//     UpdateItem "Errors"), with the old item in the error when
//     ReturnValuesOnConditionCheckFailure is ALL_OLD.
//   - A bare attribute name in an expression that is one of DynamoDB's
//     reserved words (status, name, ttl, ...; Developer Guide, "Reserved
//     words in DynamoDB", case-insensitive) is a ValidationException: real
//     code must use an expression attribute name (#n) for it.
//   - ReturnValuesOnConditionCheckFailure is NONE or ALL_OLD (botocore's
//     dynamodb model, enum ReturnValuesOnConditionCheckFailure); any other
//     value is a ValidationException.
//   - A comparison with a missing attribute or one of another type is false,
//     not an error ("Comparison operator and function reference").
//   - ExpressionAttributeNames or ExpressionAttributeValues that the expressions
//     do not use are a ValidationException, as are expression features this fake
//     does not implement (so a test cannot pass on an expression DynamoDB would
//     read differently).
//   - ReturnValues NONE / ALL_OLD (PutItem, DeleteItem) and NONE / ALL_NEW /
//     ALL_OLD (UpdateItem), UpdateExpression "SET a = :v[, b = :w]".
//   - Every answer carries X-Amz-Crc32, the CRC32 of its body, as DynamoDB's
//     do (the SDK checks it).
//   - The Key must name exactly the key schema's attributes ("GetItem: Key").
//   - Time to Live: expired items are NOT removed on reads. DynamoDB deletes
//     them in the background, "typically within a few days", and "items that
//     have expired, but haven't yet been deleted by TTL, still appear in reads,
//     queries, and scans" (Developer Guide, "Working with Time to Live"). The
//     fake never deletes them unless SweepExpired is called, so code under test
//     must check expiry itself.
//
// It does not implement scans, queries, indexes, batches, transactions or
// numbers beyond int64.
package fakedynamodb

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// Server is the fake. The zero value is not usable: call New.
type Server struct {
	*httptest.Server

	// Faults make calls fail. A rule's Op is the operation (the part of
	// X-Amz-Target after "DynamoDB_20120810."); see injected for how each
	// fault.Kind is answered.
	Faults fault.Plan

	mu     sync.Mutex
	tables map[string]*table
	calls  map[string]int
}

type table struct {
	key     string // partition key attribute name (type S)
	ttlAttr string
	items   map[string]Item
}

// Item is a DynamoDB item in its wire form: attribute name to attribute value
// ({"S": "..."}, {"N": "..."}, {"BOOL": true}).
type Item map[string]map[string]any

// New starts a fake; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside a test (the sandbox's EHR launch API); the
// caller closes it.
func Start() *Server {
	s := &Server{tables: map[string]*table{}, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// CreateTable adds a table with a string partition key and, if ttlAttribute is
// not empty, Time to Live on that attribute.
func (s *Server) CreateTable(name, partitionKey, ttlAttribute string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[name] = &table{key: partitionKey, ttlAttr: ttlAttribute, items: map[string]Item{}}
}

// Items returns a copy of a table's items.
func (s *Server) Items(tableName string) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for _, it := range s.tables[tableName].items {
		out = append(out, copyItem(it))
	}
	return out
}

// SweepExpired deletes the items whose TTL attribute is at or before now, as
// DynamoDB's background TTL process eventually does.
func (s *Server) SweepExpired(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tables {
		if t.ttlAttr == "" {
			continue
		}
		for k, it := range t.items {
			if n, ok := it[t.ttlAttr]["N"].(string); ok {
				if v, err := strconv.ParseInt(n, 10, 64); err == nil && v <= now.Unix() {
					delete(t.items, k)
				}
			}
		}
	}
}

// Calls returns how many calls of an operation were received.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// injected is the answer of a fault rule that fired, as DynamoDB's errors are
// modeled in botocore's dynamodb model: ProvisionedThroughputExceededException
// (the SDK's retryer takes it for throttling), ValidationException,
// ResourceNotFoundException, TransactionConflictException and
// InternalServerError (500, which the SDK retries); AccessDeniedException is an
// AWS common error (400).
func injected(r fault.Rule) *apiError {
	e := &apiError{status: http.StatusBadRequest, code: r.Code}
	if e.code == "" {
		switch r.Kind {
		case fault.Throttle:
			e.code = "ProvisionedThroughputExceededException"
		case fault.Invalid:
			e.code = "ValidationException"
		case fault.Denied:
			e.code = "AccessDeniedException"
		case fault.NotFound:
			e.code = "ResourceNotFoundException"
		case fault.Conflict:
			e.code = "TransactionConflictException"
		default:
			e.code, e.status = "InternalServerError", http.StatusInternalServerError
		}
	}
	if r.Status != 0 {
		e.status = r.Status
	}
	e.msg = r.MessageOr(e.code)
	return e
}

type apiError struct {
	status int
	code   string
	msg    string
	item   Item
}

func validation(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

type request struct {
	TableName                           string
	Key                                 Item
	Item                                Item
	ConditionExpression                 string
	UpdateExpression                    string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           Item
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ConsistentRead                      bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if !ok || r.Method != http.MethodPost {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", msg: "unknown target"})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "MissingAuthenticationTokenException", msg: "request is not SigV4-signed"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "SerializationException", msg: err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if r, ok := s.Faults.TakeOp(op); ok {
		writeError(w, injected(r))
		return
	}
	t := s.tables[in.TableName]
	if t == nil {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", msg: "Requested resource not found"})
		return
	}
	out, aerr := s.do(op, t, &in)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeBody(w, http.StatusOK, out)
}

// writeBody sends a JSON 1.0 answer with the X-Amz-Crc32 header DynamoDB puts
// on every response (CRC32 IEEE of the body), which the SDK verifies
// (service/dynamodb/internal/customizations/checksum.go).
func writeBody(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) do(op string, t *table, in *request) (map[string]any, *apiError) {
	used := usage{names: map[string]bool{}, values: map[string]bool{}}
	var key string
	var err *apiError
	switch op {
	case "PutItem":
		if in.Key != nil {
			return nil, validation("PutItem takes Item, not Key")
		}
		key, err = keyOf(t, in.Item, false)
	case "GetItem", "DeleteItem", "UpdateItem":
		key, err = keyOf(t, in.Key, true)
	default:
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", msg: "operation not supported by this fake: " + op}
	}
	if err != nil {
		return nil, err
	}
	old, exists := t.items[key]

	var cond condition
	if in.ConditionExpression != "" {
		if op == "GetItem" {
			return nil, validation("GetItem takes no ConditionExpression")
		}
		if cond, err = parseCondition(in.ConditionExpression, in, &used); err != nil {
			return nil, err
		}
	}
	var sets []assignment
	if op == "UpdateItem" {
		if sets, err = parseUpdate(in.UpdateExpression, in, &used); err != nil {
			return nil, err
		}
	} else if in.UpdateExpression != "" {
		return nil, validation("%s takes no UpdateExpression", op)
	}
	if err := used.check(in); err != nil {
		return nil, err
	}
	if err := checkReturnValues(op, in.ReturnValues); err != nil {
		return nil, err
	}
	if err := checkReturnOnFailure(op, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	if cond != nil && !cond(old) {
		e := &apiError{status: http.StatusBadRequest, code: "ConditionalCheckFailedException", msg: "The conditional request failed"}
		if in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" && exists {
			e.item = copyItem(old)
		}
		return nil, e
	}

	out := map[string]any{}
	switch op {
	case "GetItem":
		if exists {
			out["Item"] = copyItem(old)
		}
	case "PutItem":
		t.items[key] = copyItem(in.Item)
		if in.ReturnValues == "ALL_OLD" && exists {
			out["Attributes"] = copyItem(old)
		}
	case "DeleteItem":
		delete(t.items, key)
		if in.ReturnValues == "ALL_OLD" && exists {
			out["Attributes"] = copyItem(old)
		}
	case "UpdateItem":
		next := copyItem(old)
		if !exists {
			next = copyItem(in.Key)
		}
		for _, a := range sets {
			if a.name == t.key {
				return nil, validation("Cannot update attribute %s. This attribute is part of the key", a.name)
			}
			next[a.name] = a.value
		}
		t.items[key] = next
		switch in.ReturnValues {
		case "ALL_NEW":
			out["Attributes"] = copyItem(next)
		case "ALL_OLD":
			if exists {
				out["Attributes"] = copyItem(old)
			}
		}
	}
	return out, nil
}

func checkReturnValues(op, rv string) *apiError {
	allowed := map[string][]string{
		"PutItem":    {"", "NONE", "ALL_OLD"},
		"DeleteItem": {"", "NONE", "ALL_OLD"},
		"UpdateItem": {"", "NONE", "ALL_OLD", "ALL_NEW"},
		"GetItem":    {""},
	}[op]
	if slices.Contains(allowed, rv) {
		return nil
	}
	return validation("ReturnValues %q is not valid for %s in this fake", rv, op)
}

// checkReturnOnFailure accepts the ReturnValuesOnConditionCheckFailure enum
// of botocore's dynamodb model (ALL_OLD, NONE), on the operations that take it
// (PutItem, DeleteItem, UpdateItem; GetItem has no condition).
func checkReturnOnFailure(op, rv string) *apiError {
	switch {
	case rv == "":
		return nil
	case op == "GetItem":
		return validation("GetItem takes no ReturnValuesOnConditionCheckFailure")
	case rv == "NONE" || rv == "ALL_OLD":
		return nil
	}
	return validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", rv)
}

func keyOf(t *table, it Item, keyOnly bool) (string, *apiError) {
	if it == nil {
		return "", validation("One or more parameter values were invalid: missing the key")
	}
	v, ok := it[t.key]["S"].(string)
	if !ok || v == "" {
		return "", validation("One or more parameter values were invalid: Missing the key %s in the item", t.key)
	}
	if keyOnly && len(it) != 1 {
		return "", validation("The provided key element does not match the schema")
	}
	for name, av := range it {
		if len(av) != 1 {
			return "", validation("attribute %s: an AttributeValue must have exactly one type", name)
		}
		for typ := range av {
			switch typ {
			case "S", "N", "BOOL":
			default:
				return "", validation("attribute %s: type %s not supported by this fake", name, typ)
			}
		}
	}
	return v, nil
}

// usage records which expression names and values the expressions used.
type usage struct{ names, values map[string]bool }

func (u *usage) check(in *request) *apiError {
	for n := range in.ExpressionAttributeNames {
		if !u.names[n] {
			return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", n)
		}
	}
	for v := range in.ExpressionAttributeValues {
		if !u.values[v] {
			return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", v)
		}
	}
	return nil
}

func resolveName(tok string, in *request, u *usage) (string, *apiError) {
	if strings.HasPrefix(tok, "#") {
		n, ok := in.ExpressionAttributeNames[tok]
		if !ok {
			return "", validation("An expression attribute name used in the document path is not defined; attribute name: %s", tok)
		}
		u.names[tok] = true
		return n, nil
	}
	if !plainName.MatchString(tok) {
		return "", validation("Invalid attribute name in expression: %q", tok)
	}
	if isReserved(tok) {
		// DynamoDB's wording for a bare reserved word (reserved.go).
		return "", validation("Invalid expression: Attribute name is a reserved keyword; reserved keyword: %s", tok)
	}
	return tok, nil
}

func resolveValue(tok string, in *request, u *usage) (map[string]any, *apiError) {
	v, ok := in.ExpressionAttributeValues[tok]
	if !ok {
		return nil, validation("An expression attribute value used in expression is not defined; attribute value: %s", tok)
	}
	u.values[tok] = true
	return v, nil
}

var (
	plainName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	funcTerm  = regexp.MustCompile(`^(attribute_exists|attribute_not_exists)\(\s*([#A-Za-z0-9_]+)\s*\)$`)
	cmpTerm   = regexp.MustCompile(`^([#A-Za-z0-9_]+)\s*(=|<>|<=|>=|<|>)\s*(:[A-Za-z0-9_]+)$`)
	andSplit  = regexp.MustCompile(`(?i)\s+AND\s+`)
	setTerm   = regexp.MustCompile(`^([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)$`)
)

type condition func(Item) bool

func parseCondition(expr string, in *request, u *usage) (condition, *apiError) {
	var terms []condition
	for part := range strings.SplitSeq(andSplit.ReplaceAllString(strings.TrimSpace(expr), "\x00"), "\x00") {
		part = strings.TrimSpace(part)
		if m := funcTerm.FindStringSubmatch(part); m != nil {
			name, err := resolveName(m[2], in, u)
			if err != nil {
				return nil, err
			}
			want := m[1] == "attribute_exists"
			terms = append(terms, func(it Item) bool { _, ok := it[name]; return ok == want })
			continue
		}
		if m := cmpTerm.FindStringSubmatch(part); m != nil {
			name, err := resolveName(m[1], in, u)
			if err != nil {
				return nil, err
			}
			val, err := resolveValue(m[3], in, u)
			if err != nil {
				return nil, err
			}
			op := m[2]
			terms = append(terms, func(it Item) bool { return compare(it[name], op, val) })
			continue
		}
		return nil, validation("Invalid ConditionExpression (or not supported by this fake): %q", part)
	}
	return func(it Item) bool {
		for _, t := range terms {
			if !t(it) {
				return false
			}
		}
		return true
	}, nil
}

// compare is false when the attribute is missing or of another type
// (Comparison operator reference: "a" < 1 is false, not an error).
func compare(have map[string]any, op string, want map[string]any) bool {
	if have == nil {
		return false
	}
	var c int
	switch {
	case have["S"] != nil && want["S"] != nil:
		c = strings.Compare(have["S"].(string), want["S"].(string))
	case have["N"] != nil && want["N"] != nil:
		a, err1 := strconv.ParseInt(have["N"].(string), 10, 64)
		b, err2 := strconv.ParseInt(want["N"].(string), 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		c = cmp.Compare(a, b)
	case have["BOOL"] != nil && want["BOOL"] != nil:
		if op != "=" && op != "<>" {
			return false
		}
		if have["BOOL"] == want["BOOL"] {
			c = 0
		} else {
			c = 1
		}
	default:
		return false
	}
	switch op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	default:
		return c >= 0
	}
}

type assignment struct {
	name  string
	value map[string]any
}

func parseUpdate(expr string, in *request, u *usage) ([]assignment, *apiError) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(expr), "SET ")
	if !ok {
		return nil, validation("Invalid UpdateExpression (only SET a = :v is supported by this fake): %q", expr)
	}
	var out []assignment
	for part := range strings.SplitSeq(rest, ",") {
		m := setTerm.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			return nil, validation("Invalid UpdateExpression (only SET a = :v is supported by this fake): %q", part)
		}
		name, err := resolveName(m[1], in, u)
		if err != nil {
			return nil, err
		}
		val, err := resolveValue(m[2], in, u)
		if err != nil {
			return nil, err
		}
		out = append(out, assignment{name: name, value: val})
	}
	return out, nil
}

func copyItem(it Item) Item {
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = maps.Clone(v)
	}
	return out
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + e.code, "message": e.msg}
	if e.item != nil {
		body["Item"] = e.item
	}
	writeBody(w, e.status, body)
}
