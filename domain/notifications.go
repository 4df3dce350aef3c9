package domain

import (
	"context"
	"fmt"
	"time"
)

// NotificationStore keeps members' in-app notifications.
type NotificationStore interface {
	Notifications(ctx context.Context, memberID int64, limit int) ([]Notification, error)
	UnreadCount(ctx context.Context, memberID int64) (int, error)
	// MarkRead marks one notification of the member read, or all of them when id is 0.
	MarkRead(ctx context.Context, memberID, id int64, at time.Time) error
}

// Notifications is each member's notification centre.
type Notifications struct {
	store NotificationStore
	clock Clock
}

// NewNotifications returns the notification centre service.
func NewNotifications(store NotificationStore, clock Clock) *Notifications {
	return &Notifications{store: store, clock: clock}
}

// List returns the caller's latest notifications, newest first.
func (n *Notifications) List(ctx context.Context, by Actor, limit int) ([]Notification, error) {
	if by.ID == 0 {
		return nil, ErrUnauthenticated
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	out, err := n.store.Notifications(ctx, by.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("notifications of member %d: %w", by.ID, err)
	}
	return out, nil
}

// Unread counts the caller's unread notifications, for the header.
func (n *Notifications) Unread(ctx context.Context, by Actor) (int, error) {
	if by.ID == 0 {
		return 0, nil
	}
	return n.store.UnreadCount(ctx, by.ID)
}

// MarkRead marks one of the caller's notifications read, or all when id is 0; another
// member's notification is left alone.
func (n *Notifications) MarkRead(ctx context.Context, by Actor, id int64) error {
	if by.ID == 0 {
		return ErrUnauthenticated
	}
	return n.store.MarkRead(ctx, by.ID, id, n.clock.now())
}
