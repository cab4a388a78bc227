// Package randhex makes random hexadecimal strings: the ids, jtis, states and
// throwaway secrets of the sandbox, smartcheck and their tests.
package randhex

import (
	"crypto/rand"
	"encoding/hex"
)

// String returns n random bytes from crypto/rand, hex-encoded (2n characters).
func String(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand's documentation)
	return hex.EncodeToString(b)
}
