package gamelift

// Tag is a label on a resource: Key 1..128 characters,
// Value 0..256. Both members are always sent.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	ResourceARN string `json:"ResourceARN,omitempty"`
	Tags        []Tag  `json:"Tags,omitempty"`
}

// TagResourceOutput is the (empty) output of TagResource.
type TagResourceOutput struct{}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	ResourceARN string   `json:"ResourceARN,omitempty"`
	TagKeys     []string `json:"TagKeys,omitempty"`
}

// UntagResourceOutput is the (empty) output of UntagResource.
type UntagResourceOutput struct{}

// ListTagsForResourceInput is the input of ListTagsForResource.
type ListTagsForResourceInput struct {
	ResourceARN string `json:"ResourceARN,omitempty"`
}

// ListTagsForResourceOutput is the output of ListTagsForResource.
type ListTagsForResourceOutput struct {
	// Tags is always present (GameLift answers an untagged resource with
	// an empty list, and some clients read the member unconditionally).
	Tags []Tag `json:"Tags"`
}
