// Package jsiiptr holds the pointer helpers the constructs need beside jsii's
// own (jsii.String, jsii.Bool, jsii.Ptr): jsii.Ptr takes only strings,
// booleans, numbers and times, while CDK props also take pointers to slices
// and maps, and a construct's panic message reads its *string id.
package jsiiptr

// To returns a pointer to v, of any type: &[]*string, &map[string]any.
func To[T any](v T) *T { return &v }

// Value returns what p points to, or T's zero value when p is nil (a nil
// construct id in a panic message reads as "").
func Value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
