package fakeokta

import (
	"bytes"
	"net/http"
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
		rec := &heldResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		t := time.NewTimer(s.opts.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client has gone: nobody reads the answer
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// heldResponse records an answer so that it can be sent later.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header         { return h.header }
func (h *heldResponse) WriteHeader(status int)      { h.status = status }
func (h *heldResponse) Write(p []byte) (int, error) { return h.body.Write(p) }
