package tagging

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

const kindTags = "tags"

// MaxTagsPerResource is GameLift's (AWS's) limit of tags on one resource.
const MaxTagsPerResource = 50

// Config configures the tagging service.
type Config struct {
	Store store.Store
	ARNs  gamelift.ARNBuilder
	// Kinds maps an ARN resource type (gamelift.Resource*) to the store kind
	// whose record, keyed by the ARN's id, proves the resource exists.
	Kinds map[string]string
}

// Service serves the tagging operations.
type Service struct {
	cfg Config
	// states are the state tags by resource type and key (state.go).
	states map[string]map[string]StateTag
}

// New returns the tagging service.
func New(cfg Config) *Service {
	if cfg.Kinds == nil {
		cfg.Kinds = map[string]string{}
	}
	return &Service{cfg: cfg}
}

// Register makes resources of an ARN resource type taggable.
func (s *Service) Register(resourceType, kind string) { s.cfg.Kinds[resourceType] = kind }

// Validate checks a Tags member: count and each key and value's length.
func Validate(v *fault.Validator, member string, tags []gamelift.Tag, maxItems int) {
	if len(tags) > maxItems {
		v.Add(member, "must have at most %d items", maxItems)
	}
	for i, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 {
			v.Add(fmt.Sprintf("%s[%d].Key", member, i), "must be 1 to 128 characters")
		}
		if n := utf8.RuneCountInString(t.Value); n > 256 {
			v.Add(fmt.Sprintf("%s[%d].Value", member, i), "must be at most 256 characters")
		}
	}
}

type tagDoc struct {
	Tags map[string]string `json:"tags"`
}

func (s *Service) load(ctx context.Context, r store.Reader, arn string) (tagDoc, int64, error) {
	d, version, err := store.GetJSON[tagDoc](ctx, r, kindTags, arn)
	if errors.Is(err, store.ErrNotFound) {
		return tagDoc{Tags: map[string]string{}}, 0, nil
	}
	if d.Tags == nil {
		d.Tags = map[string]string{}
	}
	return d, version, err
}

// reserved reports whether a tag key has the prefix AWS keeps for its own
// tags, in any letter case.
func reserved(key string) bool {
	return len(key) >= 4 && strings.EqualFold(key[:4], "aws:")
}

// Set merges tags into a resource's tags inside w: every write of tags
// (TagResource and each Create* with Tags) goes through it, so it is the one
// place that refuses reserved aws: keys (TaggingFailedException, GameLift's
// error for a tag it cannot apply); the refusal rolls back w.
func (s *Service) Set(ctx context.Context, w store.Writer, arn string, tags []gamelift.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	for i, t := range tags {
		if reserved(t.Key) {
			return fault.New(fault.TaggingFailed, "Tags[%d].Key: %q: the aws: prefix is reserved for AWS", i, t.Key)
		}
	}
	tags, err := s.setStates(ctx, w, arn, tags)
	if err != nil || len(tags) == 0 {
		return err
	}
	d, version, err := s.load(ctx, w, arn)
	if err != nil {
		return err
	}
	for _, t := range tags {
		d.Tags[t.Key] = t.Value
	}
	if len(d.Tags) > MaxTagsPerResource {
		return fault.New(fault.TaggingFailed, "Tags: a resource may have at most %d tags", MaxTagsPerResource)
	}
	_, err = w.Put(ctx, store.Record{Kind: kindTags, ID: arn, Doc: store.MustJSON(d), Version: version})
	return err
}

// DeleteAll removes a resource's tags inside w (for delete operations).
func (s *Service) DeleteAll(ctx context.Context, w store.Writer, arn string) error {
	err := w.Delete(ctx, kindTags, arn, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func (s *Service) checkResource(ctx context.Context, r store.Reader, arn string) error {
	var v fault.Validator
	if p := gamelift.Length(arn, 1, 1011); p != "" {
		v.Add("ResourceARN", "%s", p)
		return v.Err()
	}
	typ, id, ok := s.cfg.ARNs.Parse(arn)
	if !ok {
		return fault.New(fault.Invalid, "ResourceARN: %q is not an ARN of this Muster installation", arn)
	}
	kind, ok := s.cfg.Kinds[typ]
	if !ok {
		return fault.New(fault.Invalid, "ResourceARN: resources of type %q cannot be tagged", typ)
	}
	if _, err := r.Get(ctx, kind, id); errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound, "ResourceARN: resource %s not found", arn)
	} else if err != nil {
		return err
	}
	return nil
}

// TagResource adds or overwrites tags on a resource.
func (s *Service) TagResource(ctx context.Context, in *gamelift.TagResourceInput) (*gamelift.TagResourceOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(in.Tags != nil, "Tags", "is required")
	Validate(&v, "Tags", in.Tags, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.checkResource(ctx, w, in.ResourceARN); err != nil {
			return err
		}
		return s.Set(ctx, w, in.ResourceARN, in.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("tag resource: %w", err)
	}
	return &gamelift.TagResourceOutput{}, nil
}

// UntagResource removes tags by key; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, in *gamelift.UntagResourceInput) (*gamelift.UntagResourceOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(in.TagKeys != nil, "TagKeys", "is required")
	v.Check(len(in.TagKeys) <= 200, "TagKeys", "must have at most 200 items")
	for i, k := range in.TagKeys {
		if p := gamelift.Length(k, 1, 128); p != "" {
			v.Add(fmt.Sprintf("TagKeys[%d]", i), "%s", p)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.checkResource(ctx, w, in.ResourceARN); err != nil {
			return err
		}
		keys, err := s.untagStates(ctx, w, in.ResourceARN, in.TagKeys)
		if err != nil {
			return err
		}
		d, version, err := s.load(ctx, w, in.ResourceARN)
		if err != nil || version == 0 {
			return err
		}
		for _, k := range keys {
			delete(d.Tags, k)
		}
		_, err = w.Put(ctx, store.Record{Kind: kindTags, ID: in.ResourceARN, Doc: store.MustJSON(d), Version: version})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("untag resource: %w", err)
	}
	return &gamelift.UntagResourceOutput{}, nil
}

// ListTagsForResource returns a resource's tags sorted by key.
func (s *Service) ListTagsForResource(ctx context.Context, in *gamelift.ListTagsForResourceInput) (*gamelift.ListTagsForResourceOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	out := &gamelift.ListTagsForResourceOutput{Tags: []gamelift.Tag{}}
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		if err := s.checkResource(ctx, r, in.ResourceARN); err != nil {
			return err
		}
		d, _, err := s.load(ctx, r, in.ResourceARN)
		if err != nil {
			return err
		}
		if err := s.listStates(ctx, r, in.ResourceARN, d.Tags); err != nil {
			return err
		}
		for k, val := range d.Tags {
			out.Tags = append(out.Tags, gamelift.Tag{Key: k, Value: val})
		}
		sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out, nil
}
