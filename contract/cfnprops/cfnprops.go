// Package cfnprops reads the properties CloudFormation hands to a custom
// resource handler. It imports nothing but the standard library, so that the
// contract packages built on it (the property parsers the constructs run at
// synthesis time and the handlers at deploy time) link no SDK.
package cfnprops

import (
	"fmt"
	"strconv"
	"strings"
)

// PropertyError names the resource property that is missing or invalid.
type PropertyError struct {
	Property string
	Reason   string
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("property %s: %s", e.Property, e.Reason)
}

// Properties reads CloudFormation resource properties. CloudFormation delivers
// every scalar as a string ("42", "true"), whatever the template said, so the
// typed getters parse strings and also accept the JSON type itself (which is what
// tests and the framework's local invocations send).
type Properties map[string]any

// Has reports whether the property is present and not empty.
func (p Properties) Has(name string) bool {
	v, ok := p[name]
	if !ok || v == nil {
		return false
	}
	if s, isString := v.(string); isString && s == "" {
		return false
	}
	return true
}

// String returns a required string property.
func (p Properties) String(name string) (string, error) {
	if !p.Has(name) {
		return "", &PropertyError{name, "is required"}
	}
	s, ok := p[name].(string)
	if !ok {
		return "", &PropertyError{name, fmt.Sprintf("must be a string, got %T", p[name])}
	}
	return s, nil
}

// OptionalString returns a string property, or def when it is absent.
func (p Properties) OptionalString(name, def string) (string, error) {
	if !p.Has(name) {
		return def, nil
	}
	return p.String(name)
}

// Bool returns a boolean property ("true"/"false"), or def when it is absent.
func (p Properties) Bool(name string, def bool) (bool, error) {
	if !p.Has(name) {
		return def, nil
	}
	switch v := p[name].(type) {
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, &PropertyError{name, fmt.Sprintf("must be true or false, got %q", v)}
		}
		return b, nil
	default:
		return false, &PropertyError{name, fmt.Sprintf("must be true or false, got %T", v)}
	}
}

// Int returns an integer property, or def when it is absent.
func (p Properties) Int(name string, def int) (int, error) {
	if !p.Has(name) {
		return def, nil
	}
	switch v := p[name].(type) {
	case float64:
		if v != float64(int(v)) {
			return 0, &PropertyError{name, fmt.Sprintf("must be a whole number, got %v", v)}
		}
		return int(v), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, &PropertyError{name, fmt.Sprintf("must be a whole number, got %q", v)}
		}
		return n, nil
	default:
		return 0, &PropertyError{name, fmt.Sprintf("must be a whole number, got %T", v)}
	}
}

// StringList returns a list-of-strings property (absent: nil).
func (p Properties) StringList(name string) ([]string, error) {
	if !p.Has(name) {
		return nil, nil
	}
	raw, ok := p[name].([]any)
	if !ok {
		if ss, isStrings := p[name].([]string); isStrings {
			return ss, nil
		}
		return nil, &PropertyError{name, fmt.Sprintf("must be a list of strings, got %T", p[name])}
	}
	out := make([]string, 0, len(raw))
	for i, item := range raw {
		s, isString := item.(string)
		if !isString {
			return nil, &PropertyError{fmt.Sprintf("%s[%d]", name, i), fmt.Sprintf("must be a string, got %T", item)}
		}
		out = append(out, s)
	}
	return out, nil
}

// StringMap returns a map-of-strings property such as Tags (absent: nil).
func (p Properties) StringMap(name string) (map[string]string, error) {
	if !p.Has(name) {
		return nil, nil
	}
	raw, ok := p[name].(map[string]any)
	if !ok {
		return nil, &PropertyError{name, fmt.Sprintf("must be a map of strings, got %T", p[name])}
	}
	out := make(map[string]string, len(raw))
	for k, item := range raw {
		s, isString := item.(string)
		if !isString {
			return nil, &PropertyError{fmt.Sprintf("%s.%s", name, k), fmt.Sprintf("must be a string, got %T", item)}
		}
		out[k] = s
	}
	return out, nil
}
