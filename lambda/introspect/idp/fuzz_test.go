package idp_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// FuzzHandleToken feeds arbitrary bearer tokens through the whole handler: it
// must never fail, never panic, and never authorize anything but the one valid
// token it was seeded with (canonical base64 leaves no second spelling of it).
func FuzzHandleToken(f *testing.F) {
	fi := newFakeIdP(f)
	k := getKeys(f)
	h := idp.FromEnv(context.Background(), fi.env().get, idp.Options{Now: newClock().Now, Logger: slogJSON(io.Discard)})
	valid := sign(f, jwt.SigningMethodRS256, k.rsa1, "k1", fi.claims())
	header, payload, sig := split3(valid)
	for _, seed := range []string{
		valid, "Bearer " + valid, "bearer  " + valid + " ", "", "Bearer", "garbage",
		header + "." + payload, valid + ".", header + ".." + sig, "." + payload + "." + sig,
		b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + payload + ".",
		b64([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + payload + "." + sig,
		b64([]byte(`{"alg":"RS256","kid":"nope"}`)) + "." + payload + "." + sig,
		b64([]byte(`{"alg":"RS256"}`)) + "." + payload + "." + sig,
		header + "." + b64([]byte(`{"iss":1}`)) + "." + sig,
		valid[:len(valid)/2], flipLastBits(valid), strings.Repeat("A", 17<<10),
		sign(f, jwt.SigningMethodES256, k.ec256, "k-es256", with(fi.claims(), "aud", "api://x")),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		resp, err := h.Handle(context.Background(), idp.Event{DatastoreEndpoint: endpoint, BearerToken: tok, OperationName: "ReadResource"})
		if err != nil {
			t.Fatalf("the handler returned an error: %v", err)
		}
		if !resp.AuthPayload.IsAuthorized {
			if resp.AuthPayload.Scope != "" {
				t.Fatalf("a refusal granted %q", resp.AuthPayload.Scope)
			}
			return
		}
		s := strings.TrimSpace(tok)
		if len(s) >= 7 && strings.EqualFold(s[:7], "bearer ") {
			s = strings.TrimSpace(s[7:])
		}
		if s != valid {
			t.Fatalf("authorized a token that is not the valid one: %q", tok)
		}
	})
}
