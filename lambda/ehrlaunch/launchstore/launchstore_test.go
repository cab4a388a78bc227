package launchstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakedynamodb"
)

const table = "launch"

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(c.t.Load(), 0) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d / time.Second)) }

// concurrentWins runs try in 8 goroutines at once and counts those that
// report success.
func concurrentWins(try func() bool) int32 {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if try() {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	return wins.Load()
}

func newStore(t *testing.T) (*launchstore.Store, *fakedynamodb.Server, *clock) {
	t.Helper()
	fake := fakedynamodb.New(t)
	fake.CreateTable(table, launchstore.KeyAttribute, launchstore.TTLAttribute)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", fake.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{}
	c.t.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Unix())
	return launchstore.New(dynamodb.NewFromConfig(cfg), table, c.now), fake, c
}

var lc = launchstore.LaunchContext{
	ClientID: "app-1", Aud: "https://fhir.example/r4/", Patient: "pat-1", Encounter: "enc-1",
	FHIRContext: []map[string]any{{"reference": "DiagnosticReport/7"}}, NeedPatientBanner: true,
}

func TestLaunch(t *testing.T) {
	ctx := context.Background()
	t.Run("a stored launch is returned once to its client and then is gone", func(t *testing.T) {
		s, fake, c := newStore(t)
		if err := s.PutLaunch(ctx, "id-1", lc, c.now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := s.ConsumeLaunch(ctx, "id-1", "app-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Patient != "pat-1" || got.Encounter != "enc-1" || got.FHIRContext[0]["reference"] != "DiagnosticReport/7" || !got.NeedPatientBanner {
			t.Fatalf("context = %+v", got)
		}
		if _, err := s.ConsumeLaunch(ctx, "id-1", "app-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("second use: err = %v, want ErrNotFound", err)
		}
		if n := len(fake.Items(table)); n != 0 {
			t.Fatalf("%d items left", n)
		}
	})
	t.Run("the table holds the hash of the id, never the id or its own key", func(t *testing.T) {
		s, fake, c := newStore(t)
		if err := s.PutLaunch(ctx, "secret-launch-id", lc, c.now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		items := fake.Items(table)
		pk := items[0][launchstore.KeyAttribute]["S"].(string)
		if pk != launchstore.HashKey("L#", "secret-launch-id") || strings.Contains(pk, "secret-launch-id") {
			t.Fatalf("pk = %q", pk)
		}
	})
	t.Run("another client cannot consume the launch, nor burn it", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutLaunch(ctx, "id-1", lc, c.now().Add(time.Minute))
		if _, err := s.ConsumeLaunch(ctx, "id-1", "app-2"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("foreign client: err = %v", err)
		}
		if _, err := s.ConsumeLaunch(ctx, "id-1", "app-1"); err != nil {
			t.Fatalf("own client after the foreign attempt: %v", err)
		}
	})
	t.Run("an expired launch that TTL has not yet deleted is refused", func(t *testing.T) {
		s, fake, c := newStore(t)
		_ = s.PutLaunch(ctx, "id-1", lc, c.now().Add(5*time.Minute))
		c.advance(5 * time.Minute)
		if _, err := s.ConsumeLaunch(ctx, "id-1", "app-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if len(fake.Items(table)) != 1 {
			t.Fatal("the fake should keep the expired item, as DynamoDB may")
		}
	})
	t.Run("an unknown launch id is refused", func(t *testing.T) {
		s, _, _ := newStore(t)
		if _, err := s.ConsumeLaunch(ctx, "nope", "app-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an id already stored is not overwritten", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutLaunch(ctx, "id-1", lc, c.now().Add(time.Minute))
		other := lc
		other.Patient = "pat-2"
		if err := s.PutLaunch(ctx, "id-1", other, c.now().Add(time.Minute)); err == nil {
			t.Fatal("overwrite accepted")
		}
		got, _ := s.ConsumeLaunch(ctx, "id-1", "app-1")
		if got.Patient != "pat-1" {
			t.Fatalf("patient = %q", got.Patient)
		}
	})
	t.Run("of concurrent consumers exactly one gets the launch", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutLaunch(ctx, "id-1", lc, c.now().Add(time.Minute))
		if wins := concurrentWins(func() bool {
			_, err := s.ConsumeLaunch(ctx, "id-1", "app-1")
			return err == nil
		}); wins != 1 {
			t.Fatalf("%d consumers won", wins)
		}
	})
	t.Run("a DynamoDB fault is an error, not a missing launch", func(t *testing.T) {
		s, fake, c := newStore(t)
		_ = s.PutLaunch(ctx, "id-1", lc, c.now().Add(time.Minute))
		fake.Faults.Add(fault.Rule{Op: "DeleteItem", Times: 10})
		_, err := s.ConsumeLaunch(ctx, "id-1", "app-1")
		if err == nil || errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTransaction(t *testing.T) {
	ctx := context.Background()
	const browser = "hash-of-the-browsers-cookie"
	tx := launchstore.Transaction{ClientID: "app-1", RedirectURI: "https://app/cb", AppState: "s1", Scope: "openid launch", Launch: &lc, BrowserHash: browser}
	t.Run("the hook marks a transaction once, and the callback runs once", func(t *testing.T) {
		s, _, c := newStore(t)
		if err := s.PutTransaction(ctx, "tx-1", tx, c.now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		first := c.now()
		got, err := s.GetTransaction(ctx, "tx-1")
		if err != nil || got.AppState != "s1" || got.RedirectURI != "https://app/cb" || got.Launch == nil || got.Launch.Patient != "pat-1" || got.HookOK || got.BrowserHash != browser {
			t.Fatalf("tx = %+v, %v", got, err)
		}
		if err := s.MarkHookOK(ctx, "tx-1"); err != nil {
			t.Fatal(err)
		}
		c.advance(3 * time.Second)
		// Okta does not retry the token hook: a second mark (a replayed or
		// concurrent call) must not vouch for the code again.
		if err := s.MarkHookOK(ctx, "tx-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("second mark: %v, want ErrNotFound", err)
		}
		got, err = s.UseCallback(ctx, "tx-1", browser)
		if err != nil || !got.HookOK || !got.HookOKAt.Equal(first) || !got.CallbackDone {
			t.Fatalf("callback after hook: %+v, %v", got, err)
		}
		if _, err := s.UseCallback(ctx, "tx-1", browser); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("second callback: %v", err)
		}
		if err := s.MarkHookOK(ctx, "tx-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("hook after the callback: %v, want ErrNotFound", err)
		}
	})
	t.Run("a callback before any hook finds the hook not done", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutTransaction(ctx, "tx-1", tx, c.now().Add(time.Minute))
		got, err := s.UseCallback(ctx, "tx-1", browser)
		if err != nil || got.HookOK {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("a callback from another browser or none changes nothing: the browser that started it still completes it", func(t *testing.T) {
		s, fake, c := newStore(t)
		_ = s.PutTransaction(ctx, "tx-1", tx, c.now().Add(time.Minute))
		before := fake.Items(table)
		for _, h := range []string{"hash-of-another-browsers-cookie", ""} {
			if _, err := s.UseCallback(ctx, "tx-1", h); !errors.Is(err, launchstore.ErrNotFound) {
				t.Fatalf("callback with browser %q: %v, want ErrNotFound", h, err)
			}
		}
		if after := fake.Items(table); len(after) != 1 || len(after[0]) != len(before[0]) {
			t.Fatalf("a refused callback changed the transaction: %v", after)
		}
		if got, err := s.UseCallback(ctx, "tx-1", browser); err != nil || !got.CallbackDone {
			t.Fatalf("the starting browser's callback after the refused ones: %+v, %v", got, err)
		}
	})
	t.Run("a transaction bound to no browser is not stored", func(t *testing.T) {
		s, fake, c := newStore(t)
		unbound := tx
		unbound.BrowserHash = ""
		if err := s.PutTransaction(ctx, "tx-1", unbound, c.now().Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "no browser") {
			t.Fatalf("err = %v", err)
		}
		if n := len(fake.Items(table)); n != 0 {
			t.Fatalf("%d items", n)
		}
	})
	t.Run("a standalone transaction has no launch context", func(t *testing.T) {
		s, _, c := newStore(t)
		st := tx
		st.Launch = nil
		_ = s.PutTransaction(ctx, "tx-1", st, c.now().Add(time.Minute))
		got, err := s.GetTransaction(ctx, "tx-1")
		if err != nil || got.Launch != nil {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("an expired or unknown transaction is refused and not created", func(t *testing.T) {
		s, fake, c := newStore(t)
		_ = s.PutTransaction(ctx, "tx-1", tx, c.now().Add(time.Minute))
		c.advance(2 * time.Minute)
		if _, err := s.GetTransaction(ctx, "tx-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("expired read: %v", err)
		}
		if err := s.MarkHookOK(ctx, "tx-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("expired mark: %v", err)
		}
		if _, err := s.UseCallback(ctx, "tx-1", browser); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("expired: %v", err)
		}
		if err := s.MarkHookOK(ctx, "tx-2"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("unknown mark: %v", err)
		}
		if _, err := s.UseCallback(ctx, "tx-2", browser); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if n := len(fake.Items(table)); n != 1 {
			t.Fatalf("%d items: an update of a missing transaction must not create one", n)
		}
	})
}

func TestPickPatient(t *testing.T) {
	ctx := context.Background()
	picker := launchstore.Transaction{
		ClientID: "picker-app", RedirectURI: "https://clinic/cb", AppState: "s1", Scope: "openid launch/patient",
		BrowserHash: "hash-of-the-browsers-cookie", Picker: true, OktaQuery: "client_id=picker-app&state=tx-1",
	}
	t.Run("a picker transaction takes one patient, from the browser that started it only", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutTransaction(ctx, "tx-1", picker, c.now().Add(10*time.Minute))
		if _, err := s.PickPatient(ctx, "tx-1", "another-hash", "pat-1"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("another browser: %v", err)
		}
		got, err := s.PickPatient(ctx, "tx-1", picker.BrowserHash, "pat-1")
		if err != nil || got.PickedPatient != "pat-1" || got.OktaQuery != picker.OktaQuery || !got.Picker || got.BrowserHash != picker.BrowserHash {
			t.Fatalf("pick: %+v, %v", got, err)
		}
		if _, err := s.PickPatient(ctx, "tx-1", picker.BrowserHash, "pat-2"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("second pick: %v", err)
		}
		if got, _ := s.GetTransaction(ctx, "tx-1"); got.PickedPatient != "pat-1" {
			t.Fatalf("after a second pick: %+v", got)
		}
	})
	t.Run("no pick after the hook or the callback ran, after expiry, or of a transaction without the picker", func(t *testing.T) {
		s, _, c := newStore(t)
		_ = s.PutTransaction(ctx, "hooked", picker, c.now().Add(10*time.Minute))
		_ = s.MarkHookOK(ctx, "hooked")
		_ = s.PutTransaction(ctx, "called", picker, c.now().Add(10*time.Minute))
		_, _ = s.UseCallback(ctx, "called", picker.BrowserHash)
		plain := picker
		plain.Picker = false
		_ = s.PutTransaction(ctx, "plain", plain, c.now().Add(10*time.Minute))
		_ = s.PutTransaction(ctx, "old", picker, c.now().Add(time.Minute))
		c.advance(2 * time.Minute)
		for _, id := range []string{"hooked", "called", "plain", "old", "unknown"} {
			if _, err := s.PickPatient(ctx, id, picker.BrowserHash, "pat-1"); !errors.Is(err, launchstore.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", id, err)
			}
		}
	})
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	s, fake, c := newStore(t)
	if err := s.PutRefresh(ctx, "rt-jti", launchstore.RefreshBinding{ClientID: "app-1", Launch: &lc}, c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrant(ctx, "tx-1", launchstore.RefreshBinding{ClientID: "app-1", Launch: &lc}, c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	t.Run("a bound refresh token and a bound grant return their context", func(t *testing.T) {
		b, err := s.GetRefresh(ctx, "rt-jti")
		if err != nil || b.ClientID != "app-1" || b.Launch.Patient != "pat-1" {
			t.Fatalf("%+v %v", b, err)
		}
		b, err = s.GetGrant(ctx, "tx-1")
		if err != nil || b.ClientID != "app-1" || b.Launch.Patient != "pat-1" {
			t.Fatalf("%+v %v", b, err)
		}
	})
	t.Run("a grant and a refresh token of the same value are different keys", func(t *testing.T) {
		if _, err := s.GetGrant(ctx, "rt-jti"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("storing the same binding again succeeds, another one is refused and the first kept", func(t *testing.T) {
		if err := s.PutGrant(ctx, "tx-1", launchstore.RefreshBinding{ClientID: "app-1", Launch: &lc}, c.now().Add(2*time.Hour)); err != nil {
			t.Fatalf("same binding: %v", err)
		}
		other := lc
		other.Patient = "pat-2"
		for _, b := range []launchstore.RefreshBinding{{ClientID: "app-1", Launch: &other}, {ClientID: "app-2", Launch: &lc}} {
			if err := s.PutRefresh(ctx, "rt-jti", b, c.now().Add(time.Hour)); !errors.Is(err, launchstore.ErrBindingExists) {
				t.Fatalf("overwrite with %+v: err = %v", b, err)
			}
		}
		if b, _ := s.GetRefresh(ctx, "rt-jti"); b.ClientID != "app-1" || b.Launch.Patient != "pat-1" {
			t.Fatalf("binding now %+v", b)
		}
		if n := len(fake.Items(table)); n != 2 {
			t.Fatalf("%d items", n)
		}
	})
	t.Run("an unknown refresh token is not found", func(t *testing.T) {
		if _, err := s.GetRefresh(ctx, "other"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an expired binding is not found", func(t *testing.T) {
		c.advance(time.Hour)
		if _, err := s.GetRefresh(ctx, "rt-jti"); !errors.Is(err, launchstore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConsumeAssertion(t *testing.T) {
	ctx := context.Background()
	t.Run("a client's jti is accepted once and refused again until it expires", func(t *testing.T) {
		s, _, c := newStore(t)
		exp := c.now().Add(time.Minute)
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", exp); !errors.Is(err, launchstore.ErrAssertionUsed) {
			t.Fatalf("second use: err = %v, want ErrAssertionUsed", err)
		}
	})
	t.Run("the same jti of another client is another key", func(t *testing.T) {
		s, _, c := newStore(t)
		exp := c.now().Add(time.Minute)
		for _, id := range []string{"svc-1", "svc-2"} {
			if err := s.ConsumeAssertion(ctx, id, "jti-1", exp); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
		// The length prefix keeps ("svc-1", "2jti") apart from ("svc-12", "jti").
		if err := s.ConsumeAssertion(ctx, "svc-1", "2jti", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeAssertion(ctx, "svc-12", "jti", exp); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the table holds a hash with the expiry as TTL, never the client id or the jti", func(t *testing.T) {
		s, fake, c := newStore(t)
		exp := c.now().Add(90 * time.Second)
		_ = s.ConsumeAssertion(ctx, "svc-secret-1", "jti-secret-2", exp)
		items := fake.Items(table)
		if len(items) != 1 {
			t.Fatalf("%d items", len(items))
		}
		pk := items[0][launchstore.KeyAttribute]["S"].(string)
		if !strings.HasPrefix(pk, "A#") || strings.Contains(pk, "secret") {
			t.Fatalf("pk = %q", pk)
		}
		if ttl := items[0][launchstore.TTLAttribute]["N"]; ttl != strconv.FormatInt(exp.Unix(), 10) {
			t.Fatalf("expires_at = %v, want %d", ttl, exp.Unix())
		}
	})
	t.Run("an expired record that TTL has not yet deleted does not block the jti", func(t *testing.T) {
		s, _, c := newStore(t)
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", c.now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		c.advance(2 * time.Minute)
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", c.now().Add(time.Minute)); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", c.now().Add(time.Minute)); !errors.Is(err, launchstore.ErrAssertionUsed) {
			t.Fatalf("the replaced record does not block: %v", err)
		}
	})
	t.Run("the same assertion replayed after its record's TTL does not replace the record, however many try at once", func(t *testing.T) {
		s, _, c := newStore(t)
		exp := c.now().Add(time.Minute)
		if err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", exp); err != nil {
			t.Fatal(err)
		}
		// The checker accepted the replay just before exp (its clock read a
		// round trip earlier); the store's clock is already past it.
		c.advance(time.Minute + time.Second)
		if wins := concurrentWins(func() bool {
			return s.ConsumeAssertion(ctx, "svc-1", "jti-1", exp) == nil
		}); wins != 0 {
			t.Fatalf("%d replays of one assertion were recorded as new", wins)
		}
	})
	t.Run("of concurrent uses exactly one succeeds", func(t *testing.T) {
		s, _, c := newStore(t)
		if wins := concurrentWins(func() bool {
			return s.ConsumeAssertion(ctx, "svc-1", "jti-1", c.now().Add(time.Minute)) == nil
		}); wins != 1 {
			t.Fatalf("%d uses won", wins)
		}
	})
	t.Run("a DynamoDB fault is an error, not a replay", func(t *testing.T) {
		s, fake, c := newStore(t)
		fake.Faults.Add(fault.Rule{Op: "PutItem", Times: 10})
		err := s.ConsumeAssertion(ctx, "svc-1", "jti-1", c.now().Add(time.Minute))
		if err == nil || errors.Is(err, launchstore.ErrAssertionUsed) {
			t.Fatalf("err = %v", err)
		}
	})
}
