package contract_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/contract"
)

// t0 is the tests' "now"; NumericDate has second precision.
var t0 = time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func claims() contract.HandoffClaims {
	return contract.HandoffClaims{
		PromotionID:    "promo_7d2k",
		CreatorID:      "creator_ayu",
		ProductID:      "p_rocsknolsez4jj42y44l7ga3ou",
		DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"},
	}
}

// registered returns well-formed registered claims at t0, for hand-made tokens.
func registered(id string) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    contract.HandoffIssuer,
		Audience:  jwt.ClaimStrings{contract.HandoffAudience},
		IssuedAt:  jwt.NewNumericDate(t0),
		ExpiresAt: jwt.NewNumericDate(t0.Add(10 * time.Minute)),
		ID:        id,
	}
}

func verifierAt(pub ed25519.PublicKey, now time.Time) contract.HandoffVerifier {
	return contract.HandoffVerifier{PublicKey: pub, Now: func() time.Time { return now }}
}

func TestHandoffRoundTrip(t *testing.T) {
	pub, priv := newKey(t)
	tok, err := contract.SignHandoff(priv, claims(), t0.Add(400*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got, err := verifierAt(pub, t0.Add(time.Minute)).Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := claims()
	if diff := cmp.Diff(want.PromotionID+want.CreatorID+want.ProductID, got.PromotionID+got.CreatorID+got.ProductID); diff != "" {
		t.Errorf("ids (-want +got): %s", diff)
	}
	if got.DisplayedPrice != want.DisplayedPrice {
		t.Errorf("displayed price %+v, want %+v", got.DisplayedPrice, want.DisplayedPrice)
	}
	if got.Issuer != contract.HandoffIssuer || !slicesEqual(got.Audience, []string{contract.HandoffAudience}) {
		t.Errorf("iss %q aud %v", got.Issuer, got.Audience)
	}
	if !got.IssuedAt.Time.Equal(t0) || !got.ExpiresAt.Time.Equal(t0.Add(contract.HandoffDefaultLifetime)) {
		t.Errorf("iat %v exp %v, want %v and +%v", got.IssuedAt, got.ExpiresAt, t0, contract.HandoffDefaultLifetime)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(got.ID); len(raw) != 16 {
		t.Errorf("jti %q is not 128 random bits", got.ID)
	}
	if got.Subject != "" {
		t.Errorf("a hand-off token names no buyer, got sub %q", got.Subject)
	}

	tok2, err := contract.SignHandoff(priv, claims(), t0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := verifierAt(pub, t0).Verify(tok2)
	if err != nil || again.ID == got.ID {
		t.Errorf("two tokens share the id %q (err %v)", got.ID, err)
	}
}

func slicesEqual(a jwt.ClaimStrings, b []string) bool { return cmp.Equal([]string(a), b) }

// The token's wire shape is the contract between two separately deployed accounts: pin
// the payload's field names.
func TestHandoffWireShape(t *testing.T) {
	_, priv := newKey(t)
	c := claims()
	c.ID = "jti-fixed"
	tok, err := contract.SignHandoff(priv, c, t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var h, p map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"alg": "EdDSA", "typ": "JWT"}, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	want := map[string]any{
		"promotionId":    "promo_7d2k",
		"creatorId":      "creator_ayu",
		"productId":      "p_rocsknolsez4jj42y44l7ga3ou",
		"displayedPrice": map[string]any{"amount": float64(85000), "currency": "IDR"},
		"iss":            "etalase-social",
		"aud":            []any{"etalase-commerce"},
		"iat":            float64(t0.Unix()),
		"exp":            float64(t0.Add(10 * time.Minute).Unix()),
		"jti":            "jti-fixed",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

// signRaw signs arbitrary claims with any method and key, as an attacker (or a buggy
// issuer) would.
func signRaw(t *testing.T, m jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHandoffVerifyRefuses(t *testing.T) {
	pub, priv := newKey(t)
	_, otherPriv := newKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := contract.MarshalHandoffPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	good := func() contract.HandoffClaims {
		c := claims()
		c.RegisteredClaims = registered("jti-1")
		return c
	}
	with := func(edit func(*contract.HandoffClaims)) contract.HandoffClaims {
		c := good()
		edit(&c)
		return c
	}
	valid := signRaw(t, jwt.SigningMethodEdDSA, priv, good())
	parts := strings.Split(valid, ".")

	// unsigned builds a token with a hand-written header and an empty or given signature.
	unsigned := func(header string, sig string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1] + "." + sig
	}

	tests := []struct {
		name  string
		token string
		now   time.Time
		want  error
	}{
		{"valid", valid, t0.Add(time.Minute), nil},
		{"valid at exp within leeway", valid, t0.Add(10*time.Minute + 20*time.Second), nil},
		{"valid with iat slightly ahead (skew)", valid, t0.Add(-20 * time.Second), nil},

		{"empty", "", t0, contract.ErrHandoffMalformed},
		{"garbage", "not-a-token", t0, contract.ErrHandoffMalformed},
		{"four segments", valid + ".x", t0, contract.ErrHandoffMalformed},
		// The signed bytes with a line break inside: Go's base64 decoders skip CR and
		// LF, so only the alphabet check keeps this second spelling from verifying.
		{"line feed in signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], t0.Add(time.Minute), contract.ErrHandoffMalformed},
		{"carriage return in payload", parts[0] + "." + parts[1][:5] + "\r" + parts[1][5:] + "." + parts[2], t0.Add(time.Minute), contract.ErrHandoffMalformed},
		{"space before token", " " + valid, t0.Add(time.Minute), contract.ErrHandoffMalformed},
		{"padding", valid + "==", t0.Add(time.Minute), contract.ErrHandoffMalformed},
		{"header not base64", "%%%." + parts[1] + "." + parts[2], t0, contract.ErrHandoffMalformed},
		{"header not JSON", unsigned("nope", parts[2]), t0, contract.ErrHandoffMalformed},
		{"payload not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1")) + "." + parts[2], t0, contract.ErrHandoffMalformed},
		{"too long", parts[0] + "." + strings.Repeat("A", contract.MaxHandoffTokenLength) + "." + parts[2], t0, contract.ErrHandoffMalformed},

		{"alg none", unsigned(`{"alg":"none","typ":"JWT"}`, ""), t0, contract.ErrHandoffAlgorithm},
		{"alg None", unsigned(`{"alg":"None","typ":"JWT"}`, ""), t0, contract.ErrHandoffAlgorithm},
		{"no alg", unsigned(`{"typ":"JWT"}`, parts[2]), t0, contract.ErrHandoffAlgorithm},
		{"none via library", signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good()), t0, contract.ErrHandoffAlgorithm},
		{"HS256 keyed with the public key", signRaw(t, jwt.SigningMethodHS256, []byte(pub), good()), t0, contract.ErrHandoffAlgorithm},
		{"HS256 keyed with the public key PEM", signRaw(t, jwt.SigningMethodHS256, pubPEM, good()), t0, contract.ErrHandoffAlgorithm},
		{"RS256", signRaw(t, jwt.SigningMethodRS256, rsaKey, good()), t0, contract.ErrHandoffAlgorithm},
		{"ES256", signRaw(t, jwt.SigningMethodES256, ecKey, good()), t0, contract.ErrHandoffAlgorithm},
		{"EdDSA header rewritten under the signature", unsigned(`{"alg":"EdDSA"}`, parts[2]), t0, contract.ErrHandoffSignature},

		{"signed by another key", signRaw(t, jwt.SigningMethodEdDSA, otherPriv, good()), t0, contract.ErrHandoffSignature},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(t, with(func(c *contract.HandoffClaims) {
			c.DisplayedPrice.Amount = 1
		}))) + "." + parts[2], t0, contract.ErrHandoffSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", t0, contract.ErrHandoffSignature},
		{"signed by another key and expired", signRaw(t, jwt.SigningMethodEdDSA, otherPriv, good()), t0.Add(time.Hour), contract.ErrHandoffSignature},

		{"wrong issuer", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.Issuer = "etalase-commerce" })), t0, contract.ErrHandoffIssuer},
		{"no issuer", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.Issuer = "" })), t0, contract.ErrHandoffIssuer},
		{"wrong audience", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.Audience = jwt.ClaimStrings{"etalase-social"} })), t0, contract.ErrHandoffAudience},
		{"no audience", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.Audience = nil })), t0, contract.ErrHandoffAudience},
		{"wrong issuer and audience", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) {
			c.Issuer, c.Audience = "x", jwt.ClaimStrings{"y"}
		})), t0, contract.ErrHandoffIssuer},

		{"expired beyond leeway", valid, t0.Add(10*time.Minute + 31*time.Second), contract.ErrHandoffExpired},
		{"wrong audience and expired", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.Audience = jwt.ClaimStrings{"z"} })), t0.Add(time.Hour), contract.ErrHandoffAudience},
		{"issued in the future", valid, t0.Add(-time.Minute), contract.ErrHandoffNotYetValid},
		{"not before in the future", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) {
			c.NotBefore = jwt.NewNumericDate(t0.Add(5 * time.Minute))
		})), t0, contract.ErrHandoffNotYetValid},

		{"no exp", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.ExpiresAt = nil })), t0, contract.ErrHandoffClaims},
		{"no iat", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.IssuedAt = nil })), t0, contract.ErrHandoffClaims},
		{"lifetime over 15 minutes", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) {
			c.ExpiresAt = jwt.NewNumericDate(t0.Add(15*time.Minute + time.Second))
		})), t0, contract.ErrHandoffClaims},
		{"no jti", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.ID = "" })), t0, contract.ErrHandoffClaims},
		{"no product", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.ProductID = "" })), t0, contract.ErrHandoffClaims},
		{"no creator", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.CreatorID = "" })), t0, contract.ErrHandoffClaims},
		{"no promotion", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.PromotionID = "" })), t0, contract.ErrHandoffClaims},
		{"control characters in an id", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.CreatorID = "ayu\n" })), t0, contract.ErrHandoffClaims},
		{"negative price", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.DisplayedPrice.Amount = -1 })), t0, contract.ErrHandoffClaims},
		{"bad currency", signRaw(t, jwt.SigningMethodEdDSA, priv, with(func(c *contract.HandoffClaims) { c.DisplayedPrice.Currency = "idr" })), t0, contract.ErrHandoffClaims},
	}
	sentinels := []error{
		contract.ErrHandoffMalformed, contract.ErrHandoffAlgorithm, contract.ErrHandoffSignature,
		contract.ErrHandoffIssuer, contract.ErrHandoffAudience, contract.ErrHandoffExpired,
		contract.ErrHandoffNotYetValid, contract.ErrHandoffClaims,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verifierAt(pub, tt.now).Verify(tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.ProductID != claims().ProductID {
					t.Errorf("claims %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("err %v also matches %v; exactly one sentinel expected", err, s)
				}
			}
			if got.ProductID != "" || got.ID != "" || got.ExpiresAt != nil {
				t.Errorf("a refused token returned claims %+v", got)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandoffLeeway(t *testing.T) {
	pub, priv := newKey(t)
	tok, err := contract.SignHandoff(priv, claims(), t0)
	if err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(contract.HandoffDefaultLifetime)
	tests := []struct {
		name   string
		leeway time.Duration
		now    time.Time
		want   error
	}{
		{"default leeway accepts 29s late", 0, exp.Add(29 * time.Second), nil},
		{"default leeway refuses 31s late", 0, exp.Add(31 * time.Second), contract.ErrHandoffExpired},
		{"no leeway refuses at exp", -1, exp, contract.ErrHandoffExpired},
		{"no leeway accepts a second before", -1, exp.Add(-time.Second), nil},
		{"two minutes leeway", 2 * time.Minute, exp.Add(119 * time.Second), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			v := contract.HandoffVerifier{PublicKey: pub, Leeway: tt.leeway, Now: func() time.Time { return now }}
			_, err := v.Verify(tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHandoffVerifierNeedsKey(t *testing.T) {
	_, priv := newKey(t)
	tok, err := contract.SignHandoff(priv, claims(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (contract.HandoffVerifier{}).Verify(tok); err == nil {
		t.Error("a verifier without a key accepted a token")
	}
}

func TestSignHandoffRefuses(t *testing.T) {
	_, priv := newKey(t)
	tests := []struct {
		name string
		edit func(*contract.HandoffClaims)
		key  ed25519.PrivateKey
	}{
		{"no key", nil, nil},
		{"other issuer", func(c *contract.HandoffClaims) { c.Issuer = "someone" }, priv},
		{"other audience", func(c *contract.HandoffClaims) { c.Audience = jwt.ClaimStrings{"etalase-social"} }, priv},
		{"extra audience", func(c *contract.HandoffClaims) {
			c.Audience = jwt.ClaimStrings{contract.HandoffAudience, "other"}
		}, priv},
		{"a subject", func(c *contract.HandoffClaims) { c.Subject = "buyer-1" }, priv},
		{"lifetime over 15 minutes", func(c *contract.HandoffClaims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(16 * time.Minute)) }, priv},
		{"exp before iat", func(c *contract.HandoffClaims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-time.Minute)) }, priv},
		{"no product", func(c *contract.HandoffClaims) { c.ProductID = "" }, priv},
		{"no currency", func(c *contract.HandoffClaims) { c.DisplayedPrice.Currency = "" }, priv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claims()
			if tt.edit != nil {
				tt.edit(&c)
			}
			if tok, err := contract.SignHandoff(tt.key, c, t0); err == nil {
				t.Errorf("signed %s", tok)
			}
		})
	}
	c := claims()
	c.ExpiresAt = jwt.NewNumericDate(t0.Add(contract.HandoffMaxLifetime))
	if _, err := contract.SignHandoff(priv, c, t0); err != nil {
		t.Errorf("a lifetime of exactly 15 minutes: %v", err)
	}
}

func TestHandoffKeyPEM(t *testing.T) {
	pub, priv := newKey(t)
	pubPEM, err := contract.MarshalHandoffPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := contract.MarshalHandoffPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	gotPub, err := contract.ParseHandoffPublicKeyPEM(pubPEM)
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	gotPriv, err := contract.ParseHandoffPrivateKeyPEM(privPEM)
	if err != nil || !gotPriv.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	// The formats are the standard ones: x509 reads what the helpers write, and the
	// helpers read what x509 writes (so openssl-made keys work too).
	der, _ := x509.MarshalPKIXPublicKey(pub)
	std := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if string(std) != string(pubPEM) {
		t.Errorf("public PEM differs from the PKIX encoding:\n%s\n%s", pubPEM, std)
	}
	if k, err := contract.ParseHandoffPublicKeyPEM([]byte("\n  " + string(std) + "\n")); err != nil || !k.Equal(pub) {
		t.Errorf("surrounding white space: %v", err)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPrivDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	badPub := map[string][]byte{
		"empty":          nil,
		"garbage":        []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
		"private block":  privPEM,
		"rsa public key": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER}),
		"two blocks":     append(append([]byte{}, pubPEM...), pubPEM...),
		"raw bytes":      []byte(pub),
	}
	for name, data := range badPub {
		if _, err := contract.ParseHandoffPublicKeyPEM(data); err == nil {
			t.Errorf("public key %s: accepted", name)
		}
	}
	badPriv := map[string][]byte{
		"empty":           nil,
		"public block":    pubPEM,
		"rsa private key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaPrivDER}),
	}
	for name, data := range badPriv {
		if _, err := contract.ParseHandoffPrivateKeyPEM(data); err == nil {
			t.Errorf("private key %s: accepted", name)
		}
	}
}
