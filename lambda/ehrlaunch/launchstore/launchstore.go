// Package launchstore keeps EHR launch contexts, authorization transactions and
// refresh-token bindings in one DynamoDB table.
//
// Every item is keyed by "<kind>#" plus the hex SHA-256 of a secret (a launch
// id, a transaction id, a refresh token's jti), so the table never holds a
// value that could be replayed: reading the table does not let anyone launch.
// Items carry an expires_at attribute (epoch seconds) that is the table's TTL
// attribute; because DynamoDB deletes expired items only eventually and still
// returns them until then, every read and every conditional write also checks
// expires_at against the clock.
//
// Single use is enforced by DynamoDB, not by a read-then-write: a launch is
// consumed by a conditional DeleteItem and a transaction's callback by a
// conditional UpdateItem, so two concurrent attempts cannot both succeed. The
// hook's step is single use too (Okta does not retry the token hook, so a
// second call is a replay): it is recorded only after its work is done, and
// only before the callback ran. Bindings are never overwritten. A transaction
// is bound to the browser that started it (the hash of its binding cookie):
// the callback and the patient pick are conditional on that hash too, so
// another browser's attempt changes nothing.
package launchstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the table.
const (
	// KeyAttribute is the table's partition key (string).
	KeyAttribute = "pk"
	// TTLAttribute is the table's Time to Live attribute (epoch seconds).
	TTLAttribute = "expires_at"
)

// ErrNotFound means the item is missing, expired, already used or bound to
// another client. The causes are deliberately not told apart: a caller probing
// launch ids learns nothing.
var ErrNotFound = errors.New("not found, expired, already used or bound to another client")

// LaunchContext is what an EHR registers for one launch.
type LaunchContext struct {
	// ClientID is the SMART app the launch is for; only it may consume it.
	ClientID string `json:"client_id"`
	// Aud is the FHIR server the launch is for.
	Aud string `json:"aud"`
	// Patient is the FHIR id of the patient in context.
	Patient string `json:"patient"`
	// Encounter is the FHIR id of the encounter in context, if any.
	Encounter string `json:"encounter,omitempty"`
	// FHIRContext is SMART's fhirContext array (objects with reference,
	// canonical, identifier, type, role), if any.
	FHIRContext []map[string]any `json:"fhirContext,omitempty"`
	// NeedPatientBanner tells the app whether to show a patient banner.
	NeedPatientBanner bool `json:"need_patient_banner"`
	// SmartStyleURL is the EHR's style sheet URL, if any.
	SmartStyleURL string `json:"smart_style_url,omitempty"`
	// User is the FHIR reference of the EHR user (e.g. Practitioner/123), if given.
	User string `json:"user,omitempty"`
}

// Transaction is one authorization request in flight between the authorize
// proxy, Okta's hook call and the callback.
type Transaction struct {
	// ClientID and RedirectURI are the app's, as checked by the authorize proxy.
	ClientID, RedirectURI string
	// AppState is the state the app sent; it goes back to the app only.
	AppState string
	// Scope is the scope the app asked for.
	Scope string
	// Launch is the consumed launch context; nil for a standalone launch.
	Launch *LaunchContext
	// HookOK says Okta's token hook built and stored this transaction's
	// commands and answered with them (MarkHookOK).
	HookOK bool
	// HookOKAt is when the hook first recorded its step.
	HookOKAt time.Time
	// CallbackDone says the callback ran (UseCallback).
	CallbackDone bool
	// BrowserHash is the hex SHA-256 of the browser-binding cookie the
	// authorize proxy set on the browser that started the transaction: only
	// that browser may pick its patient (PickPatient) or complete it at the
	// callback (UseCallback). Required.
	BrowserHash string
	// Picker says the transaction waits for (or went through) the
	// standalone patient picker.
	Picker bool
	// OktaQuery is the query of the Okta authorize request the picker sends
	// the user to once a patient is picked (no patient in it: the patient
	// reaches Okta only through the hook's answer).
	OktaQuery string
	// PickedPatient is the FHIR id of the patient the clinician picked
	// (PickPatient), once.
	PickedPatient string
}

// RefreshBinding ties a grant (by its transaction id, or a refresh token by
// jti) to the launch context, so the hook can add the same claims on refresh.
type RefreshBinding struct {
	ClientID string
	Launch   *LaunchContext
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store is the table.
type Store struct {
	api   API
	table string
	now   func() time.Time
}

// New returns a store on table; now is the clock (time.Now in production).
func New(api API, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{api: api, table: table, now: now}
}

// Key kinds.
const (
	kindLaunch      = "L#"
	kindTransaction = "T#"
	kindRefresh     = "R#"
	kindGrant       = "G#"
	kindAssertion   = "A#"
)

// HashKey is the table key of a secret of a kind: the kind prefix and the hex
// SHA-256 of the secret.
func HashKey(kind, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return kind + hex.EncodeToString(sum[:])
}

func key(kind, secret string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: HashKey(kind, secret)}}
}

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// errItemExists is putNew's answer when the key is taken.
var errItemExists = errors.New("an item with this key exists")

// putNew writes item only where no item has its key: every item here is keyed
// by a secret or a hash of one, so a collision or a replay must never replace
// another grant's data. When the key is taken it returns errItemExists and the
// item that holds it (DynamoDB returns it with the failed condition, ALL_OLD).
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": KeyAttribute},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, errItemExists
	}
	return nil, err
}

// putContext stores a launch context, if any, as the item's JSON "ctx".
func putContext(item map[string]types.AttributeValue, lc *LaunchContext) error {
	if lc == nil {
		return nil
	}
	body, err := json.Marshal(lc)
	if err != nil {
		return fmt.Errorf("encoding the launch context: %w", err)
	}
	item["ctx"] = str(string(body))
	return nil
}

// PutLaunch stores a launch context under id until expires. It refuses to
// overwrite an existing item (an id collision would hand one EHR's context to
// another's launch).
func (s *Store) PutLaunch(ctx context.Context, id string, lc LaunchContext, expires time.Time) error {
	item := key(kindLaunch, id)
	item["client_id"] = str(lc.ClientID)
	if err := putContext(item, &lc); err != nil {
		return err
	}
	item[TTLAttribute] = epoch(expires)
	if _, err := s.putNew(ctx, item); err != nil {
		return fmt.Errorf("storing the launch context: %w", err)
	}
	return nil
}

// ConsumeLaunch deletes the launch id's context and returns it, if it exists,
// has not expired and is bound to clientID; otherwise it returns ErrNotFound
// and leaves the item alone (a foreign client cannot burn another's launch).
func (s *Store) ConsumeLaunch(ctx context.Context, id, clientID string) (LaunchContext, error) {
	now := s.now()
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(kindLaunch, id),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #cid = :cid AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyAttribute, "#cid": "client_id", "#exp": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cid": str(clientID), ":now": epoch(now),
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return LaunchContext{}, ErrNotFound
	}
	if err != nil {
		return LaunchContext{}, fmt.Errorf("consuming the launch: %w", err)
	}
	var lc LaunchContext
	if err := decodeCtx(out.Attributes, &lc); err != nil {
		return LaunchContext{}, err
	}
	// The condition already held; this guards against a table written by
	// something else (a context for another client under a colliding key).
	if lc.ClientID != clientID || expired(out.Attributes, now) {
		return LaunchContext{}, ErrNotFound
	}
	return lc, nil
}

// PutTransaction stores a transaction under id until expires. It refuses a
// transaction bound to no browser: its callback could never be used.
func (s *Store) PutTransaction(ctx context.Context, id string, tx Transaction, expires time.Time) error {
	if tx.BrowserHash == "" {
		return errors.New("storing the transaction: it is bound to no browser (BrowserHash is empty)")
	}
	item := key(kindTransaction, id)
	item["client_id"] = str(tx.ClientID)
	item["redirect_uri"] = str(tx.RedirectURI)
	item["app_state"] = str(tx.AppState)
	item["scope"] = str(tx.Scope)
	item[browserAttribute] = str(tx.BrowserHash)
	if tx.Picker {
		item[pickerAttribute] = &types.AttributeValueMemberBOOL{Value: true}
		item["okta_query"] = str(tx.OktaQuery)
	}
	if err := putContext(item, tx.Launch); err != nil {
		return err
	}
	item[TTLAttribute] = epoch(expires)
	if _, err := s.putNew(ctx, item); err != nil {
		return fmt.Errorf("storing the transaction: %w", err)
	}
	return nil
}

// Attributes a transaction's steps set.
const (
	// hookOKAttribute is set by MarkHookOK once the hook built and stored
	// everything its answer depends on.
	hookOKAttribute = "hook_ok"
	// callbackAttribute is set by UseCallback, once.
	callbackAttribute = "callback_done"
	// browserAttribute holds Transaction.BrowserHash.
	browserAttribute = "browser_hash"
	// pickerAttribute is present (true) on a picker transaction.
	pickerAttribute = "picker"
	// pickedAttribute is set by PickPatient, once.
	pickedAttribute = "picked_patient"
)

// GetTransaction returns the transaction, if it exists and has not expired
// (a strongly consistent read: the hook must see the authorize proxy's write).
// It changes nothing: the hook decides what a second call means
// (launchflow refuses it).
func (s *Store) GetTransaction(ctx context.Context, id string) (Transaction, error) {
	item, err := s.liveItem(ctx, kindTransaction, id, "the transaction")
	if err != nil {
		return Transaction{}, err
	}
	return transactionOf(item)
}

// liveItem reads an item with a consistent read: ErrNotFound when there is
// none or it is past its expiry (DynamoDB's TTL removes items only within
// days); what names it in errors.
func (s *Store) liveItem(ctx context.Context, kind, id, what string) (map[string]types.AttributeValue, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(kind, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if out.Item == nil || expired(out.Item, s.now()) {
		return nil, ErrNotFound
	}
	return out.Item, nil
}

// MarkHookOK records that the hook answered Okta with the transaction's
// commands, if the transaction exists, has not expired and its callback has
// not run (a late hook must not vouch for a code the callback already
// refused), once: a second mark is ErrNotFound, so that of two concurrent
// hook calls for one transaction only one vouches for a code.
func (s *Store) MarkHookOK(ctx context.Context, id string) error {
	now := s.now()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(kindTransaction, id),
		UpdateExpression:         aws.String("SET #ok = :now"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND attribute_not_exists(#ok) AND attribute_not_exists(#cb) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyAttribute, "#ok": hookOKAttribute, "#cb": callbackAttribute, "#exp": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": epoch(now),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("marking the transaction's hook done: %w", err)
	}
	return nil
}

// UseCallback marks the transaction's callback done and returns the
// transaction as that write left it (so HookOK and the callback are read in
// one atomic step), if it exists, has not expired, its callback had not run
// and it is bound to the browser whose binding cookie hashes to browserHash;
// otherwise ErrNotFound. A call from another browser changes nothing: the
// state travels through Okta's URLs, and whoever learns it must not be able to
// burn the sign-in of the browser that started it.
func (s *Store) UseCallback(ctx context.Context, id, browserHash string) (Transaction, error) {
	if browserHash == "" {
		return Transaction{}, ErrNotFound
	}
	now := s.now()
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(kindTransaction, id),
		UpdateExpression:         aws.String("SET #cb = :now"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #bh = :bh AND attribute_not_exists(#cb) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyAttribute, "#bh": browserAttribute, "#cb": callbackAttribute, "#exp": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":bh": str(browserHash), ":now": epoch(now),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	return updatedTransaction(out, err, now, "using the transaction's callback")
}

// PickPatient records the patient a clinician picked for a picker
// transaction and returns the transaction as that write left it, if it exists,
// has not expired, waits for a pick, is bound to the browser whose binding
// cookie hashes to browserHash, has no patient yet and neither Okta's hook nor
// the callback ran; otherwise ErrNotFound. A pick is final: a second form post
// cannot swap the patient of a sign-in under way.
func (s *Store) PickPatient(ctx context.Context, id, browserHash, patient string) (Transaction, error) {
	if browserHash == "" {
		return Transaction{}, ErrNotFound
	}
	now := s.now()
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(kindTransaction, id),
		UpdateExpression: aws.String("SET #pp = :p"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_exists(#picker) AND #bh = :h AND " +
			"attribute_not_exists(#pp) AND attribute_not_exists(#ok) AND attribute_not_exists(#cb) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": KeyAttribute, "#picker": pickerAttribute, "#bh": browserAttribute, "#pp": pickedAttribute,
			"#ok": hookOKAttribute, "#cb": callbackAttribute, "#exp": TTLAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(patient), ":h": str(browserHash), ":now": epoch(now),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	return updatedTransaction(out, err, now, "recording the picked patient")
}

// updatedTransaction reads the answer of a conditional UpdateItem on a
// transaction: a failed condition, or an item past its expiry that DynamoDB's
// TTL has not removed yet, is ErrNotFound; doing says what was being done.
func updatedTransaction(out *dynamodb.UpdateItemOutput, err error, now time.Time, doing string) (Transaction, error) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Transaction{}, ErrNotFound
	}
	if err != nil {
		return Transaction{}, fmt.Errorf("%s: %w", doing, err)
	}
	if expired(out.Attributes, now) {
		return Transaction{}, ErrNotFound
	}
	return transactionOf(out.Attributes)
}

func transactionOf(a map[string]types.AttributeValue) (Transaction, error) {
	tx := Transaction{
		ClientID: getS(a, "client_id"), RedirectURI: getS(a, "redirect_uri"),
		AppState: getS(a, "app_state"), Scope: getS(a, "scope"),
		BrowserHash: getS(a, browserAttribute), OktaQuery: getS(a, "okta_query"),
		PickedPatient: getS(a, pickedAttribute),
	}
	if v, ok := a[pickerAttribute].(*types.AttributeValueMemberBOOL); ok {
		tx.Picker = v.Value
	}
	if v, ok := a[hookOKAttribute].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return Transaction{}, fmt.Errorf("decoding the transaction's hook time: %w", err)
		}
		tx.HookOK, tx.HookOKAt = true, time.Unix(n, 0)
	}
	_, tx.CallbackDone = a[callbackAttribute]
	var err error
	if tx.Launch, err = launchOf(a); err != nil {
		return Transaction{}, err
	}
	return tx, nil
}

// ErrAssertionUsed means a client assertion's jti was already recorded for
// that client and has not expired: the assertion is a replay.
var ErrAssertionUsed = errors.New("the client assertion's jti was already used")

// ConsumeAssertion records that clientID used a client assertion with jti,
// until expires (the assertion's exp plus whatever leeway the caller accepts
// it with, so a replay is refused for as long as the assertion itself would
// be accepted). It returns ErrAssertionUsed when the pair is recorded and
// unexpired (RFC 7523 section 3: a jti may be used only once). The key is a
// hash of both, so two clients' equal jtis do not collide and the table holds
// neither in the clear.
//
// The write is conditional (attribute_not_exists), so two concurrent uses
// cannot both succeed. A recorded pair past its expiry that DynamoDB's TTL has
// not removed yet is replaced, by a later assertion with the same jti only
// (a strictly later expiry), with a second write conditioned on that expiry
// being unchanged (a compare-and-swap: of two such writers, one wins).
func (s *Store) ConsumeAssertion(ctx context.Context, clientID, jti string, expires time.Time) error {
	item := key(kindAssertion, assertionSecret(clientID, jti))
	item[TTLAttribute] = epoch(expires)
	old, err := s.putNew(ctx, item)
	if err == nil {
		return nil
	}
	if !errors.Is(err, errItemExists) {
		return fmt.Errorf("recording the client assertion: %w", err)
	}
	oldExp, ok := old[TTLAttribute].(*types.AttributeValueMemberN)
	if old == nil || !ok || !expired(old, s.now()) {
		return ErrAssertionUsed
	}
	// A replay of the same assertion has the same expiry: never a
	// replacement, or every concurrent replayer of an equal TTL would win
	// the compare-and-swap below just after the TTL.
	if n, err := strconv.ParseInt(oldExp.Value, 10, 64); err != nil || n >= expires.Unix() {
		return ErrAssertionUsed
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("#exp = :old"),
		ExpressionAttributeNames:  map[string]string{"#exp": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":old": oldExp},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrAssertionUsed
	}
	if err != nil {
		return fmt.Errorf("recording the client assertion: %w", err)
	}
	return nil
}

// assertionSecret joins a client id and a jti without ambiguity (the length
// of the client id first), so ("a", "bc") and ("ab", "c") hash apart.
func assertionSecret(clientID, jti string) string {
	return strconv.Itoa(len(clientID)) + ":" + clientID + jti
}

// ErrBindingExists means a binding with other contents is stored under the
// same key: it is never overwritten.
var ErrBindingExists = errors.New("another binding is stored under this key")

// PutGrant binds the grant of a transaction (by the transaction id, which Okta
// sends back as the original authorization request's state on every refresh:
// the token hook's data.context.protocol.OriginalGrant.authorization) to a
// launch context until expires. Storing the same binding again succeeds (an
// idempotent write); a different one is ErrBindingExists.
func (s *Store) PutGrant(ctx context.Context, state string, b RefreshBinding, expires time.Time) error {
	return s.putBinding(ctx, kindGrant, state, b, expires)
}

// GetGrant returns the binding of a transaction's grant, or ErrNotFound if it
// is missing or expired.
func (s *Store) GetGrant(ctx context.Context, state string) (RefreshBinding, error) {
	return s.getBinding(ctx, kindGrant, state)
}

// PutRefresh binds a refresh token's jti to a launch context until expires,
// with PutGrant's rules.
func (s *Store) PutRefresh(ctx context.Context, jti string, b RefreshBinding, expires time.Time) error {
	return s.putBinding(ctx, kindRefresh, jti, b, expires)
}

// GetRefresh returns the binding of a refresh token's jti, or ErrNotFound if it
// is missing or expired.
func (s *Store) GetRefresh(ctx context.Context, jti string) (RefreshBinding, error) {
	return s.getBinding(ctx, kindRefresh, jti)
}

// putBinding writes a binding only where none is (a colliding or replayed key
// must not replace another grant's context); on a failed condition it compares
// the stored item, which DynamoDB returns with the error (ALL_OLD).
func (s *Store) putBinding(ctx context.Context, kind, secret string, b RefreshBinding, expires time.Time) error {
	item := key(kind, secret)
	item["client_id"] = str(b.ClientID)
	if err := putContext(item, b.Launch); err != nil {
		return err
	}
	item[TTLAttribute] = epoch(expires)
	old, err := s.putNew(ctx, item)
	if errors.Is(err, errItemExists) {
		if old != nil && !expired(old, s.now()) && getS(old, "client_id") == b.ClientID && getS(old, "ctx") == getS(item, "ctx") {
			return nil
		}
		return ErrBindingExists
	}
	if err != nil {
		return fmt.Errorf("storing the refresh binding: %w", err)
	}
	return nil
}

func (s *Store) getBinding(ctx context.Context, kind, secret string) (RefreshBinding, error) {
	item, err := s.liveItem(ctx, kind, secret, "the refresh binding")
	if err != nil {
		return RefreshBinding{}, err
	}
	lc, err := launchOf(item)
	if err != nil {
		return RefreshBinding{}, err
	}
	return RefreshBinding{ClientID: getS(item, "client_id"), Launch: lc}, nil
}

func getS(a map[string]types.AttributeValue, name string) string {
	if v, ok := a[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// expired is true when expires_at is missing, unreadable or not after now:
// DynamoDB may still return an item its TTL process has not yet deleted.
func expired(a map[string]types.AttributeValue, now time.Time) bool {
	v, ok := a[TTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return true
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return err != nil || n <= now.Unix()
}

// launchOf reads the launch context putContext stored, if any: nil when the
// item has no "ctx".
func launchOf(a map[string]types.AttributeValue) (*LaunchContext, error) {
	if _, ok := a["ctx"]; !ok {
		return nil, nil
	}
	lc := &LaunchContext{}
	if err := decodeCtx(a, lc); err != nil {
		return nil, err
	}
	return lc, nil
}

func decodeCtx(a map[string]types.AttributeValue, into *LaunchContext) error {
	if err := json.Unmarshal([]byte(getS(a, "ctx")), into); err != nil {
		return fmt.Errorf("decoding the stored launch context: %w", err)
	}
	return nil
}
