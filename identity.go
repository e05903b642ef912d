package identity

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Identity is a signed-in user as Applivery's API described them at sign-in,
// with the tokens Applivery issued. RequireAuth puts it in the request
// context; read it with FromContext.
//
// An Identity prints and logs without its token values: Token redacts itself
// in fmt, slog and JSON output, and LogValue leaves out personal data other
// than the user ID.
//
// Each request, and each hook call, gets its own Identity, slices included,
// so a handler may change it without touching any other request.
type Identity struct {
	UserID    string // Applivery's user ID, such as "507f1f77bcf86cd799439023"
	Email     string // email address
	FirstName string // given name
	LastName  string // family name
	FullName  string // full name; first and last name when Applivery sends none
	Picture   string // URL of the profile picture
	Role      string // the user's role in the organization signed in to (OrganizationID), such as "admin" or "user"

	PlatformRoles []PlatformRole // roles in Applivery's platform, with their actions

	OrganizationID string         // ID of the organization signed in to
	Organizations  []Organization // every organization the user belongs to

	Language string // preferred language, such as "en"
	SSOUser  bool   // whether the account was created through single sign-on

	AccessToken  Token // Applivery's access token, for calls to its API on the user's behalf
	RefreshToken Token // the token that renews AccessToken when Config.RefreshPath is set

	// AuthenticatedAt is when the user signed in. Refreshing tokens does not
	// move it.
	AuthenticatedAt time.Time
}

// PlatformRole is a role of the user in Applivery's platform, with the
// actions it grants.
type PlatformRole struct {
	ID          string   // the role's ID
	Name        string   // the name HasPlatformRole matches, such as "owner"
	Description string   // a description for people
	Actions     []string // the platform actions the role grants
}

// Organization is an Applivery organization the user belongs to.
type Organization struct {
	ID      string // the organization's ID
	Name    string // display name, such as "Enterprise Corporation"
	Slug    string // the name in URLs, such as "enterprise-corp"
	Picture string // URL of the organization's logo
}

// Token is an access or refresh token with its expiry.
//
// The value never appears in fmt, slog or JSON output: String, GoString,
// LogValue and MarshalJSON print only the expiry. Read Value explicitly when
// calling an API with it.
type Token struct {
	Value     string    // the token itself; empty when Applivery sent none
	ExpiresAt time.Time // when the token expires, in UTC
}

// clone returns a copy of id that shares no slice with it. A typical
// identity, with few organizations, roles and actions, takes one
// allocation, because RequireAuth clones one on every request.
func (id *Identity) clone() *Identity {
	actions := 0
	for _, role := range id.PlatformRoles {
		actions += len(role.Actions)
	}

	var box smallIdentity
	if len(id.Organizations) > len(box.orgs) || len(id.PlatformRoles) > len(box.roles) || actions > len(box.actions) {
		return id.cloneLarge()
	}

	boxed := &smallIdentity{identity: *id}
	copied := &boxed.identity

	// Each slice is capped at its length, so that an append by a handler
	// moves it out of the box instead of overwriting its neighbor.
	if id.Organizations != nil {
		n := len(id.Organizations)
		copied.Organizations = boxed.orgs[:n:n]
		copy(copied.Organizations, id.Organizations)
	}

	if id.PlatformRoles != nil {
		n := len(id.PlatformRoles)
		copied.PlatformRoles = boxed.roles[:n:n]
		copy(copied.PlatformRoles, id.PlatformRoles)
	}

	next := 0
	for i, role := range id.PlatformRoles {
		if role.Actions == nil {
			continue
		}

		n := len(role.Actions)
		copied.PlatformRoles[i].Actions = boxed.actions[next : next+n : next+n]
		copy(copied.PlatformRoles[i].Actions, role.Actions)
		next += n
	}

	return copied
}

// smallIdentity holds an Identity and the arrays of its slices in one
// allocation.
type smallIdentity struct {
	identity Identity
	orgs     [2]Organization
	roles    [1]PlatformRole
	actions  [4]string
}

func (id *Identity) cloneLarge() *Identity {
	copied := *id
	copied.Organizations = slices.Clone(id.Organizations)
	copied.PlatformRoles = slices.Clone(id.PlatformRoles)

	for i := range copied.PlatformRoles {
		copied.PlatformRoles[i].Actions = slices.Clone(copied.PlatformRoles[i].Actions)
	}

	return &copied
}

// HasRole reports whether the user's role is one of roles.
func (id *Identity) HasRole(roles ...string) bool {
	return slices.Contains(roles, id.Role)
}

// hasRole and hasPlatformRole match one value, for the rules.
func (id *Identity) hasRole(role string) bool { return id.Role == role }

func (id *Identity) hasPlatformRole(name string) bool { return id.HasPlatformRole(name) }

// HasPlatformRole reports whether the user has a platform role whose name is
// one of names.
func (id *Identity) HasPlatformRole(names ...string) bool {
	for _, role := range id.PlatformRoles {
		if slices.Contains(names, role.Name) {
			return true
		}
	}

	return false
}

// InOrganization reports whether the user belongs to an organization with the
// given ID or slug. The organization signed in to counts by its ID. An empty
// idOrSlug matches nothing.
func (id *Identity) InOrganization(idOrSlug string) bool {
	if idOrSlug == "" {
		return false
	}

	if id.OrganizationID == idOrSlug {
		return true
	}

	for _, org := range id.Organizations {
		if org.ID == idOrSlug || org.Slug == idOrSlug {
			return true
		}
	}

	return false
}

// SignedInTo reports whether the organization the user signed in to has the
// given ID, or is listed in Organizations with that ID and the given slug.
// An empty idOrSlug matches nothing.
func (id *Identity) SignedInTo(idOrSlug string) bool {
	if idOrSlug == "" || id.OrganizationID == "" {
		return false
	}

	if id.OrganizationID == idOrSlug {
		return true
	}

	for _, org := range id.Organizations {
		if org.ID == id.OrganizationID && org.Slug == idOrSlug {
			return true
		}
	}

	return false
}

// LogValue implements slog.LogValuer. It logs the user ID, role and
// organization, and leaves out the email, names and tokens.
func (id *Identity) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_id", id.UserID),
		slog.String("role", id.Role),
		slog.String("organization", id.OrganizationID),
	)
}

// Expired reports whether the token has no value or expires before now plus
// skew. A positive skew treats tokens that are about to expire as expired
// already, so a request never reaches an API with a token that dies on the
// way.
func (t Token) Expired(now time.Time, skew time.Duration) bool {
	return t.Value == "" || !now.Add(skew).Before(t.ExpiresAt)
}

// String implements fmt.Stringer without the token's value.
func (t Token) String() string {
	if t.Value == "" {
		return "Token(empty)"
	}

	return fmt.Sprintf("Token(redacted, expires %s)", t.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString implements fmt.GoStringer without the token's value, so %#v
// redacts it too.
func (t Token) GoString() string {
	return t.String()
}

// LogValue implements slog.LogValuer: only the expiry is logged.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("set", t.Value != ""),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// MarshalJSON implements json.Marshaler with the expiry only, so an Identity
// sent to a browser as JSON never carries a token.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ExpiresAt time.Time `json:"expiresAt"`
	}{t.ExpiresAt})
}
