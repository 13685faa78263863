package player

import _ "embed"

// openapi.json is generated from openapi.yaml (the source to edit) by
// `go test ./internal/api/player -run TestOpenAPIJSONIsCurrent -update`;
// the test fails when the two disagree. The binary serves the JSON so it
// needs no YAML parser.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPIJSON returns the OpenAPI 3.1 document of the player API.
func OpenAPIJSON() []byte { return openapiJSON }
