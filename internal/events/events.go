// Package events carries what happens in the registry and the API —
// pushes, pulls, logins, policy and verdict changes — to the audit log and
// to webhooks through one Sink, so callers emit an event once and never
// wait on delivery.
package events

import (
	"context"
	"fmt"
	"time"
)

// Kind is what happened.
type Kind string

// Kinds of event.
const (
	KindPush          Kind = "push"
	KindPull          Kind = "pull"
	KindDelete        Kind = "delete"
	KindLogin         Kind = "login"
	KindLoginFailed   Kind = "login-failed"
	KindRoleChange    Kind = "role-change"
	KindPolicyChange  Kind = "policy-change"
	KindScanCompleted Kind = "scan-completed"
	KindVerdictChange Kind = "verdict-change"
	KindPullBlocked   Kind = "pull-blocked"
)

// Kinds lists every kind, in the order the docs list them.
var Kinds = []Kind{
	KindPush, KindPull, KindDelete, KindLogin, KindLoginFailed, KindRoleChange,
	KindPolicyChange, KindScanCompleted, KindVerdictChange, KindPullBlocked,
}

// WebhookKinds are the kinds a webhook receives when it names none.
var WebhookKinds = []Kind{KindPush, KindScanCompleted, KindVerdictChange, KindPullBlocked}

// ParseKind checks an event kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown event %q: use one of push, pull, delete, login, login-failed, role-change, policy-change, scan-completed, verdict-change, pull-blocked", s)
}

// Event is one thing that happened. A zero Time means now: the sink
// stamps it.
type Event struct {
	Kind    Kind      `json:"kind"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor,omitempty"`   // user or robot name; "" is the server itself
	Project string    `json:"project,omitempty"` // project name
	Repo    string    `json:"repo,omitempty"`    // full repository name, "project/path"
	Digest  string    `json:"digest,omitempty"`  // manifest digest
	Tag     string    `json:"tag,omitempty"`
	// Detail holds what else matters for the kind. Values are strings so
	// that an entry's canonical JSON, which the audit chain hashes, has
	// one spelling.
	Detail map[string]string `json:"detail,omitempty"`
}

// Sink receives events. Emit never fails its caller and returns quickly:
// the sink logs what it could not record.
type Sink interface {
	Emit(ctx context.Context, e Event)
}

// Func adapts a function to a Sink.
type Func func(ctx context.Context, e Event)

// Emit calls f.
func (f Func) Emit(ctx context.Context, e Event) { f(ctx, e) }

// Discard is a Sink that drops every event.
var Discard Sink = Func(func(context.Context, Event) {})

var _ Sink = Func(nil)
