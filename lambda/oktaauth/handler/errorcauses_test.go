package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// Okta's error answers may quote what was sent (see fakeokta's faultError);
// the handler logs them and returns them as the CloudFormation failure
// reason, so a secret sent must come back redacted, with the error's summary
// and the field it names kept for the user to act on.
func TestOktaErrorsThatEchoASecretSentKeepItOutOfLogsAndTheFailureReason(t *testing.T) {
	t.Run("a hook's Authorization value quoted in an error cause of the hook's create", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev, secret := e.hookEvent()
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/inlineHooks", Kind: fault.Invalid,
			Message: "Api validation failed: channel.config.authScheme.value",
			Causes:  []string{"channel.config.authScheme.value: '" + secret + "' is not a valid header value"}})
		resp, err := e.run(ev)
		require.Error(t, err)
		noSecretIn(t, e, secret, resp, err)
		assert.Contains(t, err.Error(), "Api validation failed: channel.config.authScheme.value", "the summary stays")
		assert.Contains(t, err.Error(), "channel.config.authScheme.value: '[redacted]' is not a valid header value",
			"the cause stays, naming the field")
		assert.Contains(t, e.logs.String(), "channel.config.authScheme.value: '[redacted]'", "the log has it too")
	})
	t.Run("a rotated hook value quoted in the summary of the hook's replace", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev, secret := e.hookEvent()
		created, err := e.run(ev)
		require.NoError(t, err)
		rotated := "rotated-" + secret
		e.sm.Put("ehr-launch-hook-secret", rotated)
		e.okta.Faults.Add(fault.Rule{Op: "PUT /api/v1/inlineHooks/*", Kind: fault.Invalid,
			Message: "Api validation failed: header value " + rotated})
		resp, err := e.run(updateEvent(ev, created.PhysicalResourceID, nil))
		require.Error(t, err)
		noSecretIn(t, e, rotated, resp, err)
		assert.Contains(t, err.Error(), "Api validation failed: header value [redacted]")
	})
	t.Run("the API token quoted in an error", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		e.okta.Faults.Add(fault.Rule{Op: "GET /api/v1/authorizationServers", Kind: fault.Invalid,
			Causes: []string{"Authorization: SSWS " + fakeokta.DefaultAPIToken + " is not allowed here"}})
		resp, err := e.run(e.fullEvent())
		require.Error(t, err)
		noSecretIn(t, e, fakeokta.DefaultAPIToken, resp, err)
		assert.Contains(t, err.Error(), "Authorization: SSWS [redacted] is not allowed here")
	})
}
