package idp

import (
	"errors"
	"net/url"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// redactURL returns a URL fit for logs and errors: without userinfo, query or
// fragment, which may carry credentials or tokens.
func redactURL(raw string) string { return validatorenv.RedactURL(raw) }

// unwrapURLError drops the *url.Error wrapper net/http puts around a client
// error, which repeats the URL with its query.
func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
