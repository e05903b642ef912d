package identity

import (
	"context"
	"net/http"
)

// contextKey is unexported so that no other package can read or replace the
// identity stored under it.
type contextKey struct{}

// NewContext returns a copy of ctx that carries id, for FromContext. RequireAuth
// and OptionalAuth store identities with it. Tests of an app's own handlers
// can call those handlers directly with such a context, in place of a
// session; RequireAuth itself reads only the session, never the context.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity that RequireAuth, OptionalAuth or
// NewContext stored in ctx, and whether there was one.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(contextKey{}).(*Identity)

	return id, ok && id != nil
}

// FromRequest returns the identity stored in the request's context, and
// whether there was one.
func FromRequest(r *http.Request) (*Identity, bool) {
	return FromContext(r.Context())
}
