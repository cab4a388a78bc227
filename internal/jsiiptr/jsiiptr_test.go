package jsiiptr_test

import (
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/jsiiptr"
)

func TestTo(t *testing.T) {
	t.Run("each call points to a copy of its own", func(t *testing.T) {
		s := []string{"a"}
		p, q := jsiiptr.To(s), jsiiptr.To(s)
		if p == q || (*p)[0] != "a" {
			t.Fatalf("To(%v) = %p, %p", s, p, q)
		}
	})
}

func TestValue(t *testing.T) {
	t.Run("a nil pointer reads as the zero value", func(t *testing.T) {
		if got := jsiiptr.Value[string](nil); got != "" {
			t.Fatalf("Value(nil) = %q", got)
		}
	})
	t.Run("a pointer reads as what it points to", func(t *testing.T) {
		id := "Okta"
		if got := jsiiptr.Value(&id); got != "Okta" {
			t.Fatalf("Value(&%q) = %q", id, got)
		}
	})
}
