package fakehealthlake

import "time"

// Data store statuses, as HealthLake spells them.
const (
	StatusCreating     = "CREATING"
	StatusActive       = "ACTIVE"
	StatusUpdating     = "UPDATING"
	StatusUpdateFailed = "UPDATE_FAILED"
	StatusDeleting     = "DELETING"
	StatusDeleted      = "DELETED"
	StatusCreateFailed = "CREATE_FAILED"
)

// IdentityProviderConfiguration is the wire form of the same-named HealthLake shape.
type IdentityProviderConfiguration struct {
	AuthorizationStrategy           string `json:"AuthorizationStrategy"`
	FineGrainedAuthorizationEnabled bool   `json:"FineGrainedAuthorizationEnabled"`
	IdpLambdaArn                    string `json:"IdpLambdaArn,omitempty"`
	Metadata                        string `json:"Metadata,omitempty"`
}

// SseConfiguration is the wire form of HealthLake's encryption settings.
type SseConfiguration struct {
	KmsEncryptionConfig KmsEncryptionConfig `json:"KmsEncryptionConfig"`
}

// KmsEncryptionConfig names the key type and, for a customer-managed key, the key.
type KmsEncryptionConfig struct {
	CmkType  string `json:"CmkType"`
	KmsKeyId string `json:"KmsKeyId,omitempty"`
}

// PreloadDataConfig asks for sample data at creation.
type PreloadDataConfig struct {
	PreloadDataType string `json:"PreloadDataType"`
}

// ErrorCause explains a failed creation or update.
type ErrorCause struct {
	ErrorMessage  string `json:"ErrorMessage"`
	ErrorCategory string `json:"ErrorCategory"`
}

// Tag is one resource tag on the wire.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Datastore is a snapshot of one fake data store, for assertions.
type Datastore struct {
	ID               string
	ARN              string
	Endpoint         string
	Name             string
	Status           string
	FHIRVersion      string
	IdentityProvider *IdentityProviderConfiguration
	Encryption       *SseConfiguration
	Preload          *PreloadDataConfig
	Tags             map[string]string
	ClientToken      string
	ErrorCause       *ErrorCause
	CreatedAt        time.Time
}

// properties is the DatastoreProperties shape Describe, List and Update answer with.
type properties struct {
	DatastoreId                   string                         `json:"DatastoreId"`
	DatastoreArn                  string                         `json:"DatastoreArn"`
	DatastoreName                 string                         `json:"DatastoreName,omitempty"`
	DatastoreStatus               string                         `json:"DatastoreStatus"`
	DatastoreTypeVersion          string                         `json:"DatastoreTypeVersion"`
	DatastoreEndpoint             string                         `json:"DatastoreEndpoint"`
	CreatedAt                     float64                        `json:"CreatedAt"`
	SseConfiguration              *SseConfiguration              `json:"SseConfiguration,omitempty"`
	PreloadDataConfig             *PreloadDataConfig             `json:"PreloadDataConfig,omitempty"`
	IdentityProviderConfiguration *IdentityProviderConfiguration `json:"IdentityProviderConfiguration,omitempty"`
	ErrorCause                    *ErrorCause                    `json:"ErrorCause,omitempty"`
}

// store is a data store plus the status it is moving to.
type store struct {
	Datastore
	next     string // status reached after pending more Describe calls; "" when settled
	pending  int
	onSettle func(*store)
	// deferred is an accepted change not yet visible: it takes effect at the
	// Describe call after delayed more.
	deferred func(*store)
	delayed  int
}

// observe advances a deferred change or a transitional status by one poll. The
// poll at which a deferred change takes effect counts as the first of its
// transition.
func (s *store) observe() {
	if s.deferred != nil {
		if s.delayed > 0 {
			s.delayed--
			return
		}
		apply := s.deferred
		s.deferred = nil
		apply(s)
	}
	if s.next == "" {
		return
	}
	if s.pending > 0 {
		s.pending--
		return
	}
	s.Status, s.next = s.next, ""
	if s.onSettle != nil {
		s.onSettle(s)
		s.onSettle = nil
	}
}

func (s *store) moveTo(transitional, final string, polls int, onSettle func(*store)) {
	s.Status, s.next, s.pending, s.onSettle = transitional, final, polls, onSettle
}

// busy reports whether a change is under way, visible or not.
func (s *store) busy() bool { return s.deferred != nil }

func (s *store) properties() properties {
	return properties{
		DatastoreId:                   s.ID,
		DatastoreArn:                  s.ARN,
		DatastoreName:                 s.Name,
		DatastoreStatus:               s.Status,
		DatastoreTypeVersion:          s.FHIRVersion,
		DatastoreEndpoint:             s.Endpoint,
		CreatedAt:                     float64(s.CreatedAt.Unix()),
		SseConfiguration:              s.Encryption,
		PreloadDataConfig:             s.Preload,
		IdentityProviderConfiguration: s.IdentityProvider,
		ErrorCause:                    s.ErrorCause,
	}
}

func (s *store) snapshot() Datastore {
	d := s.Datastore
	d.Tags = make(map[string]string, len(s.Tags))
	for k, v := range s.Tags {
		d.Tags[k] = v
	}
	if s.IdentityProvider != nil {
		c := *s.IdentityProvider
		d.IdentityProvider = &c
	}
	return d
}
