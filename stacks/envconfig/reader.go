package envconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// reader walks one environment's JSON object, collecting an error for every
// missing, mistyped or unknown key, each naming the environment and the key's
// dotted path.
type reader struct {
	env  string
	errs []error
	// appsBad: okta.apps had errors of form (types, unknown keys), so the
	// contract's check of their content is skipped.
	appsBad bool
}

func (r *reader) fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("environment %q: %s %s", r.env, key, fmt.Sprintf(format, args...)))
}

func (r *reader) err() error { return errors.Join(r.errs...) }

// object is one JSON object being read; done() reports keys nobody read, which
// catches typos such as "orgURL" that would otherwise silently fall back to a default.
type object struct {
	r    *reader
	path string
	m    map[string]any
	read map[string]bool
}

func (r *reader) root(raw any) *object {
	m, ok := raw.(map[string]any)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("environment %q: must be an object, got %s", r.env, typeName(raw)))
		m = map[string]any{}
	}
	return &object{r: r, m: m, read: map[string]bool{}}
}

func (o *object) key(k string) string {
	if o.path == "" {
		return k
	}
	return o.path + "." + k
}

func (o *object) has(k string) bool {
	v, ok := o.m[k]
	return ok && v != nil
}

func (o *object) get(k string) (any, bool) {
	o.read[k] = true
	v, ok := o.m[k]
	return v, ok && v != nil
}

func (o *object) str(k, def string) string {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	s, isString := v.(string)
	if !isString {
		o.r.fail(o.key(k), "must be a string, got %s", typeName(v))
		return def
	}
	return strings.TrimSpace(s)
}

func (o *object) boolean(k string, def bool) bool {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		o.r.fail(o.key(k), "must be true or false, got %s", typeName(v))
		return def
	}
	return b
}

func (o *object) integer(k string, def int) int {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	f, isNumber := v.(float64)
	if !isNumber || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		o.r.fail(o.key(k), "must be a whole number, got %s", typeName(v))
		return def
	}
	return int(f)
}

func (o *object) object(k string, required bool) *object {
	child := &object{r: o.r, path: o.key(k), m: map[string]any{}, read: map[string]bool{}}
	v, ok := o.get(k)
	if !ok {
		if required {
			o.r.fail(o.key(k), "is required")
		}
		return child
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		o.r.fail(o.key(k), "must be an object, got %s", typeName(v))
		return child
	}
	child.m = m
	return child
}

func (o *object) stringMap(k string) map[string]string {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		o.r.fail(o.key(k), "must be an object of strings, got %s", typeName(v))
		return nil
	}
	out := make(map[string]string, len(m))
	for mk, mv := range m {
		s, isString := mv.(string)
		if !isString {
			o.r.fail(o.key(k)+"."+mk, "must be a string, got %s", typeName(mv))
			continue
		}
		out[mk] = s
	}
	return out
}

func (o *object) stringList(k string) []string {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		o.r.fail(o.key(k), "must be a list of strings, got %s", typeName(v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, isString := item.(string)
		if !isString || strings.TrimSpace(s) == "" {
			o.r.fail(fmt.Sprintf("%s[%d]", o.key(k), i), "must be a non-empty string, got %s", typeName(item))
			continue
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// publicJWKS reads a JSON Web Key Set object and returns it as JSON. It refuses
// private key material: cdk.json ends up in templates and version control.
func (o *object) publicJWKS(k string) string {
	v, ok := o.get(k)
	if !ok {
		return ""
	}
	m, isObject := v.(map[string]any)
	keys, hasKeys := m["keys"].([]any)
	if !isObject || !hasKeys || len(keys) == 0 {
		o.r.fail(o.key(k), "must be a JSON Web Key Set object with a non-empty \"keys\" list, got %s", typeName(v))
		return ""
	}
	for i, key := range keys {
		jwk, isJWK := key.(map[string]any)
		if !isJWK {
			o.r.fail(fmt.Sprintf("%s.keys[%d]", o.key(k), i), "must be a JSON Web Key object, got %s", typeName(key))
			continue
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, has := jwk[private]; has {
				o.r.fail(fmt.Sprintf("%s.keys[%d]", o.key(k), i), "holds private key material (%q): only the public key belongs here", private)
				break
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		o.r.fail(o.key(k), "can't be encoded: %v", err)
		return ""
	}
	return string(b)
}

func (o *object) done() {
	var unknown []string
	for k := range o.m {
		if !o.read[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		o.r.fail(o.key(k), "is not a known key (see the configuration reference in README.md)")
	}
}

// typeName names a JSON value's type for error messages.
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("a string (%q)", v)
	case bool:
		return fmt.Sprintf("a boolean (%v)", v)
	case float64:
		return fmt.Sprintf("a number (%v)", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
