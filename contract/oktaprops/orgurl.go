package oktaprops

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

// CheckOrgURL checks the address of an Okta org, as the stacks'
// configuration, the construct and the handler's parser all do, and returns
// it as scheme://host (a trailing slash dropped). It must be https with a
// host and nothing else: no credentials, path, query or fragment, and not
// the admin console's address (<org>-admin.okta.com), which serves no API.
//
// loopbackHTTP also accepts http on a loopback host (httpsurl.IsLoopback),
// where no Okta org lives: that is the handler's tests' in-process fake.
// Configuration and constructs pass false: a deployment is always https.
func CheckOrgURL(raw string, loopbackHTTP bool) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("must be an https URL with a host and no path, query or fragment, such as https://example.okta.com, got %q", httpsurl.Redact(raw))
	case u.User != nil:
		return "", fmt.Errorf("must be the https address of the Okta org, without credentials in it")
	}
	scheme := u.Scheme == "https" || loopbackHTTP && u.Scheme == "http" && httpsurl.IsLoopback(u.Hostname())
	if !scheme || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("must be an https URL with a host and no path, query or fragment, such as https://example.okta.com, got %q", httpsurl.Redact(raw))
	}
	if strings.Contains(u.Host, "-admin.") {
		return "", fmt.Errorf("must be the org address, not the admin console's (-admin), got %q", u.Host)
	}
	return u.Scheme + "://" + u.Host, nil
}
