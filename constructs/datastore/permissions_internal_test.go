package datastore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryListedActionHasExactlyOneGrant keeps the lists and the grants in
// step: an action added to a list without a decided scope, or granted twice
// (once more broadly), fails here.
func TestEveryListedActionHasExactlyOneGrant(t *testing.T) {
	for _, h := range []handlerRole{onEventHandler, isCompleteHandler} {
		for _, a := range handlerActions(h) {
			var sids []string
			for _, g := range grants {
				for _, ga := range g.actions {
					if ga == a {
						sids = append(sids, g.sid)
					}
				}
			}
			require.Len(t, sids, 1, "%s: %s is granted by %v", h, a, sids)
		}
	}
}
