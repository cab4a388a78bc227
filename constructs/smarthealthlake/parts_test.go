package smarthealthlake_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

func TestThePartsAreTheOnesTheCompositeWires(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	dsID, _ := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	oktaID, _ := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	resolved := func(v any) any { return cdktest.Resolved(t, stack, v) }

	t.Run("Datastore is the data store resource, and the composite's accessors delegate to it", func(t *testing.T) {
		require.Equal(t, cdktest.GetAtt(dsID, "DatastoreId"), resolved(shl.Datastore().DatastoreId()))
		require.Equal(t, resolved(shl.Datastore().DatastoreArn()), resolved(shl.DatastoreArn()))
		require.Equal(t, resolved(shl.Datastore().DatastoreEndpoint()), resolved(shl.DatastoreEndpoint()))
		require.Equal(t, resolved(shl.Datastore().EncryptionKey().KeyArn()), resolved(shl.EncryptionKey().KeyArn()))
	})
	t.Run("AuthorizationServer is the Okta resource the issuer comes from", func(t *testing.T) {
		require.Equal(t, cdktest.GetAtt(oktaID, "Issuer"), resolved(shl.AuthorizationServer().Issuer()))
		require.Equal(t, resolved(shl.AuthorizationServer().Issuer()), resolved(shl.Issuer()))
	})
	t.Run("TokenValidator's function is the one the composite's Function returns", func(t *testing.T) {
		require.Equal(t, cdktest.LogicalID(t, shl.Function()), cdktest.LogicalID(t, shl.TokenValidator().Function()))
	})
	t.Run("ServiceRole is the role whose ARN the validator hands HealthLake", func(t *testing.T) {
		var env map[string]any
		for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
			if v, ok := fn.Properties["Environment"].(map[string]any); ok {
				if vars := v["Variables"].(map[string]any); vars["HEALTHLAKE_ROLE_ARN"] != nil {
					env = vars
				}
			}
		}
		require.NotNil(t, env, "the token validator's environment")
		require.Equal(t, resolved(shl.ServiceRole().RoleArn()), env["HEALTHLAKE_ROLE_ARN"])
	})
}
