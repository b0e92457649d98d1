package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// DefaultMaxBody is the body size limit DecodeJSON applies when given zero: far more
// than any JSON command needs, far less than API Gateway's 10 MB payload limit.
const DefaultMaxBody = 64 << 10

// DecodeJSON decodes the request body into dst strictly: JSON only, at most maxBytes
// bytes after base64 decoding (DefaultMaxBody if maxBytes <= 0), exactly one JSON value,
// no unknown fields. A Content-Type header, when present, must be application/json or
// a +json type. The error is always an *Error:
//
//   - 400 invalid_json: the body is not well-formed JSON (or not valid base64);
//   - 400 invalid_body: empty body, unknown field, wrong type, or more than one value;
//   - 413 body_too_large; 415 unsupported_media_type.
func DecodeJSON(req Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if ct := Header(req, "Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be application/json")
		}
	}
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		// A base64 body is 4/3 the size of the decoded one; refuse early before decoding.
		if int64(base64.StdEncoding.DecodedLen(len(req.Body))) > maxBytes+3 {
			return tooLarge(maxBytes)
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "the body is not valid base64", Cause: err}
		}
		raw = b
	}
	if int64(len(raw)) > maxBytes {
		return tooLarge(maxBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return NewError(http.StatusBadRequest, CodeInvalidBody, "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return NewError(http.StatusBadRequest, CodeInvalidBody, "the body must hold exactly one JSON value")
	}
	return nil
}

func tooLarge(limit int64) *Error {
	return NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the body must not exceed %d bytes", limit))
}

// decodeError turns an encoding/json error into a client-safe *Error. Messages name the
// offending field but never echo the client's input back.
func decodeError(err error) *Error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "the body is not valid JSON", Cause: err}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidBody, Message: "the body must be a JSON object", Cause: err}
		}
		return &Error{
			Status: http.StatusBadRequest, Code: CodeInvalidBody,
			Message: fmt.Sprintf("field %q must be of type %s", field, jsonTypeName(typeErr.Type.Kind().String())),
			Details: []FieldError{{Field: field, Message: "wrong type"}},
			Cause:   err,
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{
			Status: http.StatusBadRequest, Code: CodeInvalidBody,
			Message: fmt.Sprintf("unknown field %q", field),
			Details: []FieldError{{Field: field, Message: "unknown field"}},
			Cause:   err,
		}
	default:
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidBody, Message: "the body does not match the expected shape", Cause: err}
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	default:
		return kind
	}
}

// Header returns a request header, matching its name case-insensitively: API Gateway
// HTTP APIs lower-case header names, but other emitters of the event may not.
func Header(req Request, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
