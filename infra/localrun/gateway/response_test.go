package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMapResponse(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name       string
		payload    string
		wantErr    bool
		wantStatus int
		wantHeader http.Header
		wantBody   string
	}{
		// The two examples of "Lambda function response for format 2.0".
		{"string", `"Hello from Lambda!"`, false, 200, jsonCT, "Hello from Lambda!"},
		{"object without statusCode", `{ "message": "Hello from Lambda!" }`, false, 200, jsonCT, `{ "message": "Hello from Lambda!" }`},
		{"array", `[1,2]`, false, 200, jsonCT, `[1,2]`},
		{"number", `42`, false, 200, jsonCT, `42`},
		{"not JSON", `{"name": "John", "age":`, false, 200, jsonCT, `{"name": "John", "age":`},
		{"full response", `{"statusCode":201,"headers":{"content-type":"application/json","x-a":"1"},"body":"{\"id\":\"p-1\"}"}`,
			false, 201, http.Header{"Content-Type": {"application/json"}, "X-A": {"1"}}, `{"id":"p-1"}`},
		{"no content type", `{"statusCode":204}`, false, 204, http.Header{}, ""},
		{"cookies", `{"statusCode":200,"cookies":["a=1; Path=/","b=2"],"body":"ok"}`,
			false, 200, http.Header{"Set-Cookie": {"a=1; Path=/", "b=2"}}, "ok"},
		{"multi-value headers", `{"statusCode":200,"multiValueHeaders":{"x-b":["1","2"]},"headers":{"X-B":"2","x-c":"3"}}`,
			false, 200, http.Header{"X-B": {"1", "2"}, "X-C": {"3"}}, ""},
		{"base64 body", `{"statusCode":200,"isBase64Encoded":true,"headers":{"content-type":"image/png"},"body":"iVBORw=="}`,
			false, 200, http.Header{"Content-Type": {"image/png"}}, "\x89PNG"},
		{"content-length from the function is dropped", `{"statusCode":200,"headers":{"content-length":"999"},"body":"x"}`,
			false, 200, http.Header{}, "x"},
		{"statusCode as a string", `{"statusCode":"200","body":"x"}`, true, 0, nil, ""},
		{"statusCode null", `{"statusCode":null}`, true, 0, nil, ""},
		{"statusCode out of range", `{"statusCode":42}`, true, 0, nil, ""},
		{"bad base64", `{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}`, true, 0, nil, ""},
		{"headers not strings", `{"statusCode":200,"headers":{"x":1}}`, true, 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := mapResponse([]byte(tt.payload))
			if (err != nil) != tt.wantErr {
				t.Fatalf("mapResponse error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if resp.status != tt.wantStatus || string(resp.body) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
			if d := cmp.Diff(tt.wantHeader, resp.header); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
		})
	}
}

func TestResponseWriteDoesNotSniff(t *testing.T) {
	rec := httptest.NewRecorder()
	response{status: 200, header: http.Header{}, body: []byte("<html>")}.write(rec)
	if ct, ok := rec.Result().Header["Content-Type"]; ok && len(ct) > 0 {
		t.Errorf("Content-Type = %v, want none", ct)
	}
}
