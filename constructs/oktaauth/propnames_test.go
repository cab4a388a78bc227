package oktaauth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// contractProps reads the exported Prop* constants of contract/oktaprops
// from its source, so a property added there without a prop name here fails
// this test. It returns name -> value.
func contractProps(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../contract/oktaprops/*.go")
	require.NoError(t, err)
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || !strings.HasPrefix(name.Name, "Prop") {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					require.True(t, ok, "%s is not a string literal", name.Name)
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out[name.Name] = v
				}
			}
		}
	}
	require.Contains(t, out, "PropOrgURL", "the contract's source was read")
	return out
}

func TestEveryPropertyOfTheContractHasAPropName(t *testing.T) {
	props := contractProps(t)
	for name, property := range props {
		_, named := propNames[property]
		_, own := ownProperties[property]
		assert.True(t, named != own, "oktaprops.%s (%s) must be in exactly one of propNames and ownProperties", name, property)
	}
	t.Run("and the maps name nothing else", func(t *testing.T) {
		values := map[string]bool{}
		for _, v := range props {
			values[v] = true
		}
		for property := range propNames {
			assert.True(t, values[property], "propNames has %q, which is no oktaprops.Prop* constant", property)
		}
		for property := range ownProperties {
			assert.True(t, values[property], "ownProperties has %q, which is no oktaprops.Prop* constant", property)
		}
	})
	t.Run("every property the handler reads is covered", func(t *testing.T) {
		for _, property := range append(slices.Clone(oktaprops.KnownProperties), oktaprops.KnownAudienceBindingProperties...) {
			if property == "ServiceToken" || property == "ServiceTimeout" {
				continue // the framework's and CloudFormation's, never in error
			}
			_, named := propNames[property]
			_, own := ownProperties[property]
			assert.True(t, named || own, property)
		}
	})
}

func TestEveryPropNameIsAFieldOfTheProps(t *testing.T) {
	for property, path := range propNames {
		typ := reflect.TypeFor[SmartAuthorizationServerProps]()
		for _, field := range strings.Split(path, ".") {
			for typ.Kind() == reflect.Pointer {
				typ = typ.Elem()
			}
			f, ok := typ.FieldByName(field)
			if !assert.True(t, ok, "%s: props.%s has no field %s", property, path, field) {
				break
			}
			typ = f.Type
		}
	}
}

func TestDescribeSpeaksTheProps(t *testing.T) {
	for _, tc := range []struct {
		property, reason, want string
	}{
		{"ScopeLevels[1]", `must be patient, user or system, got "admin"`,
			`props.ScopeLevels[1]: must be patient, user or system, got "admin"`},
		{"PublicClientRedirectUris[0]", "must be absolute", "props.PublicClient.RedirectUris[0]: must be absolute"},
		{"RefreshTokenWindowMinutes", "must be at least AccessTokenLifetimeMinutes (120 minutes), got 60 minutes",
			"props.RefreshTokenWindow: must be at least props.AccessTokenLifetime (120 minutes), got 60 minutes"},
		{"ScopeLevels", "BackendClient needs system/ scopes: include system in ScopeLevels or list system/ ExtraScopes",
			"props.ScopeLevels: props.BackendClient needs system/ scopes: include system in props.ScopeLevels or list system/ props.ExtraScopes"},
		{"PatientClaimName", `"PatientClaim" is not a usable claim name, nor is PatientClaimName`,
			`props.PatientClaimName: "PatientClaim" is not a usable claim name, nor is props.PatientClaimName`},
		{"ExtraClaims[0].groupFilterType", "applies to GROUPS claims only",
			"props.ExtraClaims[0].GroupFilterType: applies to GROUPS claims only"},
		{"ExtraClaims[2].scopes[1]", `scope "x" is not in the catalogue`, `props.ExtraClaims[2].Scopes[1]: scope "x" is not in the catalogue`},
		{"BackendClientJwks.keys[0]", "an RSA public key needs n and e", "props.BackendClient.Jwks.keys[0]: an RSA public key needs n and e"},
		{"ScopeFlavor", "is the old name of SmartVersion", "props.SmartVersion: is the old name of props.SmartVersion"},
		{"ClientSecretArn", "is required", "property ClientSecretArn (the ARN of ClientSecret(), which the construct makes): is required"},
	} {
		t.Run(tc.property, func(t *testing.T) {
			assert.Equal(t, tc.want, describe(&oktaprops.PropertyError{Property: tc.property, Reason: tc.reason}))
		})
	}
}

// The composite sets the org, its credential, the SMART version and the
// introspection client itself and passes the Options through: none of the
// four may be an option, or the composite would have to check at run time
// that its users left it unset.
func TestTheOptionsLeaveTheCompositeSettingsToTheProps(t *testing.T) {
	composite := []string{"OrgUrl", "CredentialSecret", "SmartVersion", "IntrospectionClient", "ProxyAssertionKey"}
	options := reflect.TypeFor[SmartAuthorizationServerOptions]()
	for _, name := range composite {
		_, ok := options.FieldByName(name)
		assert.False(t, ok, "SmartAuthorizationServerOptions has %s", name)
	}
	props := reflect.TypeFor[SmartAuthorizationServerProps]()
	var own []string
	for i := range props.NumField() {
		if f := props.Field(i); !f.Anonymous {
			own = append(own, f.Name)
		}
	}
	assert.ElementsMatch(t, composite, own, "the props' own fields besides the embedded options")
}
