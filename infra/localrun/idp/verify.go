package idp

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Why a token was refused. Their texts are the error_description values API Gateway puts
// in its www-authenticate header, where it has one; Description picks the right one out of
// a wrapped error.
var (
	ErrMalformed         = errors.New("the token is malformed")
	ErrAlgorithm         = errors.New("the token's signing algorithm is not supported")
	ErrUnknownKey        = errors.New("the token's key id does not match a key of the issuer")
	ErrSignature         = errors.New("the token has an invalid signature")
	ErrIssuer            = errors.New("the token does not have a valid issuer")
	ErrAudience          = errors.New("the token does not have a valid audience")
	ErrExpired           = errors.New("the token has expired")
	ErrNotYetValid       = errors.New("the token is not valid yet")
	ErrInsufficientScope = errors.New("the token does not have a required scope")
)

var reasons = []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrInsufficientScope}

// Description returns the API Gateway-style description of why a token was refused.
func Description(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r.Error()
		}
	}
	return "the token is invalid"
}

// rsaAlgorithms are the algorithms API Gateway's JWT authorizer accepts: RSA-based only.
var rsaAlgorithms = []string{"RS256", "RS384", "RS512"}

// KeySource finds an issuer's public key by key id.
type KeySource interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// KeySet is a fixed set of public keys by key id.
type KeySet map[string]*rsa.PublicKey

// Key returns the key with id kid.
func (s KeySet) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// ParseJWKS returns the RSA keys of a JSON Web Key Set, skipping other key types.
func ParseJWKS(data []byte) (KeySet, error) {
	var set JWKS
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	out := KeySet{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(k.N)
		e, errE := base64.RawURLEncoding.DecodeString(k.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("parse jwks: key %s is not a valid RSA key", k.Kid)
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}

// Discovery limits, as API Gateway's HTTP API quotas give them.
const (
	discoveryTimeout = 1500 * time.Millisecond
	maxJWKSBytes     = 150000
	// keyCacheTTL is how long API Gateway may cache an issuer's public keys.
	keyCacheTTL = 2 * time.Hour
	// refetchEvery bounds how often an unknown kid makes the source fetch again.
	refetchEvery = 5 * time.Second
)

// RemoteKeys finds an issuer's keys as API Gateway does: it reads the issuer's
// /.well-known/openid-configuration, fetches its jwks_uri, and caches the keys; an unknown
// key id makes it fetch again (at most every few seconds), so a restarted Provider's new
// key is picked up.
type RemoteKeys struct {
	issuer string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    KeySet
	fetched time.Time
}

// NewRemoteKeys returns a key source for issuer; a nil client means one with API
// Gateway's 1500 ms discovery timeout.
func NewRemoteKeys(issuer string, client *http.Client) *RemoteKeys {
	if client == nil {
		client = &http.Client{Timeout: discoveryTimeout}
	}
	return &RemoteKeys{issuer: strings.TrimSuffix(issuer, "/"), client: client, now: time.Now}
}

// Key returns the issuer's key with id kid.
func (s *RemoteKeys) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if k, ok := s.keys[kid]; ok && now.Sub(s.fetched) < keyCacheTTL {
		return k, nil
	}
	if s.keys != nil && now.Sub(s.fetched) < refetchEvery {
		return nil, ErrUnknownKey
	}
	keys, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	s.keys, s.fetched = keys, now
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func (s *RemoteKeys) fetch(ctx context.Context) (KeySet, error) {
	var d Discovery
	if err := s.get(ctx, s.issuer+"/.well-known/openid-configuration", &d, nil); err != nil {
		return nil, err
	}
	if d.JWKSURI == "" {
		return nil, fmt.Errorf("discovery for %s has no jwks_uri", s.issuer)
	}
	var raw []byte
	if err := s.get(ctx, d.JWKSURI, nil, &raw); err != nil {
		return nil, err
	}
	return ParseJWKS(raw)
}

func (s *RemoteKeys) get(ctx context.Context, url string, into any, raw *[]byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: status %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(b) > maxJWKSBytes {
		return fmt.Errorf("fetch %s: response larger than %d bytes", url, maxJWKSBytes)
	}
	if raw != nil {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	return nil
}

// Verifier checks access tokens the way API Gateway's HTTP API JWT authorizer does.
type Verifier struct {
	// Issuer is the authorizer's JwtConfiguration issuer; iss must equal it.
	Issuer string
	// Audiences are the JwtConfiguration audience entries; aud (or client_id when there
	// is no aud) must match one of them.
	Audiences []string
	// Keys finds the issuer's public keys.
	Keys KeySource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Token is a verified token.
type Token struct {
	// Claims are the token's claims as JSON values (numbers are json.Number).
	Claims map[string]any
	// Scopes are the token's scopes, from its scope and scp claims.
	Scopes []string
}

// Verify checks raw (without "Bearer ") and, when required is not empty, that the token
// has at least one of the required scopes. In order, as API Gateway: the algorithm is
// RSA-based, the kid names one of the issuer's keys, the signature holds, iss matches,
// aud (or client_id) matches an audience, exp is after now, nbf and iat are not after
// now (no clock skew allowed), then scopes.
func (v *Verifier) Verify(ctx context.Context, raw string, required []string) (*Token, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	parser := jwt.NewParser(jwt.WithValidMethods(rsaAlgorithms), jwt.WithJSONNumber(), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrUnknownKey
		}
		return v.Keys.Key(ctx, kid)
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknownKey):
		return nil, ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, ErrMalformed
	case strings.Contains(err.Error(), "signing method"):
		// jwt reports an algorithm outside rsaAlgorithms, or one it does not know, only
		// in the message.
		return nil, ErrAlgorithm
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, fmt.Errorf("%w: %v", ErrUnknownKey, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, ErrSignature
	default:
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if iss, _ := claims["iss"].(string); iss == "" || iss != v.Issuer {
		return nil, ErrIssuer
	}
	if !v.audienceOK(claims) {
		return nil, ErrAudience
	}
	t := now()
	exp, ok, err := numericDate(claims, "exp")
	if err != nil || !ok {
		return nil, ErrMalformed
	}
	if !t.Before(exp) {
		return nil, ErrExpired
	}
	for _, name := range []string{"nbf", "iat"} {
		at, ok, err := numericDate(claims, name)
		if err != nil {
			return nil, ErrMalformed
		}
		if ok && at.After(t) {
			return nil, ErrNotYetValid
		}
	}
	tok := &Token{Claims: claims, Scopes: Scopes(claims)}
	if len(required) > 0 && !slices.ContainsFunc(required, func(s string) bool { return slices.Contains(tok.Scopes, s) }) {
		return nil, ErrInsufficientScope
	}
	return tok, nil
}

// audienceOK: aud is checked when present; client_id only when aud is absent.
func (v *Verifier) audienceOK(claims jwt.MapClaims) bool {
	var got []string
	switch aud := claims["aud"].(type) {
	case nil:
		if id, ok := claims["client_id"].(string); ok {
			got = []string{id}
		}
	case string:
		got = []string{aud}
	case []any:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				got = append(got, s)
			}
		}
	}
	return slices.ContainsFunc(got, func(a string) bool { return slices.Contains(v.Audiences, a) })
}

// numericDate reads a NumericDate claim; ok is false when the claim is absent.
func numericDate(claims jwt.MapClaims, name string) (time.Time, bool, error) {
	raw, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, false, fmt.Errorf("claim %s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("claim %s: %w", name, err)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true, nil
}

// Scopes returns a token's scopes: the space-separated scope claim (OAuth 2.0, Cognito)
// and the scp claim (a string or a list, as Okta and Azure AD give it), in order, once
// each.
func Scopes(claims map[string]any) []string {
	var out []string
	add := func(s string) {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			add(v)
		case []any:
			for _, item := range v {
				if s, ok := item.(string); ok {
					add(s)
				}
			}
		}
	}
	return out
}
