package identitytest

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/ssogate/identity"
)

// User is a user the simulated identity provider can sign in, with the
// profile the simulated API returns for them.
type User struct {
	ID             string                  // the user ID the identity provider signs in
	Email          string                  // email address
	FirstName      string                  // given name
	LastName       string                  // family name
	Picture        string                  // URL of the profile picture
	Role           string                  // role in OrganizationID, such as "user" or "admin"
	PlatformRoles  []identity.PlatformRole // roles in Applivery's platform
	OrganizationID string                  // the organization the user signs in to
	Organizations  []identity.Organization // every organization the user belongs to
	Language       string                  // preferred language, such as "en"
	SSOUser        bool                    // whether the account was created through single sign-on
}

// DocumentedUser returns the user of the example response in Applivery's
// documentation of the SSO callback endpoint: John Doe, role "user", member
// of Enterprise Corporation (slug "enterprise-corp").
func DocumentedUser() User {
	return User{
		ID:        "507f1f77bcf86cd799439023",
		Email:     "user@example.com",
		FirstName: "John",
		LastName:  "Doe",
		Picture:   "https://example.com/images/profile-picture.jpg",
		Role:      "user",
		PlatformRoles: []identity.PlatformRole{{
			ID:          "string",
			Name:        "string",
			Description: "string",
			Actions:     []string{"string"},
		}},
		OrganizationID: "507f1f77bcf86cd799439024",
		Organizations: []identity.Organization{{
			ID:      "507f1f77bcf86cd799439025",
			Name:    "Enterprise Corporation",
			Slug:    "enterprise-corp",
			Picture: "https://cdn.applivery.com/orgs/507f1f77bcf86cd799439025/logo.png",
		}},
		Language: "en",
		SSOUser:  false,
	}
}

// AdminUser returns Ada Admin, role "admin" in Enterprise Corporation (slug
// "enterprise-corp"), which she signed in to, with an "owner" platform role.
// DocumentedUser belongs to Enterprise Corporation too, but signed in to
// another organization, as in Applivery's documented response.
func AdminUser() User {
	return User{
		ID:        "65a1f0c2e4b0a1b2c3d4e5f6",
		Email:     "admin@example.com",
		FirstName: "Ada",
		LastName:  "Admin",
		Picture:   "https://example.com/images/admin.jpg",
		Role:      "admin",
		PlatformRoles: []identity.PlatformRole{{
			ID:          "65a1f0c2e4b0a1b2c3d4e5f7",
			Name:        "owner",
			Description: "Full control of the organization",
			Actions:     []string{"apps.read", "apps.write", "members.manage"},
		}},
		OrganizationID: "507f1f77bcf86cd799439025",
		Organizations: []identity.Organization{{
			ID:      "507f1f77bcf86cd799439025",
			Name:    "Enterprise Corporation",
			Slug:    "enterprise-corp",
			Picture: "https://cdn.applivery.com/orgs/507f1f77bcf86cd799439025/logo.png",
		}},
		Language: "en",
		SSOUser:  true,
	}
}

// FullName returns the user's first and last name.
func (u User) FullName() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}

	return u.FirstName + " " + u.LastName
}

// The types below are the JSON of the callback response as Applivery
// documents it. They are written apart from the package's own decoder on
// purpose, so that a mistake in one shows up as a failure against the other.

type callbackJSON struct {
	Status bool         `json:"status"`
	Data   callbackData `json:"data"`
}

type callbackData struct {
	AccessToken  tokenJSON `json:"accessToken"`
	RefreshToken tokenJSON `json:"refreshToken"`
	User         userJSON  `json:"user"`
}

type tokenJSON struct {
	Token    string `json:"token"`
	ExpireAt string `json:"expireAt"`
}

type userJSON struct {
	ID                 string                `json:"id"`
	Email              string                `json:"email"`
	FirstName          string                `json:"firstName"`
	LastName           string                `json:"lastName"`
	FullName           string                `json:"fullName"`
	Picture            string                `json:"picture"`
	Role               string                `json:"role"`
	PlatformRoles      []platformRoleJSON    `json:"platformRoles"`
	Newsletter         bool                  `json:"newsletter"`
	HasPassword        bool                  `json:"hasPassword"`
	Has2FAActive       bool                  `json:"has2FAActive"`
	SSOUser            bool                  `json:"ssoUser"`
	OrganizationID     string                `json:"organizationId"`
	Organizations      []organizationJSON    `json:"organizations"`
	OrganizationInfo   *organizationInfoJSON `json:"organizationInfo,omitempty"`
	Language           string                `json:"language"`
	VerificationStatus string                `json:"verificationStatus"`
	ActivityTrace      activityTraceJSON     `json:"activityTrace"`
	IntercomUserHash   string                `json:"intercomUserHash"`
	CreatedAt          string                `json:"createdAt"`
	UpdatedAt          string                `json:"updatedAt"`
	SupplantCapability string                `json:"supplantCapability"`
}

type platformRoleJSON struct {
	ID              string       `json:"id"`
	Name            string       `json:"name"`
	Description     string       `json:"description"`
	PlatformActions []string     `json:"platformActions"`
	Supplant        supplantJSON `json:"supplant"`
	CreatedAt       string       `json:"createdAt"`
	UpdatedAt       string       `json:"updatedAt"`
}

type supplantJSON struct {
	Capability string `json:"capability"`
}

type organizationJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Picture string `json:"picture"`
}

type organizationInfoJSON struct {
	organizationJSON
	CreatedBy string `json:"createdBy"`
	Branding  struct {
		PrimaryColor string `json:"primaryColor"`
		LogoURL      string `json:"logoUrl"`
	} `json:"branding"`
	Store struct {
		Enabled      bool   `json:"enabled"`
		CustomDomain string `json:"customDomain"`
	} `json:"store"`
	Configuration struct {
		DefaultStorageProvider string `json:"defaultStorageProvider"`
		EnforceSSO             bool   `json:"enforceSSO"`
	} `json:"configuration"`
}

type activityTraceJSON struct {
	LastLogin  activityTimesJSON `json:"lastLogin"`
	LastAction activityTimesJSON `json:"lastAction"`
}

type activityTimesJSON struct {
	Dashboard string `json:"dashboard"`
	SDK       string `json:"sdk"`
	Store     string `json:"store"`
}

// profileJSON returns the user as the callback response's "user" object at
// time now.
func (u User) profileJSON(now time.Time) userJSON {
	stamp := now.UTC().Format(time.RFC3339)
	created := now.AddDate(-1, 0, 0).UTC().Format(time.RFC3339)
	hash := sha256.Sum256([]byte(u.ID))

	profile := userJSON{
		ID:                 u.ID,
		Email:              u.Email,
		FirstName:          u.FirstName,
		LastName:           u.LastName,
		FullName:           u.FullName(),
		Picture:            u.Picture,
		Role:               u.Role,
		PlatformRoles:      []platformRoleJSON{},
		Newsletter:         false,
		HasPassword:        !u.SSOUser,
		SSOUser:            u.SSOUser,
		OrganizationID:     u.OrganizationID,
		Organizations:      []organizationJSON{},
		Language:           u.Language,
		VerificationStatus: "verified",
		ActivityTrace: activityTraceJSON{
			LastLogin:  activityTimesJSON{Dashboard: stamp, SDK: stamp, Store: stamp},
			LastAction: activityTimesJSON{Dashboard: stamp, SDK: stamp, Store: stamp},
		},
		IntercomUserHash:   hex.EncodeToString(hash[:16]),
		CreatedAt:          created,
		UpdatedAt:          stamp,
		SupplantCapability: "none",
	}

	for _, role := range u.PlatformRoles {
		profile.PlatformRoles = append(profile.PlatformRoles, platformRoleJSON{
			ID:              role.ID,
			Name:            role.Name,
			Description:     role.Description,
			PlatformActions: append([]string{}, role.Actions...),
			Supplant:        supplantJSON{Capability: "none"},
			CreatedAt:       created,
			UpdatedAt:       stamp,
		})
	}

	for _, org := range u.Organizations {
		orgJSON := organizationJSON(org)
		profile.Organizations = append(profile.Organizations, orgJSON)

		if org.ID == u.OrganizationID {
			info := &organizationInfoJSON{organizationJSON: orgJSON, CreatedBy: u.ID}
			info.Branding.PrimaryColor = "#0066CC"
			info.Branding.LogoURL = org.Picture
			info.Store.Enabled = true
			info.Configuration.EnforceSSO = true
			profile.OrganizationInfo = info
		}
	}

	return profile
}
