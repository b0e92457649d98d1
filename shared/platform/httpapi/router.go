package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
)

// HandlerFunc handles one route. A returned error is turned into a response by
// ErrorResponse, so handlers return *Error for client errors and plain wrapped errors
// for everything else.
type HandlerFunc func(ctx context.Context, req Request) (Response, error)

// Router dispatches an HTTP API event on its route key ("POST /commerce/v1/products"),
// which API Gateway sets to the matched route exactly as the template declares it
// (Method + " " + Path), so no path matching happens in the function.
type Router struct {
	log    *slog.Logger
	routes map[string]HandlerFunc
}

// NewRouter returns an empty router that logs failures to log (slog.Default if nil).
func NewRouter(log *slog.Logger) *Router {
	if log == nil {
		log = slog.Default()
	}
	return &Router{log: log, routes: map[string]HandlerFunc{}}
}

// Route registers h for routeKey. It panics on a duplicate or empty key: routes are
// wired once at cold start, where a panic is the right failure.
func (r *Router) Route(routeKey string, h HandlerFunc) {
	if routeKey == "" || h == nil {
		panic("httpapi: empty route key or nil handler")
	}
	if _, dup := r.routes[routeKey]; dup {
		panic(fmt.Sprintf("httpapi: duplicate route %q", routeKey))
	}
	r.routes[routeKey] = h
}

// RouteKeys returns the registered route keys, sorted.
func (r *Router) RouteKeys() []string {
	keys := make([]string, 0, len(r.routes))
	for k := range r.routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Handle is the Lambda handler. It never returns an error: Lambda would turn one into
// API Gateway's bare 500, so every failure (including a panic in a handler) becomes a
// response in the error envelope here.
func (r *Router) Handle(ctx context.Context, req Request) (resp Response, _ error) {
	log := r.log.With("requestId", req.RequestContext.RequestID, "routeKey", req.RouteKey)
	defer func() {
		if p := recover(); p != nil {
			resp = ErrorResponse(ctx, log, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	h, ok := r.routes[req.RouteKey]
	if !ok {
		return ErrorResponse(ctx, log, NewError(http.StatusNotFound, CodeRouteNotFound, "no such route")), nil
	}
	resp, err := h(ctx, req)
	if err != nil {
		return ErrorResponse(ctx, log, err), nil
	}
	return resp, nil
}
