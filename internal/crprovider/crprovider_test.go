package crprovider_test

import (
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/crprovider"
)

// The constructs' tests cover what New builds; this covers what it refuses,
// before any jsii call: without these props it would build a framework whose
// functions log nowhere of ours or carry no excuses.
func TestNewPanicsWithoutItsRequiredProps(t *testing.T) {
	for name, props := range map[string]*crprovider.Props{"nil props": nil, "empty props": {}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "props.Logs, props.OnEvent and props.Excuses are required") {
					t.Errorf("panic = %q", msg)
				}
			}()
			crprovider.New(nil, props)
		})
	}
}
