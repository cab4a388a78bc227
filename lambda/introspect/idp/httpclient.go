package idp

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// newHTTPClient returns the client for discovery, JWK Set and introspection
// calls. Every phase has a timeout (each call also carries the deadline of its
// request or of the start-up), and redirects are refused: the URLs are
// configured or discovered and checked, and a redirect could lead off them (or
// to plain http). Each reader bounds what it reads of a body itself (maxBody:
// wellknown.Get for discovery and the JWK Set, the introspection call its own).
func newHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
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
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
	}
}

var errRedirect = errors.New("redirects are not followed")
