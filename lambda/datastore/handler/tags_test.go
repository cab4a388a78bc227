package handler

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
)

func TestTags(t *testing.T) {
	t.Run("tags are added, changed and removed with TagResource and UntagResource", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropTags] = map[string]any{"team": "platform", "cost-center": "42"}
		}))
		require.NoError(t, o.err)

		tag := x.fake.Requests("TagResource")
		require.Len(t, tag, 1)
		assert.Equal(t, []any{
			map[string]any{"Key": "cost-center", "Value": "42"},
			map[string]any{"Key": "team", "Value": "platform"},
		}, tag[0].Body["Tags"])
		untag := x.fake.Requests("UntagResource")
		require.Len(t, untag, 1)
		assert.Equal(t, []any{"env"}, untag[0].Body["TagKeys"])
		assert.Equal(t, map[string]string{"team": "platform", "cost-center": "42"}, x.userTags(id))
		assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore"), "tags alone need no data store update")
		assert.Equal(t, id, o.id)
	})

	t.Run("a tag HealthLake would refuse fails before any call, naming it, on Create and Update", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		bad := clone(t, created.ResourceProperties)
		bad[datastoreprops.PropTags] = map[string]any{"a,b": "x", "team": "x!"}
		e := created
		e.ResourceProperties = bad
		o := x.run(e)
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), `property Tags.a,b: the key must be 1-128 letters, digits, spaces or _.:/=+-@, got "a,b"`)
		assert.Contains(t, o.err.Error(), `property Tags.team: the value must be 0-256 letters, digits, spaces or _.:/=+-@, got "x!"`)
		assert.Empty(t, x.fake.Requests())

		id := x.mustRun(created).id
		o = x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropTags] = map[string]any{"owner": "ops;dev"} }))
		require.ErrorContains(t, o.err, "property Tags.owner: ")
		assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore", "TagResource", "UntagResource"))

		// HealthLake itself (here the fake, as the service) refuses the same tag.
		_, err := x.h.client.TagResource(x.ctx, &healthlake.TagResourceInput{
			ResourceARN: aws.String(x.datastore(id).ARN),
			Tags:        []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops;dev")}},
		})
		var invalid *types.ValidationException
		require.ErrorAs(t, err, &invalid)
	})

	t.Run("tags set outside the stack are left alone", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		_, err := x.h.client.TagResource(x.ctx, &healthlake.TagResourceInput{
			ResourceARN: aws.String(x.datastore(id).ARN),
			Tags:        []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}},
		})
		require.NoError(t, err)

		x.mustRun(updateEvent(t, created, id, "update-1", func(p map[string]any) { delete(p, datastoreprops.PropTags) }))
		assert.Equal(t, map[string]string{"owner": "ops"}, x.userTags(id))
	})
}

func TestTagCount(t *testing.T) {
	tags := func(n int) map[string]any {
		m := map[string]any{}
		for i := range n {
			m[fmt.Sprintf("tag-%03d", i)] = "v"
		}
		return m
	}
	t.Run("the handler's own keys and the user's limit add up to HealthLake's 200", func(t *testing.T) {
		assert.Equal(t, 200, datastoreprops.MaxUserTags+len(handlerTagKeys))
	})

	t.Run("as many tags as leave room for the handler's own are accepted, and the data store is created with all of them", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		e.ResourceProperties[datastoreprops.PropTags] = tags(datastoreprops.MaxUserTags)
		o := x.run(e)
		require.NoError(t, o.err)
		assert.Len(t, x.userTags(o.id), datastoreprops.MaxUserTags)
	})

	t.Run("one more is refused at parse, naming the property", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropTags] = tags(datastoreprops.MaxUserTags + 1)
		_, err := ParseSpec(p)
		var perr *cfnprops.PropertyError
		require.ErrorAs(t, err, &perr)
		assert.Equal(t, datastoreprops.PropTags, perr.Property)
		assert.Contains(t, err.Error(), fmt.Sprintf("at most %d tags, got %d", datastoreprops.MaxUserTags, datastoreprops.MaxUserTags+1))
	})
}
