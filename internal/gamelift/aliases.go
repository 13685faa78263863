package gamelift

// Alias shapes.

// Routing strategy types.
const (
	RoutingSimple   = "SIMPLE"
	RoutingTerminal = "TERMINAL"
)

// RoutingStrategy says where an alias points.
type RoutingStrategy struct {
	Type    string `json:"Type,omitempty"`
	FleetId string `json:"FleetId,omitempty"`
	Message string `json:"Message,omitempty"`
}

// Alias is a stable name for a fleet.
type Alias struct {
	AliasId         string           `json:"AliasId,omitempty"`
	Name            string           `json:"Name,omitempty"`
	AliasArn        string           `json:"AliasArn,omitempty"`
	Description     string           `json:"Description,omitempty"`
	RoutingStrategy *RoutingStrategy `json:"RoutingStrategy,omitempty"`
	CreationTime    *Timestamp       `json:"CreationTime,omitempty"`
	LastUpdatedTime *Timestamp       `json:"LastUpdatedTime,omitempty"`
}

// CreateAliasInput is the input of CreateAlias.
type CreateAliasInput struct {
	Name            string           `json:"Name,omitempty"`
	Description     string           `json:"Description,omitempty"`
	RoutingStrategy *RoutingStrategy `json:"RoutingStrategy,omitempty"`
	Tags            []Tag            `json:"Tags,omitempty"`
}

// CreateAliasOutput is the output of CreateAlias.
type CreateAliasOutput struct {
	Alias *Alias `json:"Alias,omitempty"`
}

// DescribeAliasInput is the input of DescribeAlias.
type DescribeAliasInput struct {
	AliasId string `json:"AliasId,omitempty"`
}

// DescribeAliasOutput is the output of DescribeAlias.
type DescribeAliasOutput struct {
	Alias *Alias `json:"Alias,omitempty"`
}

// ListAliasesInput is the input of ListAliases.
type ListAliasesInput struct {
	RoutingStrategyType string `json:"RoutingStrategyType,omitempty"`
	Name                string `json:"Name,omitempty"`
	Limit               *int32 `json:"Limit,omitempty"`
	NextToken           string `json:"NextToken,omitempty"`
}

// ListAliasesOutput is the output of ListAliases.
type ListAliasesOutput struct {
	Aliases   []Alias `json:"Aliases"`
	NextToken string  `json:"NextToken,omitempty"`
}

// UpdateAliasInput is the input of UpdateAlias.
type UpdateAliasInput struct {
	AliasId         string           `json:"AliasId,omitempty"`
	Name            string           `json:"Name,omitempty"`
	Description     string           `json:"Description,omitempty"`
	RoutingStrategy *RoutingStrategy `json:"RoutingStrategy,omitempty"`
}

// UpdateAliasOutput is the output of UpdateAlias.
type UpdateAliasOutput struct {
	Alias *Alias `json:"Alias,omitempty"`
}

// DeleteAliasInput is the input of DeleteAlias.
type DeleteAliasInput struct {
	AliasId string `json:"AliasId,omitempty"`
}

// DeleteAliasOutput is the (empty) output of DeleteAlias.
type DeleteAliasOutput struct{}

// ResolveAliasInput is the input of ResolveAlias.
type ResolveAliasInput struct {
	AliasId string `json:"AliasId,omitempty"`
}

// ResolveAliasOutput is the output of ResolveAlias.
type ResolveAliasOutput struct {
	FleetId  string `json:"FleetId,omitempty"`
	FleetArn string `json:"FleetArn,omitempty"`
}
