package identity

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// refreshGrace is how long a successful refresh stays cached. Requests that
// a browser sent before it received the refreshed cookie still carry the old
// refresh token, which Applivery may no longer accept once it rotated. They
// get the cached result instead of a failed refresh that would sign the user
// out.
const refreshGrace = time.Minute

// errRefreshFailed wraps every reason a refresh did not produce a session.
var errRefreshFailed = errors.New("identity: token refresh failed")

// refresher makes sure that concurrent requests of one session refresh its
// tokens once: the first request calls Applivery and the others wait for its
// result. A hash of the refresh token, which every request of one session
// carries, identifies the session.
//
// NOTE: the calls are shared within one process. Several instances of an app
// behind a load balancer can each refresh the same session once, and with
// rotating refresh tokens all but the first may fail.
type refresher struct {
	mu    sync.Mutex
	calls map[[sha256.Size]byte]*refreshCall
}

// refreshCall is one refresh, running or finished.
type refreshCall struct {
	done     chan struct{} // closed when identity and err are set
	identity *Identity
	err      error
	finished time.Time
}

// refresh returns id with new tokens from Applivery, sharing one upstream
// call among concurrent callers with the same refresh token. The call
// outlives the request that started it, so that a client going away does not
// fail the requests that wait for it.
func (a *Auth) refresh(ctx context.Context, id *Identity) (*Identity, error) {
	now := a.cfg.Now()
	if id.RefreshToken.Expired(now, a.cfg.ClockSkew) {
		return nil, fmt.Errorf("%w: the refresh token expired at %s", errRefreshFailed, id.RefreshToken.ExpiresAt.Format(time.RFC3339))
	}

	call, leader := a.refresher.join(id.RefreshToken.Value, now)
	if leader {
		call.identity, call.err = a.callRefresh(context.WithoutCancel(ctx), id)
		a.refresher.finish(id.RefreshToken.Value, call, a.cfg.Now())
	}

	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errRefreshFailed, ctx.Err())
	}

	if call.err != nil {
		return nil, call.err
	}

	// Every waiter gets its own copy of the shared result.
	return call.identity.clone(), nil
}

// join returns the call for refreshToken, and whether the caller must make
// it. It drops finished calls older than refreshGrace.
func (f *refresher) join(refreshToken string, now time.Time) (*refreshCall, bool) {
	key := sha256.Sum256([]byte(refreshToken))

	f.mu.Lock()
	defer f.mu.Unlock()

	for k, call := range f.calls {
		if !call.finished.IsZero() && now.Sub(call.finished) > refreshGrace {
			delete(f.calls, k)
		}
	}

	if call, ok := f.calls[key]; ok {
		return call, false
	}

	if f.calls == nil {
		f.calls = map[[sha256.Size]byte]*refreshCall{}
	}

	call := &refreshCall{done: make(chan struct{})}
	f.calls[key] = call

	return call, true
}

// finish wakes the callers waiting for call. A failed call is forgotten at
// once, so that the next request may try again; a successful one stays for
// refreshGrace.
func (f *refresher) finish(refreshToken string, call *refreshCall, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()

	call.finished = now
	if call.err != nil {
		delete(f.calls, sha256.Sum256([]byte(refreshToken)))
	}

	close(call.done)
}

// callRefresh requests new tokens from Applivery and returns id with them and
// with the profile of the response. The session keeps its sign-in time, so
// refreshing never extends Config.SessionLifetime.
func (a *Auth) callRefresh(ctx context.Context, id *Identity) (*Identity, error) {
	data, err := a.client.refresh(ctx, id.RefreshToken.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errRefreshFailed, err)
	}

	refreshed := data.identity(id.AuthenticatedAt)
	if refreshed.UserID != id.UserID {
		return nil, fmt.Errorf("%w: Applivery returned user %q for a session of user %q", errRefreshFailed, refreshed.UserID, id.UserID)
	}

	if refreshed.RefreshToken.Value == "" {
		refreshed.RefreshToken = id.RefreshToken
	}

	now := a.cfg.Now()
	if refreshed.AccessToken.Expired(now, a.cfg.ClockSkew) {
		return nil, fmt.Errorf("%w: %w: it expires at %s", errRefreshFailed, ErrTokenExpired, refreshed.AccessToken.ExpiresAt.Format(time.RFC3339))
	}

	return refreshed, nil
}
