package tagging_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

func TestReservedAWSKeysAreRefused(t *testing.T) {
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "MKIATEST"})
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arns := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	tags := tagging.New(tagging.Config{Store: db, ARNs: arns})
	tags.Register(gamelift.ResourceLocation, "location")
	arn := arns.Build(gamelift.ResourceLocation, "custom-one")
	if err := db.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: "location", ID: "custom-one", Doc: []byte(`{}`)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	list := func() []gamelift.Tag {
		out, err := tags.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Tags
	}

	for _, key := range []string{"aws:createdBy", "AWS:x", "Aws:cloudformation:stack"} {
		t.Run("TagResource refuses "+key, func(t *testing.T) {
			_, err := tags.TagResource(ctx, &gamelift.TagResourceInput{ResourceARN: arn,
				Tags: []gamelift.Tag{{Key: "team", Value: "a"}, {Key: key, Value: "v"}}})
			if fault.KindOf(err) != fault.TaggingFailed {
				t.Fatalf("got %v, want TaggingFailed", err)
			}
			if got := list(); len(got) != 0 {
				t.Fatalf("tags %v were kept", got)
			}
		})
	}
	t.Run("a create with a reserved key writes nothing", func(t *testing.T) {
		err := db.Update(ctx, func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "location", ID: "custom-two", Doc: []byte(`{}`)}); err != nil {
				return err
			}
			return tags.Set(ctx, w, arns.Build(gamelift.ResourceLocation, "custom-two"), []gamelift.Tag{{Key: "aws:x", Value: ""}})
		})
		if fault.KindOf(err) != fault.TaggingFailed {
			t.Fatalf("got %v, want TaggingFailed", err)
		}
		err = db.View(ctx, func(r store.Reader) error { _, err := r.Get(ctx, "location", "custom-two"); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the resource was created: %v", err)
		}
	})
	t.Run("keys that only contain aws are accepted", func(t *testing.T) {
		if _, err := tags.TagResource(ctx, &gamelift.TagResourceInput{ResourceARN: arn,
			Tags: []gamelift.Tag{{Key: "aws", Value: "1"}, {Key: "my:aws:x", Value: "2"}, {Key: "awsx:y", Value: "3"}}}); err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != 3 {
			t.Fatalf("tags %v", got)
		}
	})
}
