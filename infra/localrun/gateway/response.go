package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// response is an HTTP response ready to write.
type response struct {
	status int
	header http.Header
	body   []byte
}

// functionResponse is the format 2.0 response a function returns to customise its answer.
type functionResponse struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// hopHeaders are response headers the gateway sets itself.
var hopHeaders = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true}

// mapResponse interprets a function's payload as API Gateway does for format 2.0: a JSON
// object with a statusCode is a response to apply; anything else (a JSON string, an
// object without statusCode, any other JSON or not JSON at all) is the body of a 200
// application/json response, a JSON string being unquoted first. An object with a
// statusCode that does not fit the format is an error (API Gateway answers 500).
func mapResponse(payload []byte) (response, error) {
	trimmed := bytes.TrimSpace(payload)
	var probe map[string]json.RawMessage
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			return applyResponse(trimmed)
		}
	}
	body := payload
	var s string
	if len(trimmed) > 0 && trimmed[0] == '"' && json.Unmarshal(trimmed, &s) == nil {
		body = []byte(s)
	}
	return response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body}, nil
}

func applyResponse(payload []byte) (response, error) {
	var fr functionResponse
	if err := json.Unmarshal(payload, &fr); err != nil {
		return response{}, fmt.Errorf("invalid function response: %w", err)
	}
	if fr.StatusCode == nil || *fr.StatusCode < 100 || *fr.StatusCode > 599 {
		return response{}, errors.New("invalid function response: statusCode out of range")
	}
	out := response{status: *fr.StatusCode, header: http.Header{}}
	for k, vs := range fr.MultiValueHeaders {
		ck := http.CanonicalHeaderKey(k)
		if hopHeaders[ck] {
			continue
		}
		out.header[ck] = append(out.header[ck], vs...)
	}
	for k, v := range fr.Headers {
		ck := http.CanonicalHeaderKey(k)
		if hopHeaders[ck] || containsFold(out.header[ck], v) {
			continue
		}
		out.header[ck] = append(out.header[ck], v)
	}
	for _, c := range fr.Cookies {
		out.header.Add("Set-Cookie", c)
	}
	out.body = []byte(fr.Body)
	if fr.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(fr.Body)
		if err != nil {
			return response{}, fmt.Errorf("invalid function response: body: %w", err)
		}
		out.body = b
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// write sends resp; with no Content-Type none is sent (Go would otherwise sniff one).
func (resp response) write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = append(h[k], vs...)
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// gatewayError is a response API Gateway itself produces.
func gatewayError(status int) response {
	msg := http.StatusText(status)
	if status == http.StatusInternalServerError {
		msg = "Internal Server Error"
	}
	return response{
		status: status,
		header: http.Header{"Content-Type": {"application/json"}},
		body:   []byte(`{"message":"` + msg + `"}`),
	}
}
