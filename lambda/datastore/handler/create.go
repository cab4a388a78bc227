package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

func (h *Handler) create(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	spec, err := h.checkedSpec(ctx, e, log)
	if err != nil {
		return customresource.OnEventResponse{}, err
	}
	id, err := h.createDatastore(ctx, e, spec, "", log)
	if err != nil {
		return customresource.OnEventResponse{}, err
	}
	return customresource.OnEventResponse{PhysicalResourceID: id}, nil
}

// clientToken identifies one CloudFormation request: the framework's retries of
// the same Create (or replacing Update) reuse it, so HealthLake makes one data
// store; a later request, such as a replacement, gets a new one. Hex SHA-256 is 64
// characters of [0-9a-f], inside HealthLake's [a-zA-Z0-9-]{1,64}.
func clientToken(e customresource.Event) string {
	sum := sha256.Sum256([]byte(e.StackID + "\n" + e.LogicalResourceID + "\n" + e.RequestID))
	return hex.EncodeToString(sum[:])
}

// createDatastore starts creating the data store for e (a Create, or the Update
// of an acknowledged replacement of the data store replaces), tagged with the
// resource and request that made it.
func (h *Handler) createDatastore(ctx context.Context, e customresource.Event, spec Spec, replaces string, log *slog.Logger) (string, error) {
	in := createInput(spec, clientToken(e))
	in.Tags = append(in.Tags, ownerTags(e, replaces)...)
	out, err := h.client.CreateFHIRDatastore(ctx, in)
	if err != nil {
		return "", fmt.Errorf("creating HealthLake data store %q: %w", spec.Name, err)
	}
	id := aws.ToString(out.DatastoreId)
	log.Info("data store creation started", "datastoreId", id, "status", string(out.DatastoreStatus))
	return id, nil
}

func createInput(spec Spec, token string) *healthlake.CreateFHIRDatastoreInput {
	// Encryption is always explicit so what the template says is what HealthLake
	// records, and a later comparison has something definite to compare with.
	sse := &types.KmsEncryptionConfig{CmkType: types.CmkTypeAoCmk}
	if spec.KMSKeyARN != "" {
		sse = &types.KmsEncryptionConfig{CmkType: types.CmkTypeCmCmk, KmsKeyId: aws.String(spec.KMSKeyARN)}
	}
	in := &healthlake.CreateFHIRDatastoreInput{
		DatastoreTypeVersion:          spec.Version,
		DatastoreName:                 aws.String(spec.Name),
		ClientToken:                   aws.String(token),
		IdentityProviderConfiguration: identityProvider(spec),
		SseConfiguration:              &types.SseConfiguration{KmsEncryptionConfig: sse},
	}
	if spec.PreloadSynthea {
		in.PreloadDataConfig = &types.PreloadDataConfig{PreloadDataType: types.PreloadDataTypeSynthea}
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(spec.Tags[k])})
	}
	return in
}

// identityProvider is the complete configuration: UpdateFHIRDatastore clears
// whatever is left out.
func identityProvider(spec Spec) *types.IdentityProviderConfiguration {
	return &types.IdentityProviderConfiguration{
		AuthorizationStrategy:           spec.Strategy,
		FineGrainedAuthorizationEnabled: spec.FineGrained,
		IdpLambdaArn:                    aws.String(spec.IdpLambdaARN),
		Metadata:                        aws.String(spec.Metadata),
	}
}
