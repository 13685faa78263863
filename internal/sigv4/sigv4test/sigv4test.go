package sigv4test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
)

// Broken is an access key id whose look-up fails as a key store that is
// down would: with an error that is no fault.
const Broken = "AKIABROKEN"

// Key is one access key of Keys.
type Key struct {
	Secret string
	Role   auth.Role
}

// Keys is an in-memory sigv4.SecretSource by access key id. An unknown id
// is a fault.NotFound; Broken fails as a broken store.
type Keys map[string]Key

// OperatorSecret implements sigv4.SecretSource.
func (k Keys) OperatorSecret(_ context.Context, id string) (string, auth.Principal, error) {
	if id == Broken {
		return "", auth.Principal{}, errors.New("database is down")
	}
	key, ok := k[id]
	if !ok {
		return "", auth.Principal{}, fmt.Errorf("access key %s: %w", id, fault.New(fault.NotFound, "unknown access key"))
	}
	return key.Secret, auth.Principal{Kind: auth.Operator, AccessKeyID: id, Role: key.Role}, nil
}

// Sign signs r, whose body is body, with the access key id and secret at
// time at, for GameLift in region, as the AWS SDK for Go does.
func Sign(t testing.TB, r *http.Request, body []byte, id, secret, region string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "gamelift", region, at); err != nil {
		t.Fatal(err)
	}
}
