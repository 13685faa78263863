// Package tagging owns resource tags: TagResource, UntagResource and
// ListTagsForResource for every taggable resource, keyed by ARN. Services
// that own a resource set its tags on create and delete them with it, in the
// same transaction; Resolve tells which ARNs name a live resource.
package tagging
