package stacks

import (
	"testing"

	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

func TestEveryAcceptedLogRetentionHasACDKName(t *testing.T) {
	for _, days := range envconfig.LogRetentionDays {
		if retentionDays[days] == "" {
			t.Errorf("logRetentionDays %d is accepted by envconfig but has no awslogs.RetentionDays", days)
		}
	}
	if len(retentionDays) != len(envconfig.LogRetentionDays) {
		t.Errorf("retentionDays has %d entries, envconfig accepts %d values", len(retentionDays), len(envconfig.LogRetentionDays))
	}
}
