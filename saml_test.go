package identity_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity/identitytest"
	"github.com/ssogate/identity/internal/samltest"
)

// newSAMLApp returns a test app whose simulated identity provider signs real
// SAML responses, which the simulated Applivery verifies.
func newSAMLApp(t *testing.T) *testApp {
	t.Helper()

	provider, err := samltest.New()
	require.NoError(t, err)

	return newTestApp(t, withSimulator(identitytest.WithIdentityProvider(provider)))
}

func TestSAMLSignedResponseSignsIn(t *testing.T) {
	app := newSAMLApp(t)

	landed := app.signIn(identitytest.AdminUser().ID)

	require.Equal(t, http.StatusOK, landed.StatusCode)
	resp, _ := app.get("/admin")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, identitytest.AdminUser().ID, app.seen.Load().UserID)

	requests := app.sim.Requests()
	require.Len(t, requests, 1)
	xml, err := base64.StdEncoding.DecodeString(requests[0].Params["SAMLResponse"])
	require.NoError(t, err)
	assert.Contains(t, string(xml), "<ds:Signature", "a signed SAML response reached Applivery")
	assert.Greater(t, len(requests[0].Params["SAMLResponse"]), 4000, "real SAML response sizes pass through the callback")
}

func TestSAMLResponseIsSingleUse(t *testing.T) {
	app := newSAMLApp(t)
	app.signIn(identitytest.AdminUser().ID)
	replayed := app.sim.Requests()[0].Params["SAMLResponse"]

	state := app.startLogin("")
	resp, body := app.postCallback(map[string][]string{"SAMLResponse": {replayed}, "RelayState": {state}}, nil)

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "Applivery rejects a replayed assertion")
	assert.Equal(t, 5070, decodeEnvelope(t, body).Error.Code)
}

func TestSAMLTamperedResponseIsRejected(t *testing.T) {
	app := newSAMLApp(t)
	// The first exchange fails before Applivery checks the response, which
	// leaves a signed response that was never used.
	app.sim.InjectFault(identitytest.StatusOnly(http.StatusServiceUnavailable))
	app.signIn(identitytest.DocumentedUser().ID)
	fresh := app.sim.Requests()[0].Params["SAMLResponse"]
	xml, err := base64.StdEncoding.DecodeString(fresh)
	require.NoError(t, err)

	marker := "<ds:SignatureValue>"
	at := strings.Index(string(xml), marker) + len(marker)
	require.Greater(t, at, len(marker), "the response is signed")
	tampered := []byte(string(xml))
	tampered[at+10] ^= 0x01

	state := app.startLogin("")
	resp, _ := app.postCallback(map[string][]string{
		"SAMLResponse": {base64.StdEncoding.EncodeToString(tampered)},
		"RelayState":   {state},
	}, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a changed signature is rejected")

	state = app.startLogin("")
	resp, _ = app.postCallback(map[string][]string{"SAMLResponse": {fresh}, "RelayState": {state}}, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "the same response, unchanged, signs in")
}
