package identity

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIdentityCloneSharesNothing(t *testing.T) {
	many := make([]Organization, 10)
	for i := range many {
		many[i] = Organization{ID: fmt.Sprint(i)}
	}

	tests := map[string]*Identity{
		"empty": {UserID: "u"},
		"small": {
			UserID:        "u",
			Organizations: []Organization{{ID: "o1"}, {ID: "o2"}},
			PlatformRoles: []PlatformRole{{Name: "a", Actions: []string{"x", "y"}}, {Name: "b"}, {Name: "c", Actions: []string{}}}[:2],
		},
		"empty slices": {UserID: "u", Organizations: []Organization{}, PlatformRoles: []PlatformRole{{Actions: []string{}}}},
		"large":        {UserID: "u", Organizations: many, PlatformRoles: []PlatformRole{{Actions: make([]string, 20)}}},
	}

	for name, id := range tests {
		t.Run(name, func(t *testing.T) {
			copied := id.clone()

			assert.Equal(t, id, copied, "equal, nil and empty slices kept apart")

			for i := range copied.Organizations {
				copied.Organizations[i].ID = "changed"
				assert.NotEqual(t, "changed", id.Organizations[i].ID, "organization %d is a copy", i)
			}
			for i := range copied.PlatformRoles {
				copied.PlatformRoles[i].Name = "changed"
				assert.NotEqual(t, "changed", id.PlatformRoles[i].Name, "role %d is a copy", i)
				for j := range copied.PlatformRoles[i].Actions {
					copied.PlatformRoles[i].Actions[j] = "changed"
					assert.NotEqual(t, "changed", id.PlatformRoles[i].Actions[j], "action %d of role %d is a copy", j, i)
				}
			}
		})
	}
}

func TestIdentityCloneAppendsStayApart(t *testing.T) {
	id := &Identity{PlatformRoles: []PlatformRole{{Actions: []string{"a"}}, {Actions: []string{"b"}}}}

	copied := id.clone()
	copied.PlatformRoles[0].Actions = append(copied.PlatformRoles[0].Actions, "appended")

	assert.Equal(t, []string{"b"}, copied.PlatformRoles[1].Actions, "an append to one role's actions leaves the next role's alone")
}
