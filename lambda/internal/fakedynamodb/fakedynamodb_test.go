package fakedynamodb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakedynamodb"
)

func client(t *testing.T) (*dynamodb.Client, *fakedynamodb.Server) {
	f := fakedynamodb.New(t)
	f.CreateTable("t", "pk", "exp")
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAFAKE", "s", ""),
		RetryMaxAttempts: 1,
	}), f
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestFake(t *testing.T) {
	ctx := context.Background()
	t.Run("a failed condition is a typed ConditionalCheckFailedException carrying the old item when asked", func(t *testing.T) {
		c, _ := client(t)
		_, _ = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("1")}})
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("a")},
			ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) || ccf.Item["v"].(*types.AttributeValueMemberS).Value != "1" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a bare reserved word as an attribute name is a ValidationException, an alias for it is not", func(t *testing.T) {
		c, _ := client(t)
		for _, expr := range []string{"attribute_not_exists(status)", "attribute_exists(Name)", "attribute_not_exists(pk) AND TTL > :v"} {
			in := &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("r")}, ConditionExpression: aws.String(expr)}
			if strings.Contains(expr, ":v") {
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": s("1")}
			}
			if _, err := c.PutItem(ctx, in); code(err) != "ValidationException" {
				t.Fatalf("%s: err = %v", expr, err)
			}
		}
		if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("r")},
			UpdateExpression: aws.String("SET status = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("1")},
		}); code(err) != "ValidationException" {
			t.Fatalf("SET status: err = %v", err)
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("r")},
			ConditionExpression: aws.String("attribute_not_exists(#s)"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		}); err != nil {
			t.Fatalf("aliased: err = %v", err)
		}
	})
	t.Run("ReturnValuesOnConditionCheckFailure other than NONE or ALL_OLD is a ValidationException", func(t *testing.T) {
		c, _ := client(t)
		for rv, want := range map[types.ReturnValuesOnConditionCheckFailure]string{"ALL_NEW": "ValidationException", "all_old": "ValidationException", "NONE": "", "ALL_OLD": ""} {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("none")}, ReturnValuesOnConditionCheckFailure: rv,
			})
			if code(err) != want {
				t.Errorf("%s: err = %v, want %q", rv, err, want)
			}
		}
	})
	t.Run("an unused expression attribute value is a ValidationException", func(t *testing.T) {
		c, _ := client(t)
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")},
			ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("1")},
		})
		if code(err) != "ValidationException" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an expression feature the fake lacks is refused, not ignored", func(t *testing.T) {
		c, _ := client(t)
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")},
			ConditionExpression: aws.String("attribute_exists(pk) OR begins_with(pk, :p)"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")},
		})
		if code(err) != "ValidationException" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a key with extra attributes is refused", func(t *testing.T) {
		c, _ := client(t)
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a"), "v": s("1")}})
		if code(err) != "ValidationException" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an expired item stays readable until the TTL sweep", func(t *testing.T) {
		c, f := client(t)
		_, _ = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("a"), "exp": &types.AttributeValueMemberN{Value: "1"}}})
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")}})
		if err != nil || out.Item == nil {
			t.Fatalf("expired item not returned: %v", err)
		}
		f.SweepExpired(time.Now())
		out, _ = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")}})
		if out.Item != nil {
			t.Fatal("swept item still returned")
		}
	})
	t.Run("an unknown table is ResourceNotFoundException", func(t *testing.T) {
		c, _ := client(t)
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: map[string]types.AttributeValue{"pk": s("a")}})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestInjectedFaultsAreDynamoDBErrors(t *testing.T) {
	ctx := context.Background()
	for kind, want := range map[fault.Kind]string{
		fault.ServerError: "InternalServerError",
		fault.Throttle:    "ProvisionedThroughputExceededException",
		fault.Invalid:     "ValidationException",
		fault.Denied:      "AccessDeniedException",
		fault.NotFound:    "ResourceNotFoundException",
		fault.Conflict:    "TransactionConflictException",
	} {
		t.Run("a "+string(kind)+" is answered as "+want+" on that operation only", func(t *testing.T) {
			c, f := client(t)
			f.Faults.Add(fault.Rule{Op: "GetItem", Kind: kind})
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("a")}})
			if err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")}})
			if code(err) != want {
				t.Fatalf("GetItem err = %v, want %s", err, want)
			}
			if _, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")}}); err != nil {
				t.Fatalf("the second GetItem: %v", err)
			}
		})
	}
}
