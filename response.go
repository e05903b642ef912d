package identity

import (
	"strings"
	"time"
)

// The types below mirror the callback response of Applivery's API field for
// field, so that a change in its shape shows up as a decode error in one
// place. Every field is optional in Applivery's documentation; the validate
// tags name the ones a session cannot do without.

// callbackEnvelope is the body of every response of the callback endpoint:
// {"status":true,"data":{…}} or {"status":false,"error":{…}}.
type callbackEnvelope struct {
	Status *bool         `json:"status"`
	Data   *callbackData `json:"data"`
	Error  *apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type callbackData struct {
	AccessToken  *apiToken `json:"accessToken" validate:"required"`
	RefreshToken *apiToken `json:"refreshToken"`
	User         *apiUser  `json:"user" validate:"required"`
}

type apiToken struct {
	Token    string  `json:"token" validate:"required"`
	ExpireAt apiTime `json:"expireAt" validate:"required"`
}

type apiUser struct {
	ID                 string               `json:"id" validate:"required"`
	Email              string               `json:"email"`
	FirstName          string               `json:"firstName"`
	LastName           string               `json:"lastName"`
	FullName           string               `json:"fullName"`
	Picture            string               `json:"picture"`
	Role               string               `json:"role"`
	PlatformRoles      []apiPlatformRole    `json:"platformRoles"`
	Newsletter         bool                 `json:"newsletter"`
	HasPassword        bool                 `json:"hasPassword"`
	Has2FAActive       bool                 `json:"has2FAActive"`
	SSOUser            bool                 `json:"ssoUser"`
	OrganizationID     string               `json:"organizationId"`
	Organizations      []apiOrganization    `json:"organizations"`
	OrganizationInfo   *apiOrganizationInfo `json:"organizationInfo"`
	Language           string               `json:"language"`
	VerificationStatus string               `json:"verificationStatus"`
	ActivityTrace      *apiActivityTrace    `json:"activityTrace"`
	IntercomUserHash   string               `json:"intercomUserHash"`
	CreatedAt          apiTime              `json:"createdAt"`
	UpdatedAt          apiTime              `json:"updatedAt"`
	SupplantCapability string               `json:"supplantCapability"`
}

type apiPlatformRole struct {
	ID              string       `json:"id"`
	Name            string       `json:"name"`
	Description     string       `json:"description"`
	PlatformActions []string     `json:"platformActions"`
	Supplant        *apiSupplant `json:"supplant"`
	CreatedAt       apiTime      `json:"createdAt"`
	UpdatedAt       apiTime      `json:"updatedAt"`
}

type apiSupplant struct {
	Capability string `json:"capability"`
}

type apiOrganization struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Picture string `json:"picture"`
}

type apiOrganizationInfo struct {
	ID            string                   `json:"id"`
	Name          string                   `json:"name"`
	Slug          string                   `json:"slug"`
	Picture       string                   `json:"picture"`
	CreatedBy     string                   `json:"createdBy"`
	Branding      *apiBranding             `json:"branding"`
	Store         *apiStoreSettings        `json:"store"`
	Configuration *apiOrganizationSettings `json:"configuration"`
}

type apiBranding struct {
	PrimaryColor string `json:"primaryColor"`
	LogoURL      string `json:"logoUrl"`
}

type apiStoreSettings struct {
	Enabled      bool   `json:"enabled"`
	CustomDomain string `json:"customDomain"`
}

type apiOrganizationSettings struct {
	DefaultStorageProvider string `json:"defaultStorageProvider"`
	EnforceSSO             bool   `json:"enforceSSO"`
}

type apiActivityTrace struct {
	LastLogin  *apiActivityTimes `json:"lastLogin"`
	LastAction *apiActivityTimes `json:"lastAction"`
}

type apiActivityTimes struct {
	Dashboard apiTime `json:"dashboard"`
	SDK       apiTime `json:"sdk"`
	Store     apiTime `json:"store"`
}

// identity returns the part of a callback response that a session keeps.
func (d *callbackData) identity(authenticatedAt time.Time) *Identity {
	user := d.User

	id := &Identity{
		UserID:          user.ID,
		Email:           user.Email,
		FirstName:       user.FirstName,
		LastName:        user.LastName,
		FullName:        user.FullName,
		Picture:         user.Picture,
		Role:            user.Role,
		OrganizationID:  user.OrganizationID,
		Language:        user.Language,
		SSOUser:         user.SSOUser,
		AccessToken:     d.AccessToken.token(),
		RefreshToken:    d.RefreshToken.token(),
		AuthenticatedAt: authenticatedAt,
	}

	if id.FullName == "" {
		id.FullName = strings.TrimSpace(user.FirstName + " " + user.LastName)
	}

	for _, role := range user.PlatformRoles {
		id.PlatformRoles = append(id.PlatformRoles, PlatformRole{
			ID:          role.ID,
			Name:        role.Name,
			Description: role.Description,
			Actions:     role.PlatformActions,
		})
	}

	for _, org := range user.Organizations {
		id.Organizations = append(id.Organizations, Organization(org))
	}

	return id
}

func (t *apiToken) token() Token {
	if t == nil {
		return Token{}
	}

	return Token{Value: t.Token, ExpiresAt: t.ExpireAt.UTC()}
}
