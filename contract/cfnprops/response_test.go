package cfnprops_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
)

func TestTheFrameworkResponseIsMeasuredAsTheFrameworkSendsIt(t *testing.T) {
	data := map[string]any{"Issuer": "https://example.okta.com/oauth2/aus1", "Note": "a<b&c"}
	r := cfnprops.SuccessResponse("arn:aws:cloudformation:us-east-1:123456789012:stack/s/0a1b", "req-1", "Okta1A2B", "aus1", data)

	t.Run("in cfn-response.js's field order and with JSON.stringify's escaping (none for <, >, &)", func(t *testing.T) {
		want := `{"Status":"SUCCESS","Reason":"SUCCESS","StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/s/0a1b",` +
			`"RequestId":"req-1","PhysicalResourceId":"aus1","LogicalResourceId":"Okta1A2B",` +
			`"Data":{"Issuer":"https://example.okta.com/oauth2/aus1","Note":"a<b&c"}}`
		assert.Equal(t, len(want), r.Size())
		var back map[string]any
		require.NoError(t, json.Unmarshal([]byte(want), &back))
		_, noEcho := back["NoEcho"]
		assert.False(t, noEcho, "NoEcho is undefined, so left out, unless true")
	})
	t.Run("the longest echoed fields bound any request's", func(t *testing.T) {
		longest := cfnprops.LongestSuccessResponse("aus1", data).Size()
		assert.Equal(t, r.Size()+cfnprops.MaxStackIDLength-len(r.StackID)+cfnprops.RequestIDLength-len(r.RequestID)+
			cfnprops.MaxLogicalIDLength-len(r.LogicalResourceID), longest)
		stack := "arn:aws-iso-b:cloudformation:us-isob-east-1:123456789012:stack/" + strings.Repeat("s", 128) + "/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		assert.LessOrEqual(t, len(stack), cfnprops.MaxStackIDLength)
	})
}
