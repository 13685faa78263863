package service_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

func TestCreateTagged(t *testing.T) {
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AK", Role: auth.RoleAdmin})
	db := newStore(t, nil)
	arns := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	tags := tagging.New(tagging.Config{Store: db, ARNs: arns})
	tags.Register(gamelift.ResourceGameSessionQueue, "queue")
	b := service.Base{Store: db, ARNs: arns, Tags: tags}.WithDefaults()
	arn := arns.Build(gamelift.ResourceGameSessionQueue, "q1")
	exists := fault.New(fault.Invalid, "Name: q1 already exists")
	create := func(b service.Base, id string) error {
		return db.Update(ctx, func(w store.Writer) error {
			return b.CreateTagged(ctx, w, store.Record{Kind: "queue", ID: id, Doc: store.MustJSON(id)}, arns.Build(gamelift.ResourceGameSessionQueue, id),
				[]gamelift.Tag{{Key: "team", Value: "red"}}, exists)
		})
	}

	t.Run("the resource is stored with its tags", func(t *testing.T) {
		if err := create(b, "q1"); err != nil {
			t.Fatal(err)
		}
		out, err := tags.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(out.Tags) != 1 || out.Tags[0] != (gamelift.Tag{Key: "team", Value: "red"}) {
			t.Fatalf("tags of %s = %+v, %v; want team=red", arn, out, err)
		}
	})
	t.Run("a second resource of the same id is refused with the caller's error", func(t *testing.T) {
		if err := create(b, "q1"); err != exists {
			t.Fatalf("second create = %v, want %v", err, exists)
		}
	})
	t.Run("a base without tagging stores the resource alone", func(t *testing.T) {
		untagged := b
		untagged.Tags = nil
		if err := create(untagged, "q2"); err != nil {
			t.Fatal(err)
		}
		out, err := tags.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arns.Build(gamelift.ResourceGameSessionQueue, "q2")})
		if err != nil || len(out.Tags) != 0 {
			t.Fatalf("tags of q2 = %+v, %v; want none", out, err)
		}
	})
}
