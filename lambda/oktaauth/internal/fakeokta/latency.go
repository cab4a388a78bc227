package fakeokta

import (
	"net/http"
	"net/http/httptest"
	"time"
)

// delayed holds each answer for Options.Latency after the fake has carried the
// request out, as a slow network or a loaded org would. The change is made
// before the wait: a client that gives up meanwhile (its context ends) has
// still changed Okta and never learns the new object's id. A server that has
// received a request carries it out whether or not the client stays for the
// answer; a client whose connection ends first cannot tell (RFC 9110, section
// 9.2.2, on retrying non-idempotent requests such as Okta's create POSTs).
func (s *Server) delayed(next http.Handler) http.Handler {
	if s.opts.Latency <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		t := time.NewTimer(s.opts.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client has gone: nobody reads the answer
		}
		res := rec.Result()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rec.Body.Bytes())
	})
}
