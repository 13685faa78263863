package controlapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// AWS JSON 1.1, as the JavaScript SDK v3, the CLI and older Go SDKs send it:
// POST / with X-Amz-Target, signed with SigV4.

func jsonHeaders(op string) map[string]string {
	h := map[string]string{"Content-Type": "application/x-amz-json-1.1"}
	if op != "" {
		h["X-Amz-Target"] = "GameLift." + op
	}
	return h
}

type jsonError struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	MessageUpper string `json:"Message"`
}

func TestJSON11(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		key        string
		secret     string
		wantStatus int
		wantType   string // error type; "" for success
		wantMsg    string
		wantBody   string // exact success body
	}{
		{"CreateLocation returns the location", jsonHeaders("CreateLocation"), `{"LocationName":"custom-json","Tags":[{"Key":"a","Value":""}]}`, adminKey, adminSecret,
			200, "", "", `{"Location":{"LocationName":"custom-json","LocationArn":"arn:aws:gamelift:eu-west-1:123456789012:location/custom-json","PingBeacon":{"UDPEndpoint":{"Domain":"beacon.muster.test","Port":7770}}}}`},
		{"ListLocations with an empty object lists everything", jsonHeaders("ListLocations"), `{}`, adminKey, adminSecret,
			200, "", "", `{"Locations":[{"LocationName":"custom-json","LocationArn":"arn:aws:gamelift:eu-west-1:123456789012:location/custom-json","PingBeacon":{"UDPEndpoint":{"Domain":"beacon.muster.test","Port":7770}}}]}`},
		{"an empty body is an empty input", jsonHeaders("ListLocations"), ``, adminKey, adminSecret,
			200, "", "", ""},
		{"null members are absent and unknown members ignored", jsonHeaders("ListLocations"), `{"Limit":null,"NextToken":null,"Whatever":[1,2]}`, adminKey, adminSecret,
			200, "", "", ""},
		{"a nil output is an empty object", jsonHeaders("DeleteLocation"), `{"LocationName":"custom-json"}`, adminKey, adminSecret,
			200, "", "", `{}`},
		{"timestamps are epoch seconds with milliseconds", jsonHeaders("DescribeFleetEvents"), `{"FleetId":"fleet-1","StartTime":1469498468.057,"EndTime":1469498469,"Limit":2}`, adminKey, adminSecret,
			200, "", "", `{"Events":[{"EventId":"e1","ResourceId":"fleet-1","EventCode":"FLEET_CREATED","Message":"start","EventTime":1469498468.057,"Count":20000000000},{"EventId":"e2","ResourceId":"fleet-1","EventCode":"FLEET_STATE_ACTIVE","Message":"end","EventTime":1469498469}]}`},
		{"a missing resource is a NotFoundException", jsonHeaders("DeleteLocation"), `{"LocationName":"custom-none"}`, adminKey, adminSecret,
			400, "NotFoundException", "location custom-none not found", ""},
		{"a string where an integer belongs names the member", jsonHeaders("ListLocations"), `{"Limit":"ten"}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: Limit: must be an integer, not a string", ""},
		{"a fraction where an integer belongs names the member", jsonHeaders("ListLocations"), `{"Limit":1.5}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: Limit: must be an integer within range", ""},
		{"an integer beyond int32 is out of range", jsonHeaders("ListLocations"), `{"Limit":99999999999}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: Limit: must be an integer within range", ""},
		{"a number where a string belongs names the nested member", jsonHeaders("CreateLocation"), `{"LocationName":"custom-x","Tags":[{"Key":1}]}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: Tags[0].Key: must be a string, not a number", ""},
		{"a string timestamp is refused", jsonHeaders("DescribeFleetEvents"), `{"StartTime":"2016-07-26T02:01:08Z"}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: request body: cannot be decoded: expected a timestamp (epoch seconds)", ""},
		{"a body that is not an object is refused", jsonHeaders("ListLocations"), `[1]`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: request body: must be an object, not an array", ""},
		{"malformed JSON is refused", jsonHeaders("ListLocations"), `{"Limit":`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: Limit: the JSON ends too early", ""},
		{"malformed JSON names where it breaks", jsonHeaders("ListLocations"), `{"Limit":1,}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: request body: malformed JSON at byte 11", ""},
		{"invalid UTF-8 is a SerializationException", jsonHeaders("CreateLocation"), "{\"LocationName\":\"custom-\xff\"}", adminKey, adminSecret,
			400, "SerializationException", "1 validation error detected: request body: must be UTF-8", ""},
		{"a repeated member is a SerializationException", jsonHeaders("ListLocations"), `{"Limit":1,"Limit":2}`, adminKey, adminSecret,
			400, "SerializationException", "1 validation error detected: Limit: appears twice", ""},
		{"a repeated key inside an unknown member is a SerializationException", jsonHeaders("ListLocations"), `{"Other":{"a":1,"a":1}}`, adminKey, adminSecret,
			400, "SerializationException", "1 validation error detected: Other.a: appears twice", ""},
		{"a member in another letter case is unknown and ignored", jsonHeaders("ListLocations"), `{"limit":"not even an integer","NEXTTOKEN":5}`, adminKey, adminSecret,
			200, "", "", ""},
		{"a required member in another letter case is missing", jsonHeaders("CreateLocation"), `{"locationName":"custom-case"}`, adminKey, adminSecret,
			400, "InvalidRequestException", "1 validation error detected: LocationName: must be 8 to 64 characters", ""},
		{"an unknown operation is a 400 UnknownOperationException", jsonHeaders("LaunchRocket"), `{}`, adminKey, adminSecret,
			400, "UnknownOperationException", `unknown operation "LaunchRocket"`, ""},
		{"a missing X-Amz-Target is an UnknownOperationException", jsonHeaders(""), `{}`, adminKey, adminSecret,
			400, "UnknownOperationException", "missing X-Amz-Target header (GameLift.<Operation>)", ""},
		{"another service's target is an UnknownOperationException", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "DynamoDB_20120810.ListTables"}, `{}`, adminKey, adminSecret,
			400, "UnknownOperationException", "X-Amz-Target must be GameLift.<Operation>", ""},
		{"a wrong Content-Type is refused with 415", map[string]string{"Content-Type": "text/plain", "X-Amz-Target": "GameLift.ListLocations"}, `{}`, adminKey, adminSecret,
			415, "UnsupportedMediaTypeException", "Content-Type must be application/x-amz-json-1.1", ""},
		{"a read-only key may not delete", jsonHeaders("DeleteLocation"), `{"LocationName":"custom-json"}`, readerKey, readerSecret,
			400, "UnauthorizedException", "access key " + readerKey + " has role read-only and may not change anything", ""},
		{"a wrong secret is an InvalidSignatureException", jsonHeaders("ListLocations"), `{}`, adminKey, "nope",
			400, "InvalidSignatureException", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, e.request(t, "/", tt.header, []byte(tt.body), tt.key, tt.secret))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if resp.Header.Get("Smithy-Protocol") != "" {
				t.Error("a JSON response carries smithy-protocol")
			}
			if tt.wantType == "" {
				if tt.wantBody != "" && string(body) != tt.wantBody {
					t.Fatalf("body\n%s\nwant\n%s", body, tt.wantBody)
				}
				if strings.Contains(string(body), "null") {
					t.Fatalf("body has a null: %s", body)
				}
				return
			}
			var je jsonError
			if err := json.Unmarshal(body, &je); err != nil {
				t.Fatalf("error body %q: %v", body, err)
			}
			if je.Type != tt.wantType || resp.Header.Get("X-Amzn-Errortype") != tt.wantType {
				t.Fatalf("__type %q, X-Amzn-ErrorType %q, want %s", je.Type, resp.Header.Get("X-Amzn-Errortype"), tt.wantType)
			}
			if je.Message != je.MessageUpper || je.Message == "" {
				t.Fatalf("message %q, Message %q", je.Message, je.MessageUpper)
			}
			if tt.wantMsg != "" && je.Message != tt.wantMsg {
				t.Fatalf("message %q, want %q", je.Message, tt.wantMsg)
			}
		})
	}
}

func TestJSON11BearerKeys(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantType   string
	}{
		{"a bearer access key is accepted", "Bearer " + adminKey + ":" + adminSecret, 200, ""},
		{"a bearer key with a wrong secret is refused", "Bearer " + adminKey + ":x", 400, "UnrecognizedClientException"},
		{"no credentials are a missing token", "", 400, "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range jsonHeaders("ListLocations") {
				r.Header.Set(k, v)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			resp, body := do(t, r)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amzn-Errortype") != tt.wantType {
				t.Fatalf("status %d type %q, want %d %q; body %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), tt.wantStatus, tt.wantType, body)
			}
		})
	}
}
