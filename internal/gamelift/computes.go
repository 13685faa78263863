package gamelift

// Compute shapes.

// Compute statuses.
const (
	ComputeActive      = "ACTIVE"
	ComputeTerminating = "TERMINATING"
	ComputeImpaired    = "IMPAIRED"
)

// Compute is a registered host of an Anywhere fleet.
type Compute struct {
	FleetId                    string     `json:"FleetId,omitempty"`
	FleetArn                   string     `json:"FleetArn,omitempty"`
	ComputeName                string     `json:"ComputeName,omitempty"`
	ComputeArn                 string     `json:"ComputeArn,omitempty"`
	IpAddress                  string     `json:"IpAddress,omitempty"`
	DnsName                    string     `json:"DnsName,omitempty"`
	ComputeStatus              string     `json:"ComputeStatus,omitempty"`
	Location                   string     `json:"Location,omitempty"`
	CreationTime               *Timestamp `json:"CreationTime,omitempty"`
	GameLiftServiceSdkEndpoint string     `json:"GameLiftServiceSdkEndpoint,omitempty"`
}

// RegisterComputeInput is the input of RegisterCompute.
type RegisterComputeInput struct {
	FleetId         string `json:"FleetId,omitempty"`
	ComputeName     string `json:"ComputeName,omitempty"`
	CertificatePath string `json:"CertificatePath,omitempty"`
	DnsName         string `json:"DnsName,omitempty"`
	IpAddress       string `json:"IpAddress,omitempty"`
	Location        string `json:"Location,omitempty"`
}

// RegisterComputeOutput is the output of RegisterCompute.
type RegisterComputeOutput struct {
	Compute *Compute `json:"Compute,omitempty"`
}

// DeregisterComputeInput is the input of DeregisterCompute.
type DeregisterComputeInput struct {
	FleetId     string `json:"FleetId,omitempty"`
	ComputeName string `json:"ComputeName,omitempty"`
}

// DeregisterComputeOutput is the (empty) output of DeregisterCompute.
type DeregisterComputeOutput struct{}

// ListComputeInput is the input of ListCompute.
type ListComputeInput struct {
	FleetId                      string `json:"FleetId,omitempty"`
	Location                     string `json:"Location,omitempty"`
	ContainerGroupDefinitionName string `json:"ContainerGroupDefinitionName,omitempty"`
	ComputeStatus                string `json:"ComputeStatus,omitempty"`
	Limit                        *int32 `json:"Limit,omitempty"`
	NextToken                    string `json:"NextToken,omitempty"`
}

// ListComputeOutput is the output of ListCompute.
type ListComputeOutput struct {
	ComputeList []Compute `json:"ComputeList"`
	NextToken   string    `json:"NextToken,omitempty"`
}

// DescribeComputeInput is the input of DescribeCompute.
type DescribeComputeInput struct {
	FleetId     string `json:"FleetId,omitempty"`
	ComputeName string `json:"ComputeName,omitempty"`
}

// DescribeComputeOutput is the output of DescribeCompute.
type DescribeComputeOutput struct {
	Compute *Compute `json:"Compute,omitempty"`
}

// GetComputeAuthTokenInput is the input of GetComputeAuthToken.
type GetComputeAuthTokenInput struct {
	FleetId     string `json:"FleetId,omitempty"`
	ComputeName string `json:"ComputeName,omitempty"`
}

// GetComputeAuthTokenOutput is the output of GetComputeAuthToken.
type GetComputeAuthTokenOutput struct {
	FleetId             string     `json:"FleetId,omitempty"`
	FleetArn            string     `json:"FleetArn,omitempty"`
	ComputeName         string     `json:"ComputeName,omitempty"`
	ComputeArn          string     `json:"ComputeArn,omitempty"`
	AuthToken           string     `json:"AuthToken,omitempty"`
	ExpirationTimestamp *Timestamp `json:"ExpirationTimestamp,omitempty"`
}
