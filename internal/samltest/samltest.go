// Package samltest gives identitytest's simulator a real SAML identity
// provider: it signs SAML 2.0 responses with github.com/crewjam/saml and
// posts them with the HTTP-POST binding, and it verifies each response as a
// service provider before the simulated Applivery responds. Tests use it so
// that real SAML sizes, base64 and form encodings pass through
// CallbackHandler. It lives in internal, apart from the identity package,
// which must not depend on a SAML library.
package samltest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/crewjam/saml"

	"github.com/ssogate/identity/identitytest"
)

// Entity IDs of the two sides. They are names, never fetched.
const (
	entityID    = "https://applivery.identitytest.invalid/saml/sp"
	idpEntityID = "https://idp.identitytest.invalid/saml/metadata"
)

// Provider is an identitytest.IdentityProvider that issues signed SAML
// responses and verifies them.
type Provider struct {
	idp *saml.IdentityProvider
	key *rsa.PrivateKey
	crt *x509.Certificate

	mu          sync.Mutex
	callbackURL string
	used        map[string]time.Time // assertion IDs already exchanged, until they expire
}

var _ identitytest.IdentityProvider = (*Provider)(nil)

// New returns a Provider with a fresh RSA key and self-signed certificate.
func New() (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("samltest: generating key: %w", err)
	}

	crt, err := selfSigned(key)
	if err != nil {
		return nil, err
	}

	metadataURL, _ := url.Parse(idpEntityID)
	ssoURL, _ := url.Parse("https://idp.identitytest.invalid/saml/sso")

	p := &Provider{key: key, crt: crt, used: map[string]time.Time{}}
	p.idp = &saml.IdentityProvider{
		Key:                     key,
		Certificate:             crt,
		MetadataURL:             *metadataURL,
		SSOURL:                  *ssoURL,
		ServiceProviderProvider: p,
		SessionProvider:         p,
		LimitRelayStateLength:   true,
	}

	return p, nil
}

func selfSigned(key *rsa.PrivateKey) (*x509.Certificate, error) {
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "identitytest SAML identity provider"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}

	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("samltest: creating certificate: %w", err)
	}

	return x509.ParseCertificate(der)
}

// userKey carries the user being signed in through crewjam's session
// lookup.
type userKey struct{}

// SendResponse posts a signed SAML response for user to callbackURL, with
// state as RelayState, through crewjam's IdP-initiated flow.
func (p *Provider) SendResponse(w http.ResponseWriter, r *http.Request, user identitytest.User, callbackURL, state string) {
	p.mu.Lock()
	p.callbackURL = callbackURL
	p.mu.Unlock()

	r = r.WithContext(context.WithValue(r.Context(), userKey{}, user))
	p.idp.ServeIDPInitiated(w, r, entityID, state)
}

// GetSession implements saml.SessionProvider with the user SendResponse
// passes along.
func (p *Provider) GetSession(w http.ResponseWriter, r *http.Request, _ *saml.IdpAuthnRequest) *saml.Session {
	user, ok := r.Context().Value(userKey{}).(identitytest.User)
	if !ok {
		http.Error(w, "samltest: no user to sign in", http.StatusBadRequest)
		return nil
	}

	now := time.Now()

	return &saml.Session{
		ID:             user.ID + "-" + now.Format(time.RFC3339Nano),
		CreateTime:     now,
		ExpireTime:     now.Add(time.Hour),
		NameID:         user.ID,
		NameIDFormat:   string(saml.PersistentNameIDFormat),
		UserName:       user.ID,
		UserEmail:      user.Email,
		UserGivenName:  user.FirstName,
		UserSurname:    user.LastName,
		UserCommonName: user.FullName(),
	}
}

// GetServiceProvider implements saml.ServiceProviderProvider with the
// metadata of the simulated Applivery, whose assertion consumer service is
// the app's callback URL.
func (p *Provider) GetServiceProvider(_ *http.Request, serviceProviderID string) (*saml.EntityDescriptor, error) {
	if serviceProviderID != entityID {
		return nil, os.ErrNotExist
	}

	return p.serviceProvider().Metadata(), nil
}

// Verify checks the SAMLResponse in params as a service provider does:
// signature, destination, audience, validity and one-time use. It returns
// the NameID, which is the user's ID.
func (p *Provider) Verify(params map[string]string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(params["SAMLResponse"])
	if err != nil {
		return "", fmt.Errorf("samltest: SAMLResponse is not base64: %w", err)
	}

	sp := p.serviceProvider()
	assertion, err := sp.ParseXMLResponse(raw, nil, sp.AcsURL)
	if err != nil {
		var invalid *saml.InvalidResponseError
		if errors.As(err, &invalid) {
			return "", fmt.Errorf("samltest: invalid SAML response: %w", invalid.PrivateErr)
		}

		return "", fmt.Errorf("samltest: invalid SAML response: %w", err)
	}

	if assertion.Subject == nil || assertion.Subject.NameID == nil || assertion.Subject.NameID.Value == "" {
		return "", errors.New("samltest: the assertion names no user")
	}

	return assertion.Subject.NameID.Value, nil
}

// serviceProvider returns the simulated Applivery as a SAML service
// provider for the app's current callback URL.
func (p *Provider) serviceProvider() *saml.ServiceProvider {
	p.mu.Lock()
	callbackURL := p.callbackURL
	p.mu.Unlock()

	acs, _ := url.Parse(callbackURL)
	if acs == nil {
		acs = &url.URL{}
	}

	return &saml.ServiceProvider{
		EntityID:          entityID,
		Key:               p.key,
		Certificate:       p.crt,
		AcsURL:            *acs,
		IDPMetadata:       p.idp.Metadata(),
		AllowIDPInitiated: true,
		ReplayCache:       p,
	}
}

// Consume implements saml.AssertionReplayCache: each assertion signs one
// user in once.
func (p *Provider) Consume(assertionID string, expiresAt time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	now := time.Now()
	for id, until := range p.used {
		if now.After(until) {
			delete(p.used, id)
		}
	}

	if _, used := p.used[assertionID]; used {
		return saml.ErrAssertionReplayed
	}

	p.used[assertionID] = expiresAt

	return nil
}
