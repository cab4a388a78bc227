// Package wellknown fetches the JSON documents an authorization server
// publishes for its clients: discovery metadata (RFC 8414, OpenID Connect
// Discovery 1.0) and JWK Sets (RFC 7517). The token validator and the data
// store handler's discovery check read them the same way: one GET asking for
// JSON, 200 only, a bounded body, and errors that do not repeat the URL.
package wellknown

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

// Get fetches u with client and returns the body of a 200 answer, refusing
// one larger than maxBody bytes. Its errors do not name u, and carry no
// *url.Error (which would repeat u with its query): the caller names the URL,
// redacted (httpsurl.Redact).
func Get(ctx context.Context, client *http.Client, u string, maxBody int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, httpsurl.UnwrapURLError(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, httpsurl.UnwrapURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) // keep the connection reusable
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("document larger than %d bytes", maxBody)
	}
	return body, nil
}
