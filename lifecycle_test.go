package identity_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestIdleTimeout(t *testing.T) {
	app := newTestApp(t,
		withSimulator(identitytest.WithTokenLifetimes(10*time.Hour, 20*time.Hour)),
		withConfig(func(c *identity.Config) { c.IdleTimeout = 30 * time.Minute }))
	app.signIn(identitytest.DocumentedUser().ID)

	app.clock.Advance(time.Minute)
	quiet, _ := app.get("/dashboard")
	assert.Equal(t, http.StatusOK, quiet.StatusCode)
	assert.Empty(t, quiet.Header.Values("Set-Cookie"), "a request within a tenth of the idle timeout writes nothing")

	app.clock.Advance(28 * time.Minute)
	touched, _ := app.get("/dashboard")
	assert.Equal(t, http.StatusOK, touched.StatusCode, "29 minutes idle")
	assert.NotNil(t, responseCookie(touched, sessionCookieID), "the request is recorded in the session")

	app.clock.Advance(29 * time.Minute)
	active, _ := app.get("/dashboard")
	assert.Equal(t, http.StatusOK, active.StatusCode, "58 minutes after sign-in, 29 idle")

	app.clock.Advance(31 * time.Minute)
	idle, body := app.get("/dashboard")
	assert.Equal(t, http.StatusUnauthorized, idle.StatusCode, "31 minutes idle")
	assert.Equal(t, "Your session has expired. Sign in again.", decodeEnvelope(t, body).Error.Message)
}

func TestIdleTimeoutDefault(t *testing.T) {
	app := newTestApp(t, withSimulator(identitytest.WithTokenLifetimes(10*time.Hour, 20*time.Hour)))
	app.signIn(identitytest.DocumentedUser().ID)

	app.clock.Advance(31 * time.Minute)
	resp, _ := app.get("/dashboard")

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the default idle timeout is 30 minutes")
}

func TestAbsoluteLifetimeDefault(t *testing.T) {
	app := newTestApp(t,
		withSimulator(identitytest.WithTokenLifetimes(24*time.Hour, 48*time.Hour)),
		withConfig(func(c *identity.Config) { c.IdleTimeout = -1 }))
	app.signIn(identitytest.DocumentedUser().ID)

	app.clock.Advance(11*time.Hour + 59*time.Minute)
	before, _ := app.get("/dashboard")
	app.clock.Advance(2 * time.Minute)
	after, _ := app.get("/dashboard")

	assert.Equal(t, http.StatusOK, before.StatusCode, "11 h 59 min after sign-in")
	assert.Equal(t, http.StatusUnauthorized, after.StatusCode, "12 h 1 min after sign-in")
}

func TestKeyRotationReissuesSession(t *testing.T) {
	writer := newTestApp(t)
	writer.signIn(identitytest.DocumentedUser().ID)
	oldCookie := writer.cookie(sessionCookieID).Value

	rotated := newTestApp(t, withConfig(func(c *identity.Config) {
		c.SessionKeys = [][]byte{hashKeyB, blockKeyB, hashKeyA, blockKeyA}
	}))
	resp, _ := rotated.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + oldCookie}})

	require.Equal(t, http.StatusOK, resp.StatusCode, "the old pair still reads")
	reissued := responseCookie(resp, sessionCookieID)
	require.NotNil(t, reissued, "the session is written again")

	newOnly := newTestApp(t, withConfig(func(c *identity.Config) { c.SessionKeys = [][]byte{hashKeyB, blockKeyB} }))
	again, _ := newOnly.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + reissued.Value}})
	assert.Equal(t, http.StatusOK, again.StatusCode, "the newest pair wrote the re-issued cookie")

	current, _ := rotated.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + reissued.Value}})
	assert.Equal(t, http.StatusOK, current.StatusCode)
	assert.Empty(t, current.Header.Values("Set-Cookie"), "a cookie of the newest pair is not written again")
}
