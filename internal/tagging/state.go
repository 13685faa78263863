package tagging

import (
	"context"
	"strconv"
	"strings"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// StateTag is a tag key whose value is a resource's own state rather than
// a stored tag: TagResource and UntagResource write the state, and
// ListTagsForResource reads it, so the tag and the service's own route for
// that state can never disagree. The state lives with the resource; the
// tag is not kept among the resource's stored tags.
type StateTag interface {
	// Get reads the value of the resource whose ARN id is id.
	Get(ctx context.Context, r store.Reader, id string) (string, error)
	// Set writes value inside w; "" (UntagResource) restores the default.
	// A value it cannot take is an error naming member.
	Set(ctx context.Context, w store.Writer, id, member, value string) error
}

// RegisterState makes key on resources of an ARN resource type a StateTag.
func (s *Service) RegisterState(resourceType, key string, st StateTag) {
	if s.states == nil {
		s.states = map[string]map[string]StateTag{}
	}
	if s.states[resourceType] == nil {
		s.states[resourceType] = map[string]StateTag{}
	}
	s.states[resourceType][key] = st
}

// stateTags returns the state tags of arn's resource type and its id.
func (s *Service) stateTags(arn string) (map[string]StateTag, string) {
	typ, id, ok := s.cfg.ARNs.Parse(arn)
	if !ok {
		return nil, ""
	}
	return s.states[typ], id
}

// setStates writes the tags of tags that are state tags of arn and
// returns the others, to be stored as tags.
func (s *Service) setStates(ctx context.Context, w store.Writer, arn string, tags []gamelift.Tag) ([]gamelift.Tag, error) {
	states, id := s.stateTags(arn)
	if len(states) == 0 {
		return tags, nil
	}
	rest := make([]gamelift.Tag, 0, len(tags))
	for i, t := range tags {
		st, ok := states[t.Key]
		if !ok {
			rest = append(rest, t)
			continue
		}
		if err := st.Set(ctx, w, id, "Tags["+strconv.Itoa(i)+"].Value", t.Value); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// untagStates restores the default of each state tag among keys and
// returns the other keys.
func (s *Service) untagStates(ctx context.Context, w store.Writer, arn string, keys []string) ([]string, error) {
	states, id := s.stateTags(arn)
	if len(states) == 0 {
		return keys, nil
	}
	rest := make([]string, 0, len(keys))
	for i, k := range keys {
		st, ok := states[k]
		if !ok {
			rest = append(rest, k)
			continue
		}
		if err := st.Set(ctx, w, id, "TagKeys["+strconv.Itoa(i)+"]", ""); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// listStates adds arn's state tags to tags.
func (s *Service) listStates(ctx context.Context, r store.Reader, arn string, tags map[string]string) error {
	states, id := s.stateTags(arn)
	for key, st := range states {
		v, err := st.Get(ctx, r, id)
		if err != nil {
			return err
		}
		tags[key] = v
	}
	return nil
}

// ParseBool reads a state tag's true or false (in any letter case), for
// StateTag implementations.
func ParseBool(value string) (bool, bool) {
	switch strings.ToLower(value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
