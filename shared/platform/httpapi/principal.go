package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// Principal is the caller as API Gateway's JWT authorizer verified it. Functions trust
// it because only API Gateway invokes them; they never parse the bearer token again.
type Principal struct {
	// Subject is the token's "sub" claim: the user id (a seller's or buyer's id).
	Subject string
	// Scopes are the token's OAuth scopes.
	Scopes []string
}

// HasScope reports whether p was granted scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// PrincipalFrom returns the principal in requestContext.authorizer.jwt; the zero
// Principal if the route has no JWT authorizer. Scopes come from the authorizer's
// "scopes" field when API Gateway fills it, else from the "scope" claim (RFC 8693,
// space-separated; Cognito access tokens) or the "scp" claim (Okta, Entra ID), which
// API Gateway renders as "[a b]" when the token holds a JSON array.
func PrincipalFrom(req Request) Principal {
	a := req.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		return Principal{}
	}
	p := Principal{Subject: strings.TrimSpace(a.JWT.Claims["sub"])}
	for _, s := range a.JWT.Scopes {
		p.Scopes = append(p.Scopes, strings.Fields(s)...)
	}
	if len(p.Scopes) == 0 {
		claim := a.JWT.Claims["scope"]
		if claim == "" {
			claim = a.JWT.Claims["scp"]
		}
		if strings.HasPrefix(claim, "[") && strings.HasSuffix(claim, "]") {
			claim = claim[1 : len(claim)-1]
		}
		p.Scopes = strings.Fields(claim)
	}
	return p
}

// RequireScope returns the caller if it has a subject and scope: 401 unauthenticated
// without a subject, 403 forbidden without the scope. API Gateway already enforces a
// route's AuthorizationScopes; this is defence in depth against a route whose template
// entry lost its Auth block.
func RequireScope(req Request, scope string) (Principal, error) {
	p := PrincipalFrom(req)
	if p.Subject == "" {
		return Principal{}, NewError(http.StatusUnauthorized, CodeUnauthenticated, "authentication is required")
	}
	if !p.HasScope(scope) {
		return Principal{}, NewError(http.StatusForbidden, CodeForbidden, "the token lacks the required scope")
	}
	return p, nil
}

// ScopedHandlerFunc handles a route for its caller: the principal on a route that
// requires a scope, the zero Principal on a public one.
type ScopedHandlerFunc func(ctx context.Context, req Request, caller Principal) (Response, error)

// Scoped returns the HandlerFunc of one entry of a service's route table: it requires
// scope (401/403 as RequireScope; nothing when scope is ""), runs serve, and maps
// serve's error with mapErr, the service's error table (see MapError).
func Scoped(scope string, mapErr func(error) error, serve ScopedHandlerFunc) HandlerFunc {
	return func(ctx context.Context, req Request) (Response, error) {
		var caller Principal
		if scope != "" {
			p, err := RequireScope(req, scope)
			if err != nil {
				return Response{}, err
			}
			caller = p
		}
		resp, err := serve(ctx, req, caller)
		if err != nil {
			return Response{}, mapErr(err)
		}
		return resp, nil
	}
}
