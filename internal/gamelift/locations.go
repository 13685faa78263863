package gamelift

// LocationFilter selects the kinds of location ListLocations returns.
type LocationFilter string

// LocationFilter values.
const (
	LocationFilterAWS    LocationFilter = "AWS"
	LocationFilterCustom LocationFilter = "CUSTOM"
)

// UDPEndpoint is a domain and port, used for ping beacons.
type UDPEndpoint struct {
	Domain string `json:"Domain,omitempty"`
	Port   *int32 `json:"Port,omitempty"`
}

// PingBeacon is the UDP endpoint that game clients ping to measure their
// latency to a location. Muster fills it with its own beacon.
type PingBeacon struct {
	UDPEndpoint *UDPEndpoint `json:"UDPEndpoint,omitempty"`
}

// LocationModel describes a custom location.
type LocationModel struct {
	LocationName string      `json:"LocationName,omitempty"`
	LocationArn  string      `json:"LocationArn,omitempty"`
	PingBeacon   *PingBeacon `json:"PingBeacon,omitempty"`
}

// CreateLocationInput is the input of CreateLocation. LocationName is
// required (format CustomInputLocationStringModel); Tags 0..200 items.
type CreateLocationInput struct {
	LocationName string `json:"LocationName,omitempty"`
	Tags         []Tag  `json:"Tags,omitempty"`
}

// CreateLocationOutput is the output of CreateLocation.
type CreateLocationOutput struct {
	Location *LocationModel `json:"Location,omitempty"`
}

// ListLocationsInput is the input of ListLocations: Filters 1..2 items,
// Limit 1..200, NextToken 1..1024 characters.
type ListLocationsInput struct {
	Filters   []LocationFilter `json:"Filters,omitempty"`
	Limit     *int32           `json:"Limit,omitempty"`
	NextToken string           `json:"NextToken,omitempty"`
}

// ListLocationsOutput is the output of ListLocations. No NextToken means
// the last page.
type ListLocationsOutput struct {
	Locations []LocationModel `json:"Locations,omitempty"`
	NextToken string          `json:"NextToken,omitempty"`
}

// DeleteLocationInput is the input of DeleteLocation. LocationName is
// required and may be the name or the ARN (CustomLocationNameOrArnModel).
type DeleteLocationInput struct {
	LocationName string `json:"LocationName,omitempty"`
}

// DeleteLocationOutput is the (empty) output of DeleteLocation.
type DeleteLocationOutput struct{}
