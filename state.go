package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// stateBytes is the size of a state's random part: 256 bits, which base64
// turns into 43 characters, within the 80 bytes SAML 2.0 allows for
// RelayState (bindings, sections 3.4.3 and 3.5.3).
const stateBytes = 32

// maxPendingSignIns bounds the sign-ins a browser can have in progress at
// once, one per tab that started one. The oldest is dropped first.
const maxPendingSignIns = 10

// pendingSignIn is a sign-in that LoginHandler started and CallbackHandler has
// not finished. The state cookie holds a list of them.
type pendingSignIn struct {
	State     string `json:"s"`
	ReturnTo  string `json:"r"`
	StartedAt int64  `json:"t"` // Unix milliseconds
}

// usedStates remembers the states that finished a sign-in until they would
// have expired anyway, so that a copy of the state cookie taken before the
// callback cannot finish a second sign-in in this process.
//
// NOTE: the record is per process. Behind a load balancer without sticky
// sessions, a copied state cookie can still finish one more sign-in on
// another instance within StateLifetime.
type usedStates struct {
	mu      sync.Mutex
	expires map[[sha256.Size]byte]time.Time
}

// use marks state as used until expires, and reports false when it was used
// already. It also deletes states whose time has passed.
func (u *usedStates) use(state string, expires, now time.Time) bool {
	key := sha256.Sum256([]byte(state))

	u.mu.Lock()
	defer u.mu.Unlock()

	if u.expires == nil {
		u.expires = map[[sha256.Size]byte]time.Time{}
	}

	if _, used := u.expires[key]; used {
		return false
	}

	for k, t := range u.expires {
		if now.After(t) {
			delete(u.expires, k)
		}
	}

	u.expires[key] = expires

	return true
}

// stateOptions returns the attributes of the state cookie. The identity
// provider posts the SAML response from its own site, and browsers send
// SameSite=Lax cookies only with top-level GET navigations across sites, so
// the state cookie is SameSite=None, which browsers accept only with Secure.
// Without Secure (Insecure mode) it falls back to Lax, and the identity
// provider must then be on the same site as the app.
func (a *Auth) stateOptions(maxAge int) *sessions.Options {
	opts := &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   !a.cfg.Insecure,
		HttpOnly: true,
		SameSite: http.SameSiteNoneMode,
	}

	if a.cfg.Insecure {
		opts.SameSite = http.SameSiteLaxMode
	}

	return opts
}

// startSignIn creates a one-time state for a sign-in that will return to
// returnTo, stores it in the state cookie with the other sign-ins in
// progress, and returns it.
func (a *Auth) startSignIn(w http.ResponseWriter, r *http.Request, returnTo string) (string, error) {
	random := make([]byte, stateBytes)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("identity: generating state: %w", err)
	}

	state := base64.RawURLEncoding.EncodeToString(random)
	pending := append(a.readPending(r), pendingSignIn{
		State:     state,
		ReturnTo:  returnTo,
		StartedAt: a.cfg.Now().UnixMilli(),
	})

	if err := a.writePending(w, pending); err != nil {
		return "", err
	}

	return state, nil
}

// finishSignIn takes state out of the state cookie and returns its sign-in.
// A state can finish one sign-in only once: the cookie loses it, and this
// process remembers it.
func (a *Auth) finishSignIn(w http.ResponseWriter, r *http.Request, state string) (pendingSignIn, error) {
	pending := a.readPending(r)

	match := -1
	for i, p := range pending {
		if subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) == 1 {
			match = i
		}
	}

	if match < 0 {
		if len(pending) == 0 {
			return pendingSignIn{}, fmt.Errorf("%w: no state cookie, or it expired", ErrStateInvalid)
		}

		return pendingSignIn{}, fmt.Errorf("%w: state is not one of the %d in the state cookie", ErrStateInvalid, len(pending))
	}

	found := pending[match]
	rest := append(pending[:match:match], pending[match+1:]...)

	if err := a.writePending(w, rest); err != nil {
		return pendingSignIn{}, err
	}

	if a.pendingExpired(found) {
		return pendingSignIn{}, fmt.Errorf("%w: started %s ago, the limit is %s",
			ErrStateExpired, a.cfg.Now().Sub(time.UnixMilli(found.StartedAt)).Round(time.Second), a.cfg.StateLifetime)
	}

	expires := time.UnixMilli(found.StartedAt).Add(a.cfg.StateLifetime)
	if !a.usedStates.use(state, expires, a.cfg.Now()) {
		return pendingSignIn{}, fmt.Errorf("%w: the state finished a sign-in already", ErrStateInvalid)
	}

	return found, nil
}

// readPending returns the sign-ins in the request's state cookie. A missing
// or undecodable cookie has none. Expired sign-ins stay in the list, so that
// finishSignIn can tell a late callback from a forged one.
func (a *Auth) readPending(r *http.Request) []pendingSignIn {
	cookie, err := r.Cookie(a.stateCookieName)
	if err != nil {
		return nil
	}

	var raw []byte
	if err := securecookie.DecodeMulti(a.stateCookieName, cookie.Value, &raw, a.codecs...); err != nil {
		return nil
	}

	var pending []pendingSignIn
	if err := json.Unmarshal(raw, &pending); err != nil {
		return nil
	}

	return pending
}

// writePending sets the state cookie to the sign-ins in pending that have not
// expired, newest last, or clears it when none is left. It drops the oldest
// ones beyond maxPendingSignIns, and while the cookie would exceed the
// browser's size limit.
func (a *Auth) writePending(w http.ResponseWriter, pending []pendingSignIn) error {
	live := make([]pendingSignIn, 0, len(pending))
	for _, p := range pending {
		if !a.pendingExpired(p) {
			live = append(live, p)
		}
	}

	if len(live) > maxPendingSignIns {
		live = live[len(live)-maxPendingSignIns:]
	}

	for len(live) > 0 {
		cookie, err := a.stateCookie(live)
		if err != nil {
			return err
		}

		if len(cookie.String()) <= maxCookieBytes {
			http.SetCookie(w, cookie)
			return nil
		}

		live = live[1:]
	}

	http.SetCookie(w, newCookie(a.stateCookieName, "", a.stateOptions(-1)))

	return nil
}

func (a *Auth) stateCookie(pending []pendingSignIn) (*http.Cookie, error) {
	raw, err := json.Marshal(pending)
	if err != nil {
		return nil, fmt.Errorf("identity: encoding state cookie: %w", err)
	}

	encoded, err := securecookie.EncodeMulti(a.stateCookieName, raw, a.codecs...)
	if err != nil {
		return nil, fmt.Errorf("identity: encoding state cookie: %w", err)
	}

	maxAge := int(a.cfg.StateLifetime / time.Second)

	return newCookie(a.stateCookieName, encoded, a.stateOptions(maxAge)), nil
}

func (a *Auth) pendingExpired(p pendingSignIn) bool {
	return a.cfg.Now().Sub(time.UnixMilli(p.StartedAt)) > a.cfg.StateLifetime
}
