package promotion

import (
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/etalase/etalase/shared/contract"
)

// NewSigner returns the Signer that signs hand-off tokens with social's Ed25519 private
// key (contract.SignHandoff). The key comes from SSM at cold start; it is never in the
// template, the repository or the environment.
func NewSigner(priv ed25519.PrivateKey) (Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("hand-off signer: not an Ed25519 private key")
	}
	return func(c contract.HandoffClaims, now time.Time) (string, error) {
		return contract.SignHandoff(priv, c, now)
	}, nil
}

// jwtTime converts a time to a JWT NumericDate.
func jwtTime(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }
