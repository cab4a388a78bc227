package fakehealthlake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Constraints below are botocore's model of HealthLake (healthlake/2017-07-01
// service-2.json, shapes named in each comment) unless another source is named.
var (
	// datastoreID is the DatastoreId shape: 1-32 characters of this pattern.
	datastoreID = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-%@]{1,32}$`)
	// datastoreName is the DatastoreName shape (its length is 1-256).
	datastoreName = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-%@]*)$`)
	// clientToken is the ClientTokenString shape: 1-64 characters.
	clientToken = regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`)
	// resourceARN is the AmazonResourceName shape of the tag operations; its
	// .{32} is why a data store id is 32 characters.
	resourceARN = regexp.MustCompile(`^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-z0-9-]+:\d{12}:datastore\/fhir\/.{32}`)
	// idpLambdaARN is the HealthLake API reference's pattern for IdpLambdaArn
	// (IdentityProviderConfiguration), which also has a length of 49-256
	// characters.
	idpLambdaARN = regexp.MustCompile(`^arn:aws:lambda:[a-z]{2}-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9\-_\.]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?$`)
	// tagPattern is the TagKey and TagValue pattern (API_Tag in the API reference).
	tagPattern = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
)

// validationError words a constraint failure the way AWS services do.
func validationError(value, member, constraint string) *apiError {
	return errorf("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// validateTagKey and validateTagValue apply API_Tag's constraints; member names
// the offending field as the service does (tags.1.member.key).
func validateTagKey(key, member string) *apiError {
	if n := utf8.RuneCountInString(key); n < 1 || n > 128 {
		return validationError(key, member, "Member must have length between 1 and 128")
	}
	if !tagPattern.MatchString(key) {
		return validationError(key, member, "Member must satisfy regular expression pattern: "+tagPattern.String())
	}
	// AWS reserves the aws: prefix on every service's tags (AWS General
	// Reference, "Tagging AWS resources", tag naming limits).
	if strings.HasPrefix(key, "aws:") {
		return errorf("ValidationException", "tag keys starting with aws: are reserved")
	}
	return nil
}

func validateTagValue(value, member string) *apiError {
	if utf8.RuneCountInString(value) > 256 {
		return validationError(value, member, "Member must have length less than or equal to 256")
	}
	if !tagPattern.MatchString(value) {
		return validationError(value, member, "Member must satisfy regular expression pattern: "+tagPattern.String())
	}
	return nil
}

func validateTags(tags []Tag) *apiError {
	// TagList holds at most 200 tags.
	if len(tags) > 200 {
		return validationError(fmt.Sprint(len(tags)), "tags", "Member must have length less than or equal to 200")
	}
	for i, t := range tags {
		if err := validateTagKey(t.Key, fmt.Sprintf("tags.%d.member.key", i+1)); err != nil {
			return err
		}
		if err := validateTagValue(t.Value, fmt.Sprintf("tags.%d.member.value", i+1)); err != nil {
			return err
		}
	}
	return nil
}

type operation func(raw []byte) (any, *apiError)

// operations must be called with s.mu held; the handlers run under it.
func (s *Server) operations() map[string]operation {
	return map[string]operation{
		"CreateFHIRDatastore":   s.create,
		"DescribeFHIRDatastore": s.describe,
		"UpdateFHIRDatastore":   s.update,
		"DeleteFHIRDatastore":   s.delete,
		"ListFHIRDatastores":    s.list,
		"TagResource":           s.tag,
		"UntagResource":         s.untag,
		"ListTagsForResource":   s.listTags,
	}
}

func decode(raw []byte, v any) *apiError {
	if err := json.Unmarshal(raw, v); err != nil {
		return errorf("SerializationException", "cannot decode request: %v", err)
	}
	return nil
}

// lookup answers as DescribeFHIRDatastore, UpdateFHIRDatastore and
// DeleteFHIRDatastore do: ValidationException for an id outside the DatastoreId
// shape, ResourceNotFoundException for an unknown one (both in each
// operation's errors in the model).
func (s *Server) lookup(id string) (*store, *apiError) {
	if !datastoreID.MatchString(id) {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'datastoreId' failed to satisfy constraint", id)
	}
	st, ok := s.stores[id]
	if !ok {
		return nil, errorf("ResourceNotFoundException", "Datastore %s does not exist", id)
	}
	return st, nil
}

// lookupSettled is lookup for the calls that change a data store: one still
// being created, updated or deleted is a ConflictException, an error of both
// UpdateFHIRDatastore (a second update while one runs, in the API reference)
// and DeleteFHIRDatastore (in the model; healthlake-smart.md section 2: wait
// for it to settle).
func (s *Server) lookupSettled(id string) (*store, *apiError) {
	st, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if st.busy() {
		return nil, errorf("ConflictException", "Datastore %s has an update in progress", st.ID)
	}
	return st, nil
}

// lookupARN answers as the tag operations do: ValidationException for an ARN
// outside AmazonResourceName, ResourceNotFoundException for a data store that
// does not exist (DELETED ones included).
func (s *Server) lookupARN(arn string) (*store, *apiError) {
	if !resourceARN.MatchString(arn) {
		return nil, validationError(arn, "resourceARN", "Member must satisfy regular expression pattern: "+resourceARN.String())
	}
	for _, st := range s.stores {
		if st.ARN == arn && st.Status != StatusDeleted {
			return st, nil
		}
	}
	return nil, errorf("ResourceNotFoundException", "resource %s does not exist", arn)
}

// decodeThen decodes raw into in, a request naming one data store, then
// looks it up with lookup by key (a field of in: its DatastoreId or
// ResourceARN), so that each operation answers a bad name as its own lookup
// does.
func decodeThen(raw []byte, in any, lookup func(string) (*store, *apiError), key *string) (*store, *apiError) {
	if err := decode(raw, in); err != nil {
		return nil, err
	}
	return lookup(*key)
}

func validateIdentityProvider(c *IdentityProviderConfiguration) *apiError {
	if c == nil {
		return nil
	}
	// AuthorizationStrategy's enum (API reference, IdentityProviderConfiguration);
	// a SMART strategy needs the IdP Lambda and the SMART metadata (Developer
	// Guide, "SMART on FHIR support"), and Metadata is a JSON document.
	switch c.AuthorizationStrategy {
	case "AWS_AUTH":
	case "SMART_ON_FHIR_V1", "SMART_ON_FHIR":
		if c.IdpLambdaArn == "" || c.Metadata == "" {
			return errorf("ValidationException", "IdpLambdaArn and Metadata are required for %s", c.AuthorizationStrategy)
		}
		if n := utf8.RuneCountInString(c.IdpLambdaArn); n < 49 || n > 256 {
			return validationError(c.IdpLambdaArn, "identityProviderConfiguration.idpLambdaArn", "Member must have length between 49 and 256")
		}
		if !idpLambdaARN.MatchString(c.IdpLambdaArn) {
			return validationError(c.IdpLambdaArn, "identityProviderConfiguration.idpLambdaArn",
				"Member must satisfy regular expression pattern: "+idpLambdaARN.String())
		}
		if !json.Valid([]byte(c.Metadata)) {
			return errorf("ValidationException", "Metadata is not valid JSON")
		}
	default:
		return errorf("ValidationException", "unknown AuthorizationStrategy %q", c.AuthorizationStrategy)
	}
	return nil
}

type createInput struct {
	DatastoreName                 string
	DatastoreTypeVersion          string
	ClientToken                   string
	IdentityProviderConfiguration *IdentityProviderConfiguration
	SseConfiguration              *SseConfiguration
	PreloadDataConfig             *PreloadDataConfig
	Tags                          []Tag
}

func (s *Server) create(raw []byte) (any, *apiError) {
	var in createInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	// FHIRVersion's enum is R4 alone, and DatastoreTypeVersion is required.
	if in.DatastoreTypeVersion != "R4" {
		return nil, errorf("ValidationException", "DatastoreTypeVersion must be R4")
	}
	if n := utf8.RuneCountInString(in.DatastoreName); in.DatastoreName != "" && (n > 256 || !datastoreName.MatchString(in.DatastoreName)) {
		return nil, validationError(in.DatastoreName, "datastoreName", "Member must satisfy regular expression pattern: "+datastoreName.String())
	}
	if in.ClientToken != "" && !clientToken.MatchString(in.ClientToken) {
		return nil, validationError(in.ClientToken, "clientToken", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9-]+$")
	}
	if err := validateIdentityProvider(in.IdentityProviderConfiguration); err != nil {
		return nil, err
	}
	// API reference, KmsEncryptionConfig: the key id is needed for a
	// customer-managed key.
	if e := in.SseConfiguration; e != nil && e.KmsEncryptionConfig.CmkType == "CUSTOMER_MANAGED_KMS_KEY" && e.KmsEncryptionConfig.KmsKeyId == "" {
		return nil, errorf("ValidationException", "KmsKeyId is required for CUSTOMER_MANAGED_KMS_KEY")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	// ClientToken makes the call idempotent (API reference, CreateFHIRDatastore):
	// a repeat answers with the data store the first call made.
	if id, seen := s.byToken[in.ClientToken]; seen && in.ClientToken != "" {
		return s.summary(s.stores[id]), nil
	}

	s.created++
	// 32 characters, as AmazonResourceName's datastore/fhir/.{32} requires;
	// HealthLake's own ids are 32 hex digits too.
	id := fmt.Sprintf("%032x", s.created)
	st := &store{Datastore: Datastore{
		ID:               id,
		ARN:              fmt.Sprintf("arn:aws:healthlake:%s:%s:datastore/fhir/%s", s.opts.Region, s.opts.Account, id),
		Endpoint:         fmt.Sprintf("https://healthlake.%s.amazonaws.com/datastore/%s/r4/", s.opts.Region, id),
		Name:             in.DatastoreName,
		FHIRVersion:      in.DatastoreTypeVersion,
		IdentityProvider: in.IdentityProviderConfiguration,
		Encryption:       in.SseConfiguration,
		Preload:          in.PreloadDataConfig,
		Tags:             map[string]string{},
		ClientToken:      in.ClientToken,
		CreatedAt:        time.Now(),
	}}
	// Without SseConfiguration HealthLake encrypts with an AWS-owned key (API
	// reference, SseConfiguration).
	if st.Encryption == nil {
		st.Encryption = &SseConfiguration{KmsEncryptionConfig{CmkType: "AWS_OWNED_KMS_KEY"}}
	}
	for _, t := range in.Tags {
		st.Tags[t.Key] = t.Value
	}
	final, onSettle := StatusActive, (func(*store))(nil)
	if msg := s.createErr; msg != "" {
		s.createErr = ""
		final = StatusCreateFailed
		onSettle = func(st *store) { st.ErrorCause = &ErrorCause{ErrorMessage: msg, ErrorCategory: "NON_RETRYABLE_ERROR"} }
	}
	// CreateFHIRDatastore answers CREATING; the data store becomes ACTIVE or
	// CREATE_FAILED later (API reference, DatastoreStatus).
	st.moveTo(StatusCreating, final, s.opts.PollsToSettle, onSettle)
	s.stores[id] = st
	s.order = append(s.order, id)
	if in.ClientToken != "" {
		s.byToken[in.ClientToken] = id
	}
	return s.summary(st), nil
}

func (s *Server) summary(st *store) map[string]string {
	return map[string]string{
		"DatastoreId":       st.ID,
		"DatastoreArn":      st.ARN,
		"DatastoreStatus":   st.Status,
		"DatastoreEndpoint": st.Endpoint,
	}
}

type idInput struct{ DatastoreId string }

func (s *Server) describe(raw []byte) (any, *apiError) {
	var in idInput
	st, err := decodeThen(raw, &in, s.lookup, &in.DatastoreId)
	if err != nil {
		return nil, err
	}
	st.observe()
	return map[string]any{"DatastoreProperties": st.properties()}, nil
}

type updateInput struct {
	DatastoreId                   string
	DatastoreName                 *string
	IdentityProviderConfiguration *IdentityProviderConfiguration
}

func (s *Server) update(raw []byte) (any, *apiError) {
	var in updateInput
	st, err := decodeThen(raw, &in, s.lookupSettled, &in.DatastoreId)
	if err != nil {
		return nil, err
	}
	switch st.Status {
	case StatusActive, StatusUpdateFailed:
	case StatusCreating, StatusUpdating, StatusDeleting:
		return nil, errorf("ConflictException", "Datastore %s is %s; wait for it to finish", st.ID, st.Status)
	case StatusDeleted:
		return nil, errorf("ResourceNotFoundException", "Datastore %s does not exist", st.ID)
	default:
		return nil, errorf("ValidationException", "Datastore %s is %s and cannot be updated", st.ID, st.Status)
	}
	if err := validateIdentityProvider(in.IdentityProviderConfiguration); err != nil {
		return nil, err
	}
	failure := s.updateErr
	s.updateErr = ""
	if s.opts.ImmediateIdentityUpdates {
		if failure != "" {
			return nil, errorf("ValidationException", "%s", failure)
		}
		apply := func(st *store) {
			// A full replace, as documented: whatever is omitted is cleared. The
			// status, and the ErrorCause of an earlier failed update, stay.
			st.Name = ""
			if in.DatastoreName != nil {
				st.Name = *in.DatastoreName
			}
			st.IdentityProvider = in.IdentityProviderConfiguration
		}
		if delay := s.updateDelay; delay > 0 {
			s.updateDelay = 0
			st.deferred, st.delayed = apply, delay
		} else {
			apply(st)
		}
		return map[string]any{"DatastoreProperties": st.properties()}, nil
	}
	apply := func(st *store) {
		prevName, prevIdP := st.Name, st.IdentityProvider
		// A full replace, as documented: whatever is omitted is cleared.
		st.Name = ""
		if in.DatastoreName != nil {
			st.Name = *in.DatastoreName
		}
		st.IdentityProvider = in.IdentityProviderConfiguration
		st.ErrorCause = nil

		final, onSettle := StatusActive, (func(*store))(nil)
		if failure != "" {
			final = StatusUpdateFailed
			onSettle = func(st *store) {
				st.Name, st.IdentityProvider = prevName, prevIdP
				st.ErrorCause = &ErrorCause{ErrorMessage: failure, ErrorCategory: "NON_RETRYABLE_ERROR"}
			}
		}
		st.moveTo(StatusUpdating, final, s.opts.PollsToSettle, onSettle)
	}
	if delay := s.updateDelay; delay > 0 {
		s.updateDelay = 0
		st.deferred, st.delayed = apply, delay
	} else {
		apply(st)
	}
	return map[string]any{"DatastoreProperties": st.properties()}, nil
}

func (s *Server) delete(raw []byte) (any, *apiError) {
	var in idInput
	st, err := decodeThen(raw, &in, s.lookupSettled, &in.DatastoreId)
	if err != nil {
		return nil, err
	}
	switch st.Status {
	case StatusCreating, StatusUpdating, StatusDeleting:
		return nil, errorf("ConflictException", "Datastore %s is %s", st.ID, st.Status)
	case StatusDeleted:
		return nil, errorf("ResourceNotFoundException", "Datastore %s does not exist", st.ID)
	}
	// DeleteFHIRDatastore answers DELETING; the data store becomes DELETED and
	// stays listed (ListFHIRDatastores lists every status).
	st.moveTo(StatusDeleting, StatusDeleted, s.opts.PollsToSettle, nil)
	return s.summary(st), nil
}

type listInput struct {
	Filter *struct {
		DatastoreName   string
		DatastoreStatus string
		// Timestamps arrive as epoch seconds, the awsJson1_0 default.
		CreatedAfter  *float64
		CreatedBefore *float64
	}
	MaxResults *int
	NextToken  *string
}

// list pages through every data store, DELETED ones included ("regardless of
// data store status", per the operation's documentation in botocore's model).
// MaxResults is MaxResultsInteger (1-500) there; a page holds at most
// Options.ListPageSize entries, and the NextToken is opaque, valid only for the
// listing it came from, as AWS pagination tokens are.
func (s *Server) list(raw []byte) (any, *apiError) {
	var in listInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	size := s.opts.ListPageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 500 {
			return nil, validationError(fmt.Sprint(*in.MaxResults), "maxResults", "Member must have value between 1 and 500")
		}
		size = min(size, *in.MaxResults)
	}
	start := 0
	if in.NextToken != nil {
		n, ok := s.listTokens[*in.NextToken]
		if !ok {
			return nil, errorf("ValidationException", "invalid NextToken")
		}
		start = n
	}
	var matched []properties
	for _, id := range s.order {
		st, ok := s.stores[id]
		if !ok {
			continue
		}
		if f := in.Filter; f != nil {
			// Whether CreatedAfter/CreatedBefore include their bound is not
			// documented (DatastoreFilter in the API reference): an assumption,
			// the stricter reading (exclusive, whole seconds), so a client that
			// relies on an inclusive bound fails here first.
			created := float64(st.CreatedAt.Unix())
			if (f.DatastoreName != "" && f.DatastoreName != st.Name) || (f.DatastoreStatus != "" && f.DatastoreStatus != st.Status) ||
				(f.CreatedAfter != nil && created <= *f.CreatedAfter) || (f.CreatedBefore != nil && created >= *f.CreatedBefore) {
				continue
			}
		}
		matched = append(matched, st.properties())
	}
	out := map[string]any{"DatastorePropertiesList": []properties{}}
	if start < len(matched) {
		end := min(start+size, len(matched))
		out["DatastorePropertiesList"] = matched[start:end]
		if end < len(matched) {
			s.tokens++
			token := fmt.Sprintf("page-%d", s.tokens)
			s.listTokens[token] = end
			out["NextToken"] = token
		}
	}
	return out, nil
}

func (s *Server) tag(raw []byte) (any, *apiError) {
	var in struct {
		ResourceARN string
		Tags        []Tag
	}
	st, err := decodeThen(raw, &in, s.lookupARN, &in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		st.Tags[t.Key] = t.Value
	}
	return map[string]any{}, nil
}

func (s *Server) untag(raw []byte) (any, *apiError) {
	var in struct {
		ResourceARN string
		TagKeys     []string
	}
	st, err := decodeThen(raw, &in, s.lookupARN, &in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) > 200 { // TagKeyList
		return nil, validationError(fmt.Sprint(len(in.TagKeys)), "tagKeys", "Member must have length less than or equal to 200")
	}
	for i, k := range in.TagKeys {
		if err := validateTagKey(k, fmt.Sprintf("tagKeys.%d.member", i+1)); err != nil {
			return nil, err
		}
	}
	for _, k := range in.TagKeys {
		delete(st.Tags, k)
	}
	return map[string]any{}, nil
}

func (s *Server) listTags(raw []byte) (any, *apiError) {
	var in struct{ ResourceARN string }
	st, err := decodeThen(raw, &in, s.lookupARN, &in.ResourceARN)
	if err != nil {
		return nil, err
	}
	tags := []Tag{}
	for k, v := range st.Tags {
		tags = append(tags, Tag{k, v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return map[string]any{"Tags": tags}, nil
}
