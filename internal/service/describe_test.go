package service_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

func TestDescribe(t *testing.T) {
	ctx := context.Background()
	db := newStore(t, map[string]string{"a": "a", "b": "b", "c": "c"})
	get := func(r store.Reader, id string) (string, bool, error) {
		v, _, err := service.Get[string](ctx, r, "thing", id, "Names: no thing %s", id)
		return service.Dropped(v, err)
	}
	mark := func(s string) string { return s + "!" }
	q := store.Query{Kind: "thing", Prefix: true}

	t.Run("named records are read in the order asked and unknown names are dropped", func(t *testing.T) {
		got, next, err := service.Describe(ctx, db, []string{"c", "zz", "a"}, get, q, 1, mark)
		if err != nil || next != "" || !slices.Equal(got, []string{"c!", "a!"}) {
			t.Fatalf("Describe = %q, %q, %v; want [c! a!] and no next page", got, next, err)
		}
	})
	t.Run("an unknown name is refused when get refuses it", func(t *testing.T) {
		refuse := func(r store.Reader, id string) (string, bool, error) {
			v, _, err := service.Get[string](ctx, r, "thing", id, "Names: no thing %s", id)
			return v, err == nil, err
		}
		if _, _, err := service.Describe(ctx, db, []string{"zz"}, refuse, q, 1, mark); !fault.Is(err, fault.NotFound) {
			t.Fatalf("Describe of an unknown name = %v, want NotFound", err)
		}
	})
	t.Run("without names it pages through every record", func(t *testing.T) {
		var all []string
		for page, after := 0, ""; page < 3; page++ {
			q.After = after
			got, next, err := service.Describe(ctx, db, nil, get, q, 2, mark)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got...)
			if next == "" {
				break
			}
			if after, err = store.DecodePageToken(next); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(all, []string{"a!", "b!", "c!"}) {
			t.Fatalf("pages held %q, want [a! b! c!]", all)
		}
	})
	t.Run("an empty listing is an empty list, not null", func(t *testing.T) {
		got, _, err := service.Describe(ctx, db, nil, get, store.Query{Kind: "none", Prefix: true}, 2, mark)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Describe of nothing = %#v, %v", got, err)
		}
	})
}

func TestRead(t *testing.T) {
	ctx := context.Background()
	db := newStore(t, map[string]string{"a": "apple"})
	read := func(id string) (string, error) {
		return service.Read(ctx, db, func(r store.Reader) (string, error) {
			v, _, err := store.GetJSON[string](ctx, r, "thing", id)
			return v, err
		})
	}
	if got, err := read("a"); got != "apple" || err != nil {
		t.Fatalf("Read of a = %q, %v; want apple", got, err)
	}
	if _, err := read("b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Read of b = %v, want store.ErrNotFound", err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	db := newStore(t, map[string]string{"a": "apple", "b": "banana", "c": "cherry", "d": "damson"})
	mark := func(s string) string { return s + "!" }
	q := store.Query{Kind: "thing", Prefix: true}
	t.Run("a page holds the kept records and the token of the next", func(t *testing.T) {
		noB := func(s *string) bool { return *s != "banana" }
		got, next, err := service.List(ctx, db, q, 2, noB, mark)
		if err != nil || next == "" || !slices.Equal(got, []string{"apple!", "cherry!"}) {
			t.Fatalf("List = %q, %q, %v; want [apple! cherry!] and a next page", got, next, err)
		}
	})
	t.Run("no filter keeps every record", func(t *testing.T) {
		got, next, err := service.List(ctx, db, q, 10, nil, mark)
		if err != nil || next != "" || len(got) != 4 {
			t.Fatalf("List = %q, %q, %v; want all four and no next page", got, next, err)
		}
	})
}
