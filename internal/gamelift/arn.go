package gamelift

import "strings"

// DefaultPartition is the ARN partition Muster uses unless configured
// otherwise: GameLift's own, so tools that parse GameLift ARNs accept
// Muster's.
const DefaultPartition = "aws"

// Resource types as they appear in ARNs.
const (
	ResourceFleet                    = "fleet"
	ResourceAlias                    = "alias"
	ResourceLocation                 = "location"
	ResourceCompute                  = "compute"
	ResourceGameSession              = "gamesession"
	ResourceGameSessionQueue         = "gamesessionqueue"
	ResourceMatchmakingConfiguration = "matchmakingconfiguration"
	ResourceMatchmakingRuleSet       = "matchmakingruleset"
	ResourceBuild                    = "build"
	ResourceScript                   = "script"
	ResourceContainerGroupDefinition = "containergroupdefinition"
)

// ARNBuilder makes and reads the ARNs of one Muster installation:
// arn:<Partition>:gamelift:<Region>:<Account>:<type>/<id>. The zero
// Partition means DefaultPartition.
type ARNBuilder struct {
	Partition string
	Region    string
	Account   string
}

// ARN returns arn:aws:gamelift:<region>:<account>:<resourceType>/<id>.
func ARN(region, account, resourceType, id string) string {
	return ARNBuilder{Region: region, Account: account}.Build(resourceType, id)
}

func (b ARNBuilder) partition() string {
	if b.Partition == "" {
		return DefaultPartition
	}
	return b.Partition
}

// Build returns the ARN of the resource of type resourceType (one of the
// Resource constants) named id.
func (b ARNBuilder) Build(resourceType, id string) string {
	return b.build(b.Account, resourceType, id)
}

// GameSession returns a game session ARN, which is also its GameSessionId:
// arn:…:gamelift:<region>::gamesession/<fleetID>/<id>, with the location as an
// extra segment (…/<fleetID>/<location>/<id>) when location is not empty,
// i.e. the session is not in the fleet's home Region. Game session ARNs carry
// no account, as in GameLift.
func (b ARNBuilder) GameSession(fleetID, location, id string) string {
	res := fleetID + "/"
	if location != "" {
		res += location + "/"
	}
	return b.build("", ResourceGameSession, res+id)
}

func (b ARNBuilder) build(account, resourceType, id string) string {
	var s strings.Builder
	p := b.partition()
	s.Grow(len("arn::gamelift:::/") + len(p) + len(b.Region) + len(account) + len(resourceType) + len(id))
	s.WriteString("arn:")
	s.WriteString(p)
	s.WriteString(":gamelift:")
	s.WriteString(b.Region)
	s.WriteByte(':')
	s.WriteString(account)
	s.WriteByte(':')
	s.WriteString(resourceType)
	s.WriteByte('/')
	s.WriteString(id)
	return s.String()
}

// Parse splits an ARN of this installation into its resource type and id
// (everything after the first '/', which for game sessions includes the fleet
// id). ok is false unless arn has this builder's partition, the gamelift
// service, this builder's region (when set), this builder's account or none,
// and a non-empty type and id.
func (b ARNBuilder) Parse(arn string) (resourceType, id string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != b.partition() || parts[2] != "gamelift" {
		return "", "", false
	}
	if b.Region != "" && parts[3] != b.Region {
		return "", "", false
	}
	if parts[4] != "" && parts[4] != b.Account {
		return "", "", false
	}
	resourceType, id, found := strings.Cut(parts[5], "/")
	if !found || resourceType == "" || id == "" {
		return "", "", false
	}
	return resourceType, id, true
}
