package frameworktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/datastore/handler"
)

func TestCreate(t *testing.T) {
	t.Run("a create answers SUCCESS with the attributes once the data store is ACTIVE", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		res := e.stack.Create(datastoreResource(properties()))
		e.settle()
		require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)

		r := e.stack.Resource(logicalID)
		assert.Equal(t, []string{r.PhysicalID}, e.live())
		assert.Equal(t, "ACTIVE", e.status(r.PhysicalID))
		assert.Equal(t, r.PhysicalID, r.Data[handler.AttrDatastoreID])
		assert.Contains(t, r.Data[handler.AttrDatastoreEndpoint], r.PhysicalID)
		ex := e.fw.Executions()
		require.Len(t, ex, 1)
		assert.Greater(t, ex[0].Attempts, 1, "the waiter polled isComplete until the data store was ACTIVE")
		assert.False(t, ex[0].TimedOut)
	})
}
