package idp

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// newHTTPClient returns the client for discovery, JWK Set and introspection
// calls. Every phase has a timeout (each call also carries the deadline of its
// request or of the start-up), and redirects are refused: the URLs are
// configured or discovered and checked, and a redirect could lead off them (or
// to plain http).
func newHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: limitedBodies{&http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
			// Lambda freezes the process between invocations; an idle connection
			// the server closed meanwhile is retried transparently for GETs and
			// for introspection (marked idempotent), so keeping them is safe.
			IdleConnTimeout: 90 * time.Second,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
	}
}

var errRedirect = errors.New("redirects are not followed")

// limitedBodies caps every response body at maxBody: the JWK Set is decoded
// straight from the body (keySet.fetch), and a misbehaving server must not
// exhaust memory.
type limitedBodies struct{ http.RoundTripper }

func (l limitedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.RoundTripper.RoundTrip(r)
	if err == nil {
		resp.Body = limitedBody{io.LimitReader(resp.Body, maxBody), resp.Body}
	}
	return resp, err
}

type limitedBody struct {
	io.Reader
	io.Closer
}
