package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// timeLayout is requestContext.time's format.
const timeLayout = "02/Jan/2006:15:04:05 -0700"

// textTypes are the content types whose bodies go to the function as text; every other
// non-empty content type is base64-encoded with isBase64Encoded set.
var textTypes = []string{"application/json", "application/xml", "application/x-www-form-urlencoded"}

// isText reports whether a body of this Content-Type is passed as text.
func isText(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		mt = strings.TrimSpace(mt)
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	for _, t := range textTypes {
		if mt == t {
			return true
		}
	}
	return false
}

// eventInput is what buildEvent needs besides the request.
type eventInput struct {
	route     *route
	params    map[string]string
	body      []byte
	requestID string
	traceID   string
	now       time.Time
	claims    map[string]string
	scopes    []string
}

// buildEvent turns a request into an HTTP API payload format 2.0 event.
func buildEvent(r *http.Request, in eventInput) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	host := r.Host
	headers["host"] = host
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = h
	}
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if port := localPort(r); port != "" {
		headers["x-forwarded-port"] = port
	}
	headers["x-amzn-trace-id"] = in.traceID

	var cookies []string
	for _, line := range r.Header.Values("Cookie") {
		for c := range strings.SplitSeq(line, ";") {
			if c = strings.TrimSpace(c); c != "" {
				cookies = append(cookies, c)
			}
		}
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery) // keeps what parses, as API Gateway does
		query = make(map[string]string, len(values))
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}

	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	prefix, _, _ := strings.Cut(hostname, ".")

	rawPath := r.URL.EscapedPath()
	if rawPath == "" {
		rawPath = "/"
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              in.route.key,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        in.params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     in.route.key,
			AccountID:    in.route.Account,
			Stage:        "$default",
			RequestID:    in.requestID,
			APIID:        in.route.APIID,
			DomainName:   host,
			DomainPrefix: prefix,
			Time:         in.now.UTC().Format(timeLayout),
			TimeEpoch:    in.now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if in.route.Authorizer != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: in.claims, Scopes: in.scopes},
		}
	}
	if len(in.body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(in.body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(in.body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		return p
	}
	return ""
}

// wireContext drops the empty authentication block that the events type always
// marshals: API Gateway sends it only for mutual TLS.
type wireContext struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
}

type wireEvent struct {
	events.APIGatewayV2HTTPRequest
	RequestContext wireContext `json:"requestContext"`
}

// marshalEvent encodes an event as API Gateway sends it.
func marshalEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	b, err := json.Marshal(wireEvent{APIGatewayV2HTTPRequest: ev, RequestContext: wireContext{APIGatewayV2HTTPRequestContext: ev.RequestContext}})
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	return b, nil
}

// claimStrings renders verified claims as API Gateway passes them to the integration:
// every value a string, numbers as written in the token, lists as "[a b]".
func claimStrings(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		if v == nil {
			continue
		}
		out[k] = claimString(v)
	}
	return out
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = claimString(item)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + claimString(x[k])
		}
		return "map[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
