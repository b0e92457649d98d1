package contract

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The hand-off token is how a buyer's "Buy" on a social promotion reaches the commerce
// cart without social holding any permission in commerce (DESIGN.md §1 rule 2, §3 flow
// 3): social signs a short-lived JWT with its Ed25519 private key and gives it to the
// buyer's client, which presents it to commerce's cart. Commerce holds only social's
// public key, so it can check the token but never mint one, and social can mint tokens
// but never act in commerce. The token names what was promoted and at what price social
// displayed it; commerce prices the item from its own catalog and keeps the promotion
// and creator as the cart line's attribution. The token carries no buyer identity.
const (
	// HandoffIssuer is the token's iss: the social account.
	HandoffIssuer = "etalase-social"
	// HandoffAudience is the token's only aud: the commerce account.
	HandoffAudience = "etalase-commerce"
	// HandoffAlgorithm is the only JWS algorithm a hand-off token may use (Ed25519).
	HandoffAlgorithm = "EdDSA"
	// HandoffMaxLifetime bounds exp - iat: a token is a click's hand-over, not a session.
	HandoffMaxLifetime = 15 * time.Minute
	// HandoffDefaultLifetime is the lifetime SignHandoff gives a token without ExpiresAt.
	HandoffDefaultLifetime = 10 * time.Minute
	// DefaultHandoffLeeway is the clock-skew allowance HandoffVerifier applies when its
	// Leeway is zero: a token is still accepted this long after exp, and an iat this far
	// in the future is not refused.
	DefaultHandoffLeeway = 30 * time.Second
	// MaxHandoffTokenLength bounds the token string: a hand-off token is about 500
	// bytes, and anything far larger is refused before it is decoded.
	MaxHandoffTokenLength = 4096
	// maxHandoffIDLength bounds the id claims (promotion, creator, product, jti).
	maxHandoffIDLength = 128
)

// Sentinel errors of HandoffVerifier.Verify; match them with errors.Is. Exactly one
// of them is in every error Verify returns. They are checked in this order, so a token
// that is both unsigned and expired is reported as a signature (or algorithm) problem:
// nothing in an unverified token is believed.
var (
	// ErrHandoffMalformed: not a compact JWS, bad base64 or JSON, too long.
	ErrHandoffMalformed = errors.New("hand-off token malformed")
	// ErrHandoffAlgorithm: the header's alg is not EdDSA ("none", HS256, RS256, ...).
	ErrHandoffAlgorithm = errors.New("hand-off token algorithm not accepted")
	// ErrHandoffSignature: the signature does not verify with social's public key.
	ErrHandoffSignature = errors.New("hand-off token signature invalid")
	// ErrHandoffIssuer: iss is missing or not HandoffIssuer.
	ErrHandoffIssuer = errors.New("hand-off token issuer not accepted")
	// ErrHandoffAudience: aud is missing or does not name HandoffAudience.
	ErrHandoffAudience = errors.New("hand-off token audience not accepted")
	// ErrHandoffExpired: exp (plus the leeway) is in the past.
	ErrHandoffExpired = errors.New("hand-off token expired")
	// ErrHandoffNotYetValid: iat or nbf is in the future, beyond the leeway.
	ErrHandoffNotYetValid = errors.New("hand-off token not yet valid")
	// ErrHandoffClaims: a signed token whose claims break the contract: exp, iat or jti
	// missing, a lifetime over HandoffMaxLifetime, an empty or oversized id, a bad
	// displayed price.
	ErrHandoffClaims = errors.New("hand-off token claims invalid")
)

// HandoffClaims are the hand-off token's claims. The registered claims are fixed by
// the contract: iss HandoffIssuer, aud [HandoffAudience], iat, exp at most
// HandoffMaxLifetime after iat, and a random jti that makes each token unique (the cart
// uses it to make redeeming the same token twice a no-op). No sub: the token names no
// buyer.
type HandoffClaims struct {
	// PromotionID is social's promotion the buyer came from.
	PromotionID string `json:"promotionId"`
	// CreatorID is the creator the sale is attributed to.
	CreatorID string `json:"creatorId"`
	// ProductID is commerce's product id, as the promotion displayed it.
	ProductID string `json:"productId"`
	// DisplayedPrice is the price social showed. Commerce never charges it; the cart
	// only flags a line whose catalog price differs from it.
	DisplayedPrice Price `json:"displayedPrice"`
	jwt.RegisteredClaims
}

// SignHandoff signs c as a hand-off token at time now with social's private key. It
// fills the registered claims the contract fixes: iss, aud and iat (now), exp (now +
// HandoffDefaultLifetime unless c.ExpiresAt is set), and a random jti unless c.ID is
// set. It refuses claims that Verify would refuse: another issuer or audience, a
// lifetime outside (0, HandoffMaxLifetime], an empty id, a negative displayed price.
func SignHandoff(priv ed25519.PrivateKey, c HandoffClaims, now time.Time) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("sign hand-off token: not an Ed25519 private key")
	}
	if c.Issuer != "" && c.Issuer != HandoffIssuer {
		return "", fmt.Errorf("sign hand-off token: issuer must be %q", HandoffIssuer)
	}
	if len(c.Audience) > 0 && (len(c.Audience) != 1 || c.Audience[0] != HandoffAudience) {
		return "", fmt.Errorf("sign hand-off token: audience must be [%q]", HandoffAudience)
	}
	if c.Subject != "" {
		return "", errors.New("sign hand-off token: a hand-off token names no subject")
	}
	now = now.Truncate(time.Second) // NumericDate has second precision
	c.Issuer = HandoffIssuer
	c.Audience = jwt.ClaimStrings{HandoffAudience}
	c.IssuedAt = jwt.NewNumericDate(now)
	if c.ExpiresAt == nil {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(HandoffDefaultLifetime))
	}
	if c.ID == "" {
		id, err := newHandoffID()
		if err != nil {
			return "", fmt.Errorf("sign hand-off token: %w", err)
		}
		c.ID = id
	}
	if err := c.check(); err != nil {
		return "", fmt.Errorf("sign hand-off token: %w", err)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign hand-off token: %w", err)
	}
	return s, nil
}

// newHandoffID returns 128 random bits, base64url-encoded.
func newHandoffID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// check applies the contract's rules on the claims that the JWT library does not
// check: the lifetime, jti and the hand-off fields. The error wraps ErrHandoffClaims.
func (c HandoffClaims) check() error {
	var bad []string
	switch {
	case c.IssuedAt == nil:
		bad = append(bad, "iat is required")
	case c.ExpiresAt == nil:
		bad = append(bad, "exp is required")
	default:
		life := c.ExpiresAt.Sub(c.IssuedAt.Time)
		if life <= 0 || life > HandoffMaxLifetime {
			bad = append(bad, fmt.Sprintf("exp must be after iat and at most %s after it", HandoffMaxLifetime))
		}
	}
	for _, f := range []struct{ name, v string }{
		{"jti", c.ID}, {"promotionId", c.PromotionID}, {"creatorId", c.CreatorID}, {"productId", c.ProductID},
	} {
		if f.v == "" || len(f.v) > maxHandoffIDLength || strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			bad = append(bad, fmt.Sprintf("%s must be 1 to %d printable ASCII characters", f.name, maxHandoffIDLength))
		}
	}
	if p := c.DisplayedPrice; p.Amount < 0 || !isCurrencyCode(p.Currency) {
		bad = append(bad, "displayedPrice must have a non-negative amount and an ISO 4217 currency")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrHandoffClaims, strings.Join(bad, "; "))
	}
	return nil
}

// isCurrencyCode reports whether s has the shape of an ISO 4217 code (three upper-case
// letters); which codes commerce sells in is commerce's business, not the contract's.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// HandoffVerifier checks hand-off tokens with social's public key alone.
type HandoffVerifier struct {
	// PublicKey is social's Ed25519 public key, from configuration (never committed).
	PublicKey ed25519.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock-skew allowance for exp, iat and nbf; zero means
	// DefaultHandoffLeeway, a negative value means none.
	Leeway time.Duration
}

// Verify checks token and returns its claims. Every error wraps exactly one of the
// ErrHandoff* sentinels. Only EdDSA is accepted: the algorithm is checked before
// anything else, so "none", HS256 keyed with the public key, RS256 and every other
// algorithm are refused as ErrHandoffAlgorithm without touching the key.
func (v HandoffVerifier) Verify(token string) (HandoffClaims, error) {
	if len(v.PublicKey) != ed25519.PublicKeySize {
		return HandoffClaims{}, errors.New("verify hand-off token: no Ed25519 public key configured")
	}
	if len(token) == 0 || len(token) > MaxHandoffTokenLength {
		return HandoffClaims{}, fmt.Errorf("%w: length %d", ErrHandoffMalformed, len(token))
	}
	// A compact JWS is base64url and dots, nothing else. Go's base64 decoders skip
	// CR and LF, so without this a signed token with a line break inside would verify
	// as a second spelling of the same token.
	if i := strings.IndexFunc(token, func(r rune) bool { return !isCompactJWSChar(r) }); i >= 0 {
		return HandoffClaims{}, fmt.Errorf("%w: character %q at %d", ErrHandoffMalformed, token[i], i)
	}
	alg, err := headerAlgorithm(token)
	if err != nil {
		return HandoffClaims{}, err
	}
	if alg != HandoffAlgorithm {
		return HandoffClaims{}, fmt.Errorf("%w: alg %q", ErrHandoffAlgorithm, alg)
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	leeway := v.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultHandoffLeeway
	case leeway < 0:
		leeway = 0
	}
	var c HandoffClaims
	_, err = jwt.ParseWithClaims(token, &c,
		func(t *jwt.Token) (any, error) {
			if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
				return nil, fmt.Errorf("%w: method %T", ErrHandoffAlgorithm, t.Method)
			}
			return v.PublicKey, nil
		},
		jwt.WithValidMethods([]string{HandoffAlgorithm}),
		jwt.WithIssuer(HandoffIssuer),
		jwt.WithAudience(HandoffAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return HandoffClaims{}, classify(err)
	}
	if err := c.check(); err != nil {
		return HandoffClaims{}, err
	}
	return c, nil
}

// isCompactJWSChar reports whether r may appear in a compact JWS: the base64url
// alphabet (RFC 4648 §5, unpadded) and the dot between the parts.
func isCompactJWSChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// headerAlgorithm decodes the JOSE header of a compact JWS and returns its alg. The JWT
// library is not asked: it fails on an algorithm it does not know before saying which.
func headerAlgorithm(token string) (string, error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrHandoffMalformed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("%w: header is not base64url", ErrHandoffMalformed)
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("%w: header is not a JSON object", ErrHandoffMalformed)
	}
	if h.Alg == nil {
		return "", fmt.Errorf("%w: no alg", ErrHandoffAlgorithm)
	}
	return *h.Alg, nil
}

// classify maps the JWT library's error to one sentinel, in the order the sentinels
// are documented.
func classify(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, ErrHandoffAlgorithm):
		sentinel = ErrHandoffAlgorithm
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrHandoffMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		sentinel = ErrHandoffSignature
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		sentinel = ErrHandoffIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		sentinel = ErrHandoffAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// Which claim: a missing iss or aud is the wrong issuer or audience.
		switch msg := err.Error(); {
		case strings.Contains(msg, "iss claim"):
			sentinel = ErrHandoffIssuer
		case strings.Contains(msg, "aud claim"):
			sentinel = ErrHandoffAudience
		default:
			sentinel = ErrHandoffClaims
		}
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrHandoffExpired
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		sentinel = ErrHandoffNotYetValid
	default:
		sentinel = ErrHandoffClaims
	}
	return fmt.Errorf("%w: %v", sentinel, err)
}

// PEM block types of the hand-off keys.
const (
	pemPublicKey  = "PUBLIC KEY"
	pemPrivateKey = "PRIVATE KEY"
)

// ParseHandoffPublicKeyPEM parses social's public key as commerce's configuration holds
// it: one PEM block "PUBLIC KEY" with a PKIX (SubjectPublicKeyInfo) Ed25519 key, as
// `openssl pkey -pubout` writes it.
func ParseHandoffPublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	block, err := onePEM(data, pemPublicKey)
	if err != nil {
		return nil, fmt.Errorf("hand-off public key: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("hand-off public key: %w", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("hand-off public key: a %T, not an Ed25519 key", key)
	}
	return pub, nil
}

// ParseHandoffPrivateKeyPEM parses social's private key: one PEM block "PRIVATE KEY"
// with a PKCS #8 Ed25519 key, as `openssl genpkey -algorithm ed25519` writes it.
func ParseHandoffPrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, err := onePEM(data, pemPrivateKey)
	if err != nil {
		return nil, fmt.Errorf("hand-off private key: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("hand-off private key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("hand-off private key: a %T, not an Ed25519 key", key)
	}
	return priv, nil
}

// MarshalHandoffPublicKeyPEM encodes a public key as ParseHandoffPublicKeyPEM reads it.
func MarshalHandoffPublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("hand-off public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// MarshalHandoffPrivateKeyPEM encodes a private key as ParseHandoffPrivateKeyPEM reads
// it.
func MarshalHandoffPrivateKeyPEM(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("hand-off private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// onePEM decodes exactly one PEM block of the given type, with nothing but white space
// around it.
func onePEM(data []byte, typ string) (*pem.Block, error) {
	block, rest := pem.Decode(bytes.TrimSpace(data))
	if block == nil {
		return nil, fmt.Errorf("no PEM block %q", typ)
	}
	if block.Type != typ {
		return nil, fmt.Errorf("PEM block %q, want %q", block.Type, typ)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("more than one PEM block")
	}
	return block, nil
}
