// Package idp is the local identity provider that stands in for the real one (Cognito,
// Auth0, ...) when both accounts run on one machine.
//
// A Provider generates an RSA key pair when it starts (the private key lives only in
// memory, never on disk), mints RS256 access tokens shaped like an OAuth 2.0 provider's
// (iss, aud, sub, iat, nbf, exp, jti and a space-separated scope claim), and publishes
// the public key the way an OpenID Connect provider does, so the local HTTP API gateway
// can verify tokens exactly as API Gateway's JWT authorizer does: by discovery from the
// issuer, not by sharing the key in-process.
//
// Its HTTP handler is mounted under PathPrefix on the gateway's origin:
//
//	GET  /_local/idp/.well-known/openid-configuration
//	GET  /_local/idp/.well-known/jwks.json
//	POST /_local/idp/token
//
// The token endpoint is a local-only convenience for tests, scripts and the storefront
// page: it takes {"sub":"buyer-1","scopes":["buyer"],"ttlSeconds":3600} and hands back a
// token (an optional "claims" object adds claims). It is not an OAuth 2.0 flow (no client authentication, no grant types, no
// consent) and nothing like it exists in front of the real identity provider.
package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// PathPrefix is the reserved path the Provider's handler is mounted under.
const PathPrefix = "/_local/idp/"

// DefaultTTL is the lifetime of a token minted with a zero ttl.
const DefaultTTL = time.Hour

// keyBits is the RSA modulus size; 2048 is what Cognito and Auth0 use.
const keyBits = 2048

// maxTokenRequest bounds the body of a POST /token request.
const maxTokenRequest = 64 << 10

// Config says who the Provider is.
type Config struct {
	// Issuer is the iss of every token and the base of the discovery document, e.g.
	// "http://127.0.0.1:3000/_local/idp" (the template's JwtIssuer parameter locally).
	Issuer string
	// Audience is the aud of every token, e.g. "etalase" (the template's JwtAudience).
	Audience string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Provider mints and publishes tokens. It is safe for concurrent use.
type Provider struct {
	cfg Config
	key *rsa.PrivateKey
	kid string
}

// New generates a fresh key pair and returns a Provider for cfg.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("idp: no issuer")
	}
	if cfg.Audience == "" {
		return nil, errors.New("idp: no audience")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("idp: generate key: %w", err)
	}
	return &Provider{cfg: cfg, key: key, kid: randomID(12)}, nil
}

// Issuer returns the iss of the Provider's tokens.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Audience returns the aud of the Provider's tokens.
func (p *Provider) Audience() string { return p.cfg.Audience }

// Keys returns the Provider's public key as a key source, for verifiers in the same
// process that want to skip discovery (tests, mostly).
func (p *Provider) Keys() KeySet { return KeySet{p.kid: &p.key.PublicKey} }

// Mint returns a signed RS256 access token for subject with the given scopes, valid for
// ttl from now (zero means DefaultTTL; a negative ttl gives an already expired token,
// which tests use). Extra claims are set last and may replace the standard ones, and a
// nil value removes one: that is how tests build tokens with a wrong audience or issuer,
// or without an exp.
func (p *Provider) Mint(subject string, scopes []string, ttl time.Duration, extra map[string]any) (string, error) {
	if subject == "" {
		return "", errors.New("mint: no subject")
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	now := p.cfg.Now()
	claims := jwt.MapClaims{
		"iss":       p.cfg.Issuer,
		"aud":       p.cfg.Audience,
		"sub":       subject,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
		"jti":       randomID(16),
		"token_use": "access",
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = p.kid
	s, err := tok.SignedString(p.key)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	return s, nil
}

// JWK is one JSON Web Key (RFC 7517), RSA public keys only.
type JWK struct {
	Kty string `json:"kty"`           // key type: "RSA"
	Use string `json:"use,omitempty"` // "sig"
	Alg string `json:"alg,omitempty"` // "RS256"
	Kid string `json:"kid"`           // key id, matched against a token's kid header
	N   string `json:"n"`             // modulus, base64url
	E   string `json:"e"`             // public exponent, base64url
}

// JWKS is a JSON Web Key Set, the document at an issuer's jwks_uri.
type JWKS struct {
	Keys []JWK `json:"keys"` // the keys
}

// JWKS returns the Provider's public key set.
func (p *Provider) JWKS() JWKS {
	pub := p.key.PublicKey
	return JWKS{Keys: []JWK{{
		Kty: "RSA",
		Use: "sig",
		Alg: "RS256",
		Kid: p.kid,
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// Discovery is the subset of an OpenID Connect discovery document that JWT verifiers
// use; its fields are the document's members of the same (JSON) names.
type Discovery struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	TokenEndpoint                    string   `json:"token_endpoint,omitempty"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

// Discovery returns the Provider's discovery document.
func (p *Provider) Discovery() Discovery {
	return Discovery{
		Issuer:                           p.cfg.Issuer,
		JWKSURI:                          p.base() + "/.well-known/jwks.json",
		TokenEndpoint:                    p.base() + "/token",
		ResponseTypesSupported:           []string{"token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
	}
}

// base is the issuer without a trailing slash, for building URLs under it.
func (p *Provider) base() string { return strings.TrimSuffix(p.cfg.Issuer, "/") }

// TokenRequest is the body of POST /_local/idp/token. Claims are extra claims, set as
// Mint sets them.
type TokenRequest struct {
	Sub        string         `json:"sub"`              // the subject, required
	Scopes     []string       `json:"scopes"`           // the scope claim's scopes
	TTLSeconds int64          `json:"ttlSeconds"`       // lifetime; 0 means DefaultTTL
	Claims     map[string]any `json:"claims,omitempty"` // extra claims
}

// TokenResponse is the answer to POST /_local/idp/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"` // the signed JWT
	TokenType   string `json:"token_type"`   // always "Bearer"
	ExpiresIn   int64  `json:"expires_in"`   // seconds
}

// Handler returns the Provider's HTTP handler, to be mounted under PathPrefix; it sees
// the full request path.
func (p *Provider) Handler() http.Handler {
	return http.HandlerFunc(p.serveHTTP)
}

func (p *Provider) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, PathPrefix) {
	case ".well-known/jwks.json":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, p.JWKS())
	case ".well-known/openid-configuration":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, p.Discovery())
	case "token":
		if !allow(w, r, http.MethodPost) {
			return
		}
		p.serveToken(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTokenRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if req.Sub == "" || req.TTLSeconds < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "sub is required and ttlSeconds must not be negative"})
		return
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = DefaultTTL
	}
	tok, err := p.Mint(req.Sub, req.Scopes, ttl, req.Claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second)})
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method Not Allowed"})
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// randomID returns n random bytes, base64url-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
