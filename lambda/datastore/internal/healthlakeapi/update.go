// Package healthlakeapi completes the aws-sdk-go-v2 HealthLake client for this
// module: the UpdateFHIRDatastore operation the usable SDK version lacks, and the
// retry policy every call shares.
package healthlakeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// This file exists only because aws-sdk-go-v2 service/healthlake v1.37.2, the
// version the module proxy serves here, predates UpdateFHIRDatastore. Switch to
// (*healthlake.Client).UpdateFHIRDatastore and delete this file as soon as a
// release that has it can be used; the input and output types below mirror that
// method's, so callers change only the call.

// UpdateFHIRDatastoreInput mirrors healthlake.UpdateFHIRDatastoreInput of later SDK
// releases. HealthLake replaces the whole IdentityProviderConfiguration: a field
// left empty is cleared, so always send the complete configuration.
type UpdateFHIRDatastoreInput struct {
	DatastoreId                   *string
	DatastoreName                 *string
	IdentityProviderConfiguration *types.IdentityProviderConfiguration
}

// UpdateFHIRDatastoreOutput mirrors healthlake.UpdateFHIRDatastoreOutput.
type UpdateFHIRDatastoreOutput struct {
	DatastoreProperties *types.DatastoreProperties
	ResultMetadata      middleware.Metadata
}

// UpdateFHIRDatastore changes a data store's name and identity-provider
// configuration in place.
//
// It runs as a DescribeFHIRDatastore call whose serializer is swapped for one that
// writes the UpdateFHIRDatastore request. That keeps the client's whole pipeline
// (endpoint resolution including AWS_ENDPOINT_URL_HEALTHLAKE, SigV4 signing with the
// client's credentials, retries, logging) without copying it. The operation was
// chosen because both answer {"DatastoreProperties": ...}, so the generated
// deserializer fits, and because a mistake in the rewrite can at worst send a
// read, never a change.
func UpdateFHIRDatastore(ctx context.Context, client *healthlake.Client, params *UpdateFHIRDatastoreInput, optFns ...func(*healthlake.Options)) (*UpdateFHIRDatastoreOutput, error) {
	if params == nil || params.DatastoreId == nil || *params.DatastoreId == "" {
		return nil, errors.New("UpdateFHIRDatastore: DatastoreId is required")
	}
	body, err := json.Marshal(newUpdateBody(params))
	if err != nil {
		return nil, fmt.Errorf("UpdateFHIRDatastore: encoding request: %w", err)
	}
	asUpdate := func(o *healthlake.Options) {
		region := o.Region
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return rewriteAsUpdate(stack, region, body)
		})
	}
	out, err := client.DescribeFHIRDatastore(ctx,
		&healthlake.DescribeFHIRDatastoreInput{DatastoreId: params.DatastoreId},
		append(optFns, asUpdate)...)
	if err != nil {
		return nil, err
	}
	return &UpdateFHIRDatastoreOutput{DatastoreProperties: out.DatastoreProperties, ResultMetadata: out.ResultMetadata}, nil
}

// updateBody is the JSON 1.0 wire form. FineGrainedAuthorizationEnabled is always
// written (the SDK omits false) so the request visibly carries the full
// configuration.
type updateBody struct {
	DatastoreId                   string            `json:"DatastoreId"`
	DatastoreName                 *string           `json:"DatastoreName,omitempty"`
	IdentityProviderConfiguration *identityProvider `json:"IdentityProviderConfiguration,omitempty"`
}

type identityProvider struct {
	AuthorizationStrategy           string  `json:"AuthorizationStrategy"`
	FineGrainedAuthorizationEnabled bool    `json:"FineGrainedAuthorizationEnabled"`
	IdpLambdaArn                    *string `json:"IdpLambdaArn,omitempty"`
	Metadata                        *string `json:"Metadata,omitempty"`
}

func newUpdateBody(in *UpdateFHIRDatastoreInput) updateBody {
	b := updateBody{DatastoreId: *in.DatastoreId, DatastoreName: in.DatastoreName}
	if c := in.IdentityProviderConfiguration; c != nil {
		b.IdentityProviderConfiguration = &identityProvider{
			AuthorizationStrategy:           string(c.AuthorizationStrategy),
			FineGrainedAuthorizationEnabled: c.FineGrainedAuthorizationEnabled,
			IdpLambdaArn:                    c.IdpLambdaArn,
			Metadata:                        c.Metadata,
		}
	}
	return b
}

func rewriteAsUpdate(stack *middleware.Stack, region string, body []byte) error {
	if _, err := stack.Serialize.Swap("OperationSerializer", &updateSerializer{body: body}); err != nil {
		return fmt.Errorf("UpdateFHIRDatastore: replacing serializer: %w", err)
	}
	// Logs, metrics and the user agent name the real operation.
	if _, err := stack.Initialize.Swap("RegisterServiceMetadata", &awsmiddleware.RegisterServiceMetadata{
		Region: region, ServiceID: healthlake.ServiceID, OperationName: "UpdateFHIRDatastore",
	}); err != nil {
		return fmt.Errorf("UpdateFHIRDatastore: replacing service metadata: %w", err)
	}
	return stack.Deserialize.Insert(updateErrors{}, "OperationDeserializer", middleware.Before)
}

type updateSerializer struct{ body []byte }

func (*updateSerializer) ID() string { return "OperationSerializer" }

func (m *updateSerializer) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	request, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: fmt.Errorf("unknown transport type %T", in.Request)}
	}
	// Same path rule as the generated serializers: POST to "/" under any base path.
	if request.URL.Path == "" {
		request.URL.Path = "/"
	} else if request.URL.Path != "/" {
		request.URL.Path = path.Join(request.URL.Path, "/") + "/"
	}
	request.Method = "POST"
	request.Header.Set("Content-Type", "application/x-amz-json-1.0")
	request.Header.Set("X-Amz-Target", "HealthLake.UpdateFHIRDatastore")
	request, err := request.SetStream(bytes.NewReader(m.body))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: err}
	}
	in.Request = request
	return next.HandleSerialize(ctx, in)
}

// updateErrors gives UpdateFHIRDatastore's modeled errors that DescribeFHIRDatastore
// does not have their typed form, so callers can use errors.As on them.
type updateErrors struct{}

func (updateErrors) ID() string { return "UpdateFHIRDatastoreErrors" }

func (updateErrors) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, metadata, err := next.HandleDeserialize(ctx, in)
	if generic, ok := err.(*smithy.GenericAPIError); ok {
		msg := generic.Message
		switch generic.Code {
		case "ConflictException":
			err = &types.ConflictException{Message: &msg}
		case "AccessDeniedException":
			err = &types.AccessDeniedException{Message: &msg}
		}
	}
	return out, metadata, err
}
