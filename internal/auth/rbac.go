package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seawall-dev/seawall/internal/store"
)

// Action is something a principal may do in a project.
type Action string

// Actions. The first three are also the registry's scope actions and the
// permissions a robot account can hold.
const (
	ActionPull            Action = "pull"
	ActionPush            Action = "push"
	ActionDelete          Action = "delete"
	ActionListRepos       Action = "list"    // list the project's repositories (catalog, API)
	ActionViewMembers     Action = "members" // see who is in the project
	ActionManageMembers   Action = "members:write"
	ActionManageRobots    Action = "robots:write" // create, list and revoke robot accounts
	ActionProjectSettings Action = "settings:write"
)

// Actions lists every project action, in the order of the matrix's columns.
var Actions = []Action{ActionPull, ActionPush, ActionDelete, ActionListRepos, ActionViewMembers, ActionManageMembers, ActionManageRobots, ActionProjectSettings}

// RobotActions are the permissions a robot account can be given.
var RobotActions = []Action{ActionPull, ActionPush, ActionDelete}

// Matrix is the role → permission table, with Harbor's meanings; its
// columns are Actions, in order. It is the one place permissions are
// decided; docs/reference/access.md shows the same table, and a test keeps
// the two equal.
//
// A system admin may do everything everywhere. Anyone, even anonymous,
// may pull from a public project and see its repositories. A robot has
// exactly its permissions, in its project only.
var Matrix = map[store.Role][8]bool{
	//                     pull push delete list members members:write robots:write settings:write
	store.RoleAdmin:        {y, y, y, y, y, y, y, y},
	store.RoleMaintainer:   {y, y, y, y, y, n, y, n},
	store.RoleDeveloper:    {y, y, n, y, y, n, n, n},
	store.RoleGuest:        {y, n, n, y, y, n, n, n},
	store.RoleLimitedGuest: {y, n, n, n, n, n, n, n},
}

// y and n make Matrix readable as a grid.
const (
	y = true
	n = false
)

// RoleAllows reports whether role may do a.
func RoleAllows(role store.Role, a Action) bool {
	i := slices.Index(Actions, a)
	return i >= 0 && Matrix[role][i]
}

// ParseRobotPermissions parses "pull,push" into actions, refusing anything
// a robot cannot hold.
func ParseRobotPermissions(s string) ([]Action, error) {
	var out []Action
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		a := Action(p)
		if !slices.Contains(RobotActions, a) {
			return nil, fmt.Errorf("unknown robot permission %q: use pull, push and delete, comma-separated", p)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("a robot needs at least one permission: pull, push or delete")
	}
	return out, nil
}
