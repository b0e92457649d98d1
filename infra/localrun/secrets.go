package localrun

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/etalase/etalase/infra/localaccount"
)

// Template parameters that name the SSM parameters holding secrets. Their values (the
// SSM names) live only in template.yaml's defaults or the deploy's parameters; the
// secret values live only in SSM, and locally in the runner's emulator.
const (
	// ParamHandoffPrivateKey names social's Ed25519 hand-off signing key (PKCS#8 PEM).
	ParamHandoffPrivateKey = "HandoffPrivateKeyParameter"
	// ParamHandoffPublicKey names commerce's copy of the hand-off public key (PKIX PEM).
	ParamHandoffPublicKey = "HandoffPublicKeyParameter"
	// ParamMidtransServerKey names commerce's Midtrans server key.
	ParamMidtransServerKey = "MidtransServerKeyParameter"
	// ParamXenditSecretKey names commerce's Xendit API secret key.
	ParamXenditSecretKey = "XenditSecretKeyParameter"
	// ParamXenditCallbackToken names commerce's Xendit callback verification token.
	ParamXenditCallbackToken = "XenditCallbackTokenParameter"
)

// SecretParams maps each secret's template parameter to the side whose SSM holds it.
var SecretParams = map[string]string{
	ParamHandoffPrivateKey:   localaccount.Social.Side,
	ParamHandoffPublicKey:    localaccount.Commerce.Side,
	ParamMidtransServerKey:   localaccount.Commerce.Side,
	ParamXenditSecretKey:     localaccount.Commerce.Side,
	ParamXenditCallbackToken: localaccount.Commerce.Side,
}

// GenerateSecrets makes a fresh set of local secrets, side → SSM parameter name →
// value, with the SSM names taken from params (the template's evaluated parameters):
// a new Ed25519 hand-off key pair (the private key for social, the public key for
// commerce) and random sandbox payment keys for commerce. Nothing is written anywhere;
// every run has new ones.
func GenerateSecrets(params map[string]string) (map[string]map[string]string, error) {
	var missing []string
	for p := range SecretParams {
		if params[p] == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("generate local secrets: the template has no value for %s", strings.Join(missing, ", "))
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate hand-off key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode hand-off private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode hand-off public key: %w", err)
	}
	values := map[string]string{
		ParamHandoffPrivateKey:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})),
		ParamHandoffPublicKey:    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		ParamMidtransServerKey:   "SB-Mid-server-" + rand.Text(),
		ParamXenditSecretKey:     "xnd_development_" + rand.Text() + rand.Text(),
		ParamXenditCallbackToken: rand.Text() + rand.Text(),
	}
	out := map[string]map[string]string{}
	for p, side := range SecretParams {
		if out[side] == nil {
			out[side] = map[string]string{}
		}
		name := params[p]
		if _, dup := out[side][name]; dup {
			return nil, fmt.Errorf("generate local secrets: two secrets share the %s SSM parameter %s", side, name)
		}
		out[side][name] = values[p]
	}
	return out, nil
}

// ParseHandoffPrivateKey reads the PKCS#8 PEM that GenerateSecrets stores for social.
func ParseHandoffPrivateKey(pemText string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("hand-off private key: not a PRIVATE KEY PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("hand-off private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("hand-off private key: %T, want Ed25519", k)
	}
	return priv, nil
}
