package cfnprops_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
)

// props decodes properties as CloudFormation delivers them: every scalar a string.
func props(t *testing.T, s string) cfnprops.Properties {
	t.Helper()
	var p cfnprops.Properties
	require.NoError(t, json.Unmarshal([]byte(s), &p))
	return p
}

func TestScalarsArriveAsStringsAndAreParsed(t *testing.T) {
	p := props(t, `{"Name": "fhir", "Enabled": "true", "Count": "42", "List": ["a", "b"], "Tags": {"k": "v"}, "Empty": ""}`)

	s, err := p.String("Name")
	require.NoError(t, err)
	require.Equal(t, "fhir", s)
	b, err := p.Bool("Enabled", false)
	require.NoError(t, err)
	require.True(t, b)
	n, err := p.Int("Count", 0)
	require.NoError(t, err)
	require.Equal(t, 42, n)
	l, err := p.StringList("List")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, l)
	m, err := p.StringMap("Tags")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"k": "v"}, m)

	def, err := p.OptionalString("Empty", "default")
	require.NoError(t, err)
	require.Equal(t, "default", def, "an empty string counts as absent")
	bdef, err := p.Bool("Missing", true)
	require.NoError(t, err)
	require.True(t, bdef)
}

func TestABadPropertyIsNamedInTheError(t *testing.T) {
	p := props(t, `{"Enabled": "yes", "Count": "4.5", "List": "a", "Tags": {"k": 1}, "Items": ["a", 2]}`)
	cases := map[string]func() error{
		"Enabled":  func() error { _, err := p.Bool("Enabled", false); return err },
		"Count":    func() error { _, err := p.Int("Count", 0); return err },
		"List":     func() error { _, err := p.StringList("List"); return err },
		"Tags.k":   func() error { _, err := p.StringMap("Tags"); return err },
		"Items[1]": func() error { _, err := p.StringList("Items"); return err },
		"Name":     func() error { _, err := p.String("Name"); return err },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			err := f()
			var pe *cfnprops.PropertyError
			require.True(t, errors.As(err, &pe), "got %v", err)
			require.Equal(t, name, pe.Property)
			require.Contains(t, err.Error(), "property "+name+":")
		})
	}
}
