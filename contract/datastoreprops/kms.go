package datastoreprops

import (
	"fmt"
	"regexp"
)

// KMSARNKind says what a KMS ARN names.
type KMSARNKind string

const (
	// KMSKey is arn:...:kms:<region>:<account>:key/<key id>.
	KMSKey KMSARNKind = "key"
	// KMSAlias is arn:...:kms:<region>:<account>:alias/<alias name>.
	KMSAlias KMSARNKind = "alias"
)

// kmsARN is the one rule on a KMS ARN in this project: a partition (aws,
// aws-cn, aws-us-gov, ...), a region (us-east-1, us-gov-west-1), a 12-digit
// account, then key/<id> (a key id: a UUID, or mrk- and hex for a
// multi-Region key) or alias/<name> (KMS's AliasName pattern,
// ^[a-zA-Z0-9:/_-]+$, after alias/). A bare key id or alias name would hide
// the account and the region, so ARNs only.
var kmsARN = regexp.MustCompile(`^arn:aws[-a-z]*:kms:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:(key|alias)/([a-zA-Z0-9:/_-]+)$`)

var keyID = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// ParseKMSARN says whether s is a KMS key or alias ARN.
func ParseKMSARN(s string) (KMSARNKind, error) {
	m := kmsARN.FindStringSubmatch(s)
	if m == nil || (KMSARNKind(m[1]) == KMSKey && !keyID.MatchString(m[2])) {
		return "", fmt.Errorf("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or alias ARN (...:alias/<name>), got %q", s)
	}
	return KMSARNKind(m[1]), nil
}

// CheckKeyARN is the rule for a key that IAM statements are granted on (the
// key of a Secrets Manager secret the stacks read, say): a key ARN, not an
// alias. IAM authorizes kms:Decrypt and the other key operations against the
// key's ARN; an alias ARN in a statement's Resource does not cover the key it
// points to (AWS KMS Developer Guide, "Using aliases to control access to
// KMS keys").
func CheckKeyARN(s string) error {
	kind, err := ParseKMSARN(s)
	if err != nil {
		return fmt.Errorf("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got %q", s)
	}
	if kind == KMSAlias {
		return fmt.Errorf("must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias ARN: "+
			"IAM grants key use on the key's own ARN, which an alias ARN does not cover, got %q", s)
	}
	return nil
}

// checkDatastoreKey is the rule on KmsKeyArn: a key or an alias ARN, which
// HealthLake's KmsKeyId takes both (API_KmsEncryptionConfig), and which the
// handler has accepted since the property existed, so deployed stacks'
// properties keep parsing.
func checkDatastoreKey(s string) error {
	if _, err := ParseKMSARN(s); err != nil {
		return fmt.Errorf("%v, or empty for an AWS-owned key", err)
	}
	return nil
}
