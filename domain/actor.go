package domain

import "time"

// Actor is who is doing something, for permission checks and the audit log.
type Actor struct {
	ID        int64 // 0 for the system (the command line, a scheduled job)
	Name      string
	Role      Role
	Services  []int64 // for the services role: the formal services they answer for
	IP        string
	RequestID string
}

// SystemActor is the platform itself acting, from the command line or a job; it may do anything.
func SystemActor(what string) Actor { return Actor{Name: what, Role: RoleAdmin} }

// Origin is where an anonymous request came from (sign-in, applications), for limits and the audit log.
type Origin struct {
	IP        string
	UserAgent string
	RequestID string
}

// Clock returns the current time; services take one so that tests control time.
type Clock func() time.Time

func (c Clock) now() time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c().UTC()
}

func requireCoordinator(a Actor) error {
	if !a.Role.Coordinates() {
		return ErrForbidden
	}
	return nil
}
