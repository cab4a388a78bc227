package idp

import "github.com/openhealthstack/smart-healthlake/lambda/introspect/tokencache"

// ForgetToken drops one token from the validated-token cache, so a benchmark
// can measure the first sight of a token without signing a new one per
// iteration (a miss and an insert, as in production).
func (h *Handler) ForgetToken(token string) { h.cache.Delete(tokencache.KeyOf(token)) }
