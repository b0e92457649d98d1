package contract_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/etalase/etalase/shared/contract"
)

// fuzzHandoffKey is the fuzz target's social key: fixed, so that the seeds' tokens
// stay valid across runs.
var fuzzHandoffKey = ed25519.NewKeyFromSeed([]byte("etalase-contract-fuzz-handoffkey"))

// FuzzHandoffVerify feeds arbitrary tokens to HandoffVerifier.Verify at a fuzzed clock
// (seconds around t0). It must never panic; every error must wrap exactly one
// ErrHandoff* sentinel; and only a token that social's key signed (the seeds) may
// verify: no fuzzed token does, however close to a valid one.
func FuzzHandoffVerify(f *testing.F) {
	sign := func(edit func(*contract.HandoffClaims)) string {
		c := contract.HandoffClaims{
			PromotionID: "pr_mfrggzdfmztwq2lknnwg23tpob", CreatorID: "creator-ayu", ProductID: "p_rocsknolsez4jj42y44l7ga3ou",
			DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"},
		}
		c.ID = "fuzz-jti"
		if edit != nil {
			edit(&c)
		}
		tok, err := contract.SignHandoff(fuzzHandoffKey, c, t0)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	signed := []string{
		sign(nil),
		sign(func(c *contract.HandoffClaims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(contract.HandoffMaxLifetime)) }),
		sign(func(c *contract.HandoffClaims) { c.DisplayedPrice = contract.Price{Amount: 0, Currency: "USD"} }),
	}
	for _, tok := range signed {
		f.Add(tok, int16(0))
		f.Add(tok, int16(3600)) // expired
		f.Add(tok, int16(-60))  // not yet valid
	}
	// The cart fixture's token, signed by a key nobody has.
	var fixture struct {
		HandoffToken string `json:"handoffToken"`
	}
	raw, err := os.ReadFile("../../events/commerce/cart/add-item-handoff.json")
	if err != nil {
		f.Fatal(err)
	}
	var ev struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || json.Unmarshal([]byte(ev.Body), &fixture) != nil {
		f.Fatalf("cart fixture: %v", err)
	}
	f.Add(fixture.HandoffToken, int16(0))
	enc := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(signed[0], ".")
	for _, tok := range []string{
		"", "a.b.c", "..", strings.Repeat("A", contract.MaxHandoffTokenLength+1),
		enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"EdDSA","crit":["b64"],"b64":false}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"EdDSA"}`)) + "." + enc([]byte(`{"iss":"etalase-social","aud":"etalase-commerce","exp":1e309}`)) + "." + parts[2],
		parts[0] + "." + parts[1] + "=." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + "A",
		parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
	} {
		f.Add(tok, int16(0))
	}

	v := contract.HandoffVerifier{PublicKey: fuzzHandoffKey.Public().(ed25519.PublicKey)}
	sentinels := []error{
		contract.ErrHandoffMalformed, contract.ErrHandoffAlgorithm, contract.ErrHandoffSignature, contract.ErrHandoffIssuer,
		contract.ErrHandoffAudience, contract.ErrHandoffExpired, contract.ErrHandoffNotYetValid, contract.ErrHandoffClaims,
	}
	f.Fuzz(func(t *testing.T, token string, offset int16) {
		v.Now = func() time.Time { return t0.Add(time.Duration(offset) * time.Second) }
		c, err := v.Verify(token)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error wraps %d sentinels, want exactly 1: %v", n, err)
			}
			return
		}
		if !slices.Contains(signed, token) {
			t.Fatalf("a token social never signed verified: %q → %+v", token, c)
		}
		if c.Issuer != contract.HandoffIssuer || len(c.Audience) != 1 || c.Audience[0] != contract.HandoffAudience ||
			c.ID == "" || c.ProductID == "" || c.ExpiresAt == nil || c.IssuedAt == nil {
			t.Fatalf("verified claims break the contract: %+v", c)
		}
	})
}
