// Package ssm is a local stand-in for AWS Systems Manager Parameter Store, enough for
// functions to read their secrets locally with the real SDK client and unchanged code.
//
// It speaks the AWS JSON 1.1 protocol (POST /, X-Amz-Target: AmazonSSM.<Operation>)
// for GetParameter, GetParameters and PutParameter, with SSM's response shapes and
// error types. It keeps one store per emulated account and picks the account from the
// access key id in the request's SigV4 Authorization header (localaccount): a social
// client never sees a commerce parameter, nor the reverse, as between two real AWS
// accounts. Signatures are not verified; the local keys are public anyway, and what is
// emulated is which account a caller is.
package ssm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
)

// Parameter types.
const (
	TypeString       = "String"
	TypeStringList   = "StringList"
	TypeSecureString = "SecureString"
)

// maxNames is GetParameters' limit; maxValue the standard tier's value size.
const (
	maxNames = 10
	maxValue = 4096
)

// param is one stored parameter.
type param struct {
	value, typ, dataType string
	version              int64
	modified             time.Time
}

// Server is the emulator; it is an http.Handler.
type Server struct {
	mu     sync.Mutex
	stores map[string]map[string]*param // account id -> name -> parameter
	now    func() time.Time

	srv  *http.Server
	done chan struct{}
}

// New returns an empty emulator for the accounts in localaccount.All.
func New() *Server {
	s := &Server{stores: map[string]map[string]*param{}, now: time.Now}
	for _, a := range localaccount.All {
		s.stores[a.ID] = map[string]*param{}
	}
	return s
}

// Listen serves the emulator on addr (e.g. "127.0.0.1:0") and returns its base URL,
// which is what an SDK client's BaseEndpoint or AWS_ENDPOINT_URL_SSM takes.
func (s *Server) Listen(addr string) (string, error) {
	if s.srv != nil {
		return "", errors.New("ssm emulator: already listening")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ssm emulator: %w", err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops serving; the stores are kept.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	<-s.done
	return err
}

// Put stores a parameter in an account, as PutParameter with Overwrite does, and
// returns its version. Tools and the runner use it to seed secrets.
func (s *Server) Put(acct localaccount.Account, name, value, typ string) (int64, error) {
	if typ == "" {
		typ = TypeSecureString
	}
	if e := validatePut(name, value, typ, "text"); e != nil {
		return 0, fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store, ok := s.stores[acct.ID]
	if !ok {
		return 0, fmt.Errorf("ssm emulator: unknown account %s", acct.ID)
	}
	return s.put(store, name, value, typ, "text"), nil
}

// put stores or overwrites; the caller holds s.mu.
func (s *Server) put(store map[string]*param, name, value, typ, dataType string) int64 {
	p := store[name]
	if p == nil {
		p = &param{}
		store[name] = p
	}
	p.version++
	p.value, p.typ, p.dataType, p.modified = value, typ, dataType, s.now()
	return p.version
}

// apiError is an SSM error response.
type apiError struct {
	Status  int    `json:"-"`
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func errorf(typ, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one AWS JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, e := s.serve(r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	if e != nil {
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(e)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) serve(r *http.Request) (any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, errorf("UnknownOperationException", "SSM accepts POST / only")
	}
	acct, e := account(r.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	if !ok {
		return nil, errorf("UnknownOperationException", "missing or unknown X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	decode := func(v any) *apiError {
		if err := dec.Decode(v); err != nil {
			return errorf("SerializationException", "cannot read the request: %v", err)
		}
		return nil
	}
	switch op {
	case "GetParameter":
		var in struct {
			Name           string
			WithDecryption bool
		}
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.getParameter(acct, in.Name, in.WithDecryption)
	case "GetParameters":
		var in struct {
			Names          []string
			WithDecryption bool
		}
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.getParameters(acct, in.Names, in.WithDecryption)
	case "PutParameter":
		var in struct {
			Name, Value, Type, DataType string
			Overwrite                   bool
		}
		if e := decode(&in); e != nil {
			return nil, e
		}
		return s.putParameter(acct, in.Name, in.Value, in.Type, in.DataType, in.Overwrite)
	}
	return nil, errorf("UnknownOperationException", "operation %s is not emulated", op)
}

// account finds the caller's account from the SigV4 credential scope,
// "AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/ssm/aws4_request, ...".
func account(auth string) (localaccount.Account, *apiError) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return localaccount.Account{}, &apiError{Status: http.StatusBadRequest, Type: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
	}
	keyID, _, _ := strings.Cut(cred, "/")
	for _, a := range localaccount.All {
		if a.AccessKeyID == keyID {
			return a, nil
		}
	}
	return localaccount.Account{}, errorf("UnrecognizedClientException", "The security token included in the request is invalid.")
}

// parameter is SSM's Parameter shape.
type parameter struct {
	ARN              string
	DataType         string
	LastModifiedDate json.Number
	Name             string
	Selector         string `json:",omitempty"`
	Type             string
	Value            string
	Version          int64
}

// lookup resolves a name, an ARN of the caller's account, or either with a ":version"
// selector. An ARN of another account is not found: there is no cross-account sharing.
func (s *Server) lookup(acct localaccount.Account, ref string) (parameter, bool) {
	name := ref
	if rest, ok := strings.CutPrefix(ref, arnPrefix(acct)); ok {
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
		// "parameter/a" names "a", "parameter/x/y" names "/x/y".
		if strings.Count(rest, "/") == 1 {
			rest = rest[1:]
		}
		name = rest
	} else if strings.HasPrefix(ref, "arn:") {
		return parameter{}, false
	}
	var selector string
	var version int64
	if i := strings.LastIndex(name, ":"); i >= 0 {
		v, err := strconv.ParseInt(name[i+1:], 10, 64)
		if err != nil || v < 1 {
			return parameter{}, false // labels are not emulated
		}
		name, selector, version = name[:i], name[i:], v
	}
	p, ok := s.stores[acct.ID][name]
	if !ok || (version != 0 && version != p.version) {
		return parameter{}, false // only the latest version is kept
	}
	return parameter{
		ARN:              arnPrefix(acct) + strings.TrimPrefix(name, "/"),
		DataType:         p.dataType,
		LastModifiedDate: json.Number(strconv.FormatFloat(float64(p.modified.UnixMilli())/1000, 'f', 3, 64)),
		Name:             name,
		Selector:         selector,
		Type:             p.typ,
		Value:            p.value,
		Version:          p.version,
	}, true
}

func arnPrefix(acct localaccount.Account) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/", localaccount.Region, acct.ID)
}

// reveal returns what SSM returns as Value: a SecureString without decryption is
// ciphertext, never the value.
func reveal(p parameter, decrypt bool) parameter {
	if p.Type == TypeSecureString && !decrypt {
		sum := sha256.Sum256([]byte(p.Value))
		p.Value = "local-kms:" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return p
}

func (s *Server) getParameter(acct localaccount.Account, name string, decrypt bool) (any, *apiError) {
	if name == "" {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.lookup(acct, name)
	if !ok {
		return nil, errorf("ParameterNotFound", "Parameter %s not found.", name)
	}
	return map[string]any{"Parameter": reveal(p, decrypt)}, nil
}

func (s *Server) getParameters(acct localaccount.Account, names []string, decrypt bool) (any, *apiError) {
	if len(names) < 1 || len(names) > maxNames {
		return nil, errorf("ValidationException",
			"1 validation error detected: Value '%v' at 'names' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", names, maxNames)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	params, invalid := []parameter{}, []string{}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if p, ok := s.lookup(acct, n); ok {
			params = append(params, reveal(p, decrypt))
		} else {
			invalid = append(invalid, n)
		}
	}
	return map[string]any{"Parameters": params, "InvalidParameters": invalid}, nil
}

func (s *Server) putParameter(acct localaccount.Account, name, value, typ, dataType string, overwrite bool) (any, *apiError) {
	if dataType == "" {
		dataType = "text"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.stores[acct.ID]
	old, exists := store[name]
	if typ == "" && exists {
		typ = old.typ
	}
	if e := validatePut(name, value, typ, dataType); e != nil {
		return nil, e
	}
	if exists && !overwrite {
		return nil, errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	return map[string]any{"Tier": "Standard", "Version": s.put(store, name, value, typ, dataType)}, nil
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)

func validatePut(name, value, typ, dataType string) *apiError {
	switch {
	case !nameRe.MatchString(name) || len(name) > 2048:
		return errorf("ValidationException", "Parameter name %q: only a-zA-Z0-9_.-/ are allowed", name)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return errorf("ValidationException", "Parameter name %q: a name in a hierarchy must be fully qualified (start with /)", name)
	case strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "aws") || strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "ssm"):
		return errorf("ValidationException", "Parameter name %q: names beginning with aws or ssm are reserved", name)
	case typ == "":
		return errorf("ValidationException", "A parameter type is required when you create a parameter.")
	case typ != TypeString && typ != TypeStringList && typ != TypeSecureString:
		return errorf("ValidationException", "Type %q is not one of String, StringList, SecureString", typ)
	case dataType != "text":
		return errorf("ValidationException", "DataType %q is not emulated; use text", dataType)
	case value == "":
		return errorf("ValidationException", "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(value) > maxValue:
		return errorf("ValidationException", "Standard tier parameters support a maximum parameter value of %d characters.", maxValue)
	}
	return nil
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
