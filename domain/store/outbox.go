package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/coop-exchange/coop/domain"
)

type outboxRow struct {
	ID             int64 `gorm:"primaryKey"`
	Channel        string
	IdempotencyKey string
	Kind           string
	MemberID       *int64
	ServiceID      *int64
	Recipient      string
	Payload        string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	ClaimedUntil   *time.Time
	LastError      string
	DeliveredAt    *time.Time
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (outboxRow) TableName() string { return "outbox" }

func (r outboxRow) domain() domain.OutboxMessage {
	return domain.OutboxMessage{ID: r.ID, Channel: domain.Channel(r.Channel), IdempotencyKey: r.IdempotencyKey, Kind: r.Kind,
		MemberID: deref(r.MemberID), ServiceID: deref(r.ServiceID), Recipient: r.Recipient, Payload: []byte(r.Payload), Status: domain.OutboxStatus(r.Status),
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
}

type emailPreferenceRow struct {
	MemberID  int64  `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Wants     bool
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (emailPreferenceRow) TableName() string { return "email_preferences" }

// newIdempotencyKey makes the key a message carries on every attempt.
func newIdempotencyKey(channel domain.Channel) string {
	return string(channel) + "-" + strings.ToLower(rand.Text())
}

// enqueueEmails writes, inside the caller's transaction tx, one outbox message for each email
// whose member is active, has an address and has not opted out of that kind (account emails
// cannot be opted out of); the others are skipped. It is how a change and the emails it causes
// are written together or not at all.
func enqueueEmails(tx *gorm.DB, now time.Time, emails []domain.Email) error {
	if len(emails) == 0 {
		return nil
	}
	now = now.UTC()
	ids := make([]int64, 0, len(emails))
	for _, e := range emails {
		if !domain.KnownEmailKind(e.Kind) && !domain.AccountEmailKind(e.Kind) {
			return fmt.Errorf("store: unable to enqueue an email of unknown kind %q", e.Kind)
		}
		if e.Link != "" && !strings.HasPrefix(e.Link, "/") {
			return fmt.Errorf("store: unable to enqueue a %s email: its link %q is not a path starting with /", e.Kind, e.Link)
		}
		ids = append(ids, e.MemberID)
	}
	var members []memberRow
	if err := tx.Select("id", "name", "email", "status").Where("id IN ?", ids).Find(&members).Error; err != nil {
		return fmt.Errorf("store: unable to read whom to email: %w", translate(err))
	}
	byID := make(map[int64]memberRow, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}
	var refusals []emailPreferenceRow
	if err := tx.Where("member_id IN ? AND wants = ?", ids, false).Find(&refusals).Error; err != nil {
		return fmt.Errorf("store: unable to read email preferences: %w", translate(err))
	}
	refused := map[emailPreferenceRow]bool{}
	for _, r := range refusals {
		refused[emailPreferenceRow{MemberID: r.MemberID, Kind: r.Kind}] = true
	}
	var rows []outboxRow
	for _, e := range emails {
		m, ok := byID[e.MemberID]
		if !ok || m.Status != string(domain.StatusActive) || deref(m.Email) == "" ||
			(refused[emailPreferenceRow{MemberID: e.MemberID, Kind: e.Kind}] && !domain.AccountEmailKind(e.Kind)) {
			continue
		}
		payload, err := json.Marshal(domain.EmailPayload{Template: e.Kind, Name: m.Name, Data: e.Data, Link: e.Link})
		if err != nil {
			return fmt.Errorf("store: unable to write a %s email: %w", e.Kind, err)
		}
		rows = append(rows, outboxRow{Channel: string(domain.ChannelEmail), IdempotencyKey: newIdempotencyKey(domain.ChannelEmail),
			Kind: e.Kind, MemberID: nullID(e.MemberID), Recipient: *m.Email, Payload: string(payload),
			Status: string(domain.OutboxPending), NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("store: unable to write emails to the outbox: %w", translate(err))
	}
	return nil
}

// EnqueueEmails writes the emails to the outbox for the members who want them, in one
// transaction (or in the caller's, when ctx carries one).
func (s *Store) EnqueueEmails(ctx context.Context, now time.Time, emails []domain.Email) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		return enqueueEmails(s.conn(ctx), now, emails)
	})
}

// enqueueWebhook writes, inside the caller's transaction tx, the outbox message that tells a
// formal service of ev at its webhook address to. The body is fixed now, with a random
// Idempotency-Key, so that every attempt sends the same bytes under the same key. The address is
// not judged here (a refused one fails when it is sent, and the coordinators hear of it), so that
// the change that causes the webhook is never lost for it.
func enqueueWebhook(tx *gorm.DB, now time.Time, to string, ev domain.WebhookEvent) error {
	now = now.UTC()
	if to == "" {
		return fmt.Errorf("store: unable to enqueue a %s webhook for service %d: it has no webhook address", ev.Event, ev.ServiceID)
	}
	body, err := ev.Body(now)
	if err != nil {
		return fmt.Errorf("store: unable to enqueue a webhook: %w", err)
	}
	row := outboxRow{Channel: string(domain.ChannelWebhook), IdempotencyKey: newIdempotencyKey(domain.ChannelWebhook),
		Kind: ev.Event, ServiceID: &ev.ServiceID, Recipient: to, Payload: string(body),
		Status: string(domain.OutboxPending), NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to write a %s webhook to the outbox: %w", ev.Event, translate(err))
	}
	return nil
}

// EnqueueWebhook writes the webhook that tells a service of ev at its address to, in one
// transaction (or in the caller's, when ctx carries one).
func (s *Store) EnqueueWebhook(ctx context.Context, now time.Time, to string, ev domain.WebhookEvent) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		return enqueueWebhook(s.conn(ctx), now, to, ev)
	})
}

// enqueueServiceEmail writes, inside the caller's transaction tx, the email that tells a formal
// service with no webhook of ev at its address to. Like a webhook it carries no personal data: the
// service's name (read here, so that the email names whom it is for), the escalation's number and
// status, and the link to it in the services inbox (ev.URL, absolute, kept as it is). It is for no
// member, so no member's preferences are read: the service cannot opt out of being told. The
// address is not judged here, as for webhooks: a refused one fails when it is sent, and the
// coordinators hear of it.
func enqueueServiceEmail(tx *gorm.DB, now time.Time, to string, ev domain.WebhookEvent) error {
	now = now.UTC()
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("store: unable to enqueue a service email: %w", err)
	}
	if u, _ := url.Parse(ev.URL); u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("store: unable to enqueue a %s email: its link %q is not a web address", ev.Event, ev.URL)
	}
	if to == "" {
		return fmt.Errorf("store: unable to enqueue a %s email for service %d: it has no email address", ev.Event, ev.ServiceID)
	}
	var svc serviceRow
	if err := tx.Select("id", "name").Where("id = ?", ev.ServiceID).Take(&svc).Error; err != nil {
		return fmt.Errorf("store: unable to enqueue a %s email for service %d: %w", ev.Event, ev.ServiceID, translate(err))
	}
	payload, err := json.Marshal(domain.EmailPayload{Template: ev.Event, Link: ev.URL, Data: map[string]string{
		domain.EmailDataService:    svc.Name,
		domain.EmailDataEscalation: strconv.FormatInt(ev.EscalationID, 10),
		domain.EmailDataStatus:     domain.EscalationStatus(ev.Status).Label(),
	}})
	if err != nil {
		return fmt.Errorf("store: unable to write a %s email: %w", ev.Event, err)
	}
	row := outboxRow{Channel: string(domain.ChannelEmail), IdempotencyKey: newIdempotencyKey(domain.ChannelEmail),
		Kind: ev.Event, ServiceID: &ev.ServiceID, Recipient: to, Payload: string(payload),
		Status: string(domain.OutboxPending), NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to write a %s email to the outbox: %w", ev.Event, translate(err))
	}
	return nil
}

// EnqueueServiceEmail writes the email that tells a service with no webhook of ev at its address
// to, in one transaction (or in the caller's, when ctx carries one).
func (s *Store) EnqueueServiceEmail(ctx context.Context, now time.Time, to string, ev domain.WebhookEvent) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		return enqueueServiceEmail(s.conn(ctx), now, to, ev)
	})
}

// claimOutboxSQL picks the messages due at a time that no deliverer holds a lease on, oldest due
// first. PostgreSQL adds FOR UPDATE SKIP LOCKED, so that deliverers claiming at the same moment
// take different messages instead of queueing on one another.
const claimOutboxSQL = `SELECT * FROM outbox
	WHERE status = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
	ORDER BY next_attempt_at, id LIMIT ?`

// ClaimOutbox takes up to limit messages that are due at now and gives this deliverer a lease on
// them until now+lease: no other deliverer takes them before then, so that a message is not
// sent twice at once, and if this one dies the lease runs out and another takes them.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]domain.OutboxMessage, error) {
	now = now.UTC()
	query := claimOutboxSQL
	if s.dialect == Postgres {
		query += " FOR UPDATE SKIP LOCKED"
	}
	var rows []outboxRow
	// On SQLite the transaction takes the write lock at BEGIN, so claims follow one another.
	err := s.Transact(ctx, func(ctx context.Context) error {
		tx := s.conn(ctx)
		if err := tx.Raw(query, now, now, limit).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		return tx.Model(&outboxRow{}).Where("id IN ?", ids).Update("claimed_until", now.Add(lease)).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim outbox messages: %w", translate(err))
	}
	out := make([]domain.OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkDelivered records that a message was delivered at the time given.
func (s *Store) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC()
	err := s.conn(ctx).Model(&outboxRow{}).Where("id = ? AND status = ?", id, domain.OutboxPending).
		Updates(map[string]any{"status": string(domain.OutboxDelivered), "attempts": gorm.Expr("attempts + 1"),
			"delivered_at": at, "claimed_until": nil, "last_error": "", "updated_at": at}).Error
	if err != nil {
		return fmt.Errorf("store: unable to mark outbox message %d delivered: %w", id, translate(err))
	}
	return nil
}

// RetryDelivery records an attempt that failed with lastErr, to be tried again at next.
func (s *Store) RetryDelivery(ctx context.Context, id int64, lastErr string, next, at time.Time) error {
	err := s.conn(ctx).Model(&outboxRow{}).Where("id = ? AND status = ?", id, domain.OutboxPending).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": lastErr,
			"next_attempt_at": next.UTC(), "claimed_until": nil, "updated_at": at.UTC()}).Error
	if err != nil {
		return fmt.Errorf("store: unable to record a failed delivery of outbox message %d: %w", id, translate(err))
	}
	return nil
}

// FailDelivery records a last attempt that failed with lastErr: the message is failed and will
// not be tried again, and the coordinators get the notice, in the same transaction.
func (s *Store) FailDelivery(ctx context.Context, id int64, lastErr string, at time.Time, notice domain.Notice) error {
	at = at.UTC()
	err := s.Transact(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Model(&outboxRow{}).Where("id = ? AND status = ?", id, domain.OutboxPending).
			Updates(map[string]any{"status": string(domain.OutboxFailed), "attempts": gorm.Expr("attempts + 1"),
				"last_error": lastErr, "claimed_until": nil, "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // another deliverer finished it
		}
		notice.CreatedAt = at
		return s.AddNotice(ctx, &notice)
	})
	if err != nil {
		return fmt.Errorf("store: unable to record that outbox message %d failed: %w", id, translate(err))
	}
	return nil
}

// ListOutbox lists the messages in a status (any, when empty), newest first.
func (s *Store) ListOutbox(ctx context.Context, status domain.OutboxStatus, limit int) ([]domain.OutboxMessage, error) {
	db := s.conn(ctx).Order("id DESC").Limit(limit)
	if status != "" {
		db = db.Where("status = ?", status)
	}
	var rows []outboxRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the outbox: %w", translate(err))
	}
	out := make([]domain.OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PruneOutbox deletes delivered and failed messages last changed before the time given, and
// says how many. Pending messages are kept, however old.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("status IN ? AND updated_at < ?", []string{string(domain.OutboxDelivered), string(domain.OutboxFailed)}, before.UTC()).
		Delete(&outboxRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune the outbox: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// EmailChoices returns the member's stored choices about email, by kind.
func (s *Store) EmailChoices(ctx context.Context, memberID int64) (map[string]bool, error) {
	var rows []emailPreferenceRow
	if err := s.conn(ctx).Where("member_id = ?", memberID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the email preferences of member %d: %w", memberID, translate(err))
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.Kind] = r.Wants
	}
	return out, nil
}

// SetEmailChoices stores the member's choices for the kinds given, leaving the others as they were.
func (s *Store) SetEmailChoices(ctx context.Context, memberID int64, wants map[string]bool, at time.Time) error {
	if len(wants) == 0 {
		return nil
	}
	rows := make([]emailPreferenceRow, 0, len(wants))
	for kind, w := range wants {
		rows = append(rows, emailPreferenceRow{MemberID: memberID, Kind: kind, Wants: w, UpdatedAt: at.UTC()})
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "member_id"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{"wants", "updated_at"}),
	}).Create(&rows).Error
	if err != nil {
		if errors.Is(translate(err), domain.ErrInUse) {
			return fmt.Errorf("store: member %d: %w", memberID, domain.ErrNotFound)
		}
		return fmt.Errorf("store: unable to save the email preferences of member %d: %w", memberID, translate(err))
	}
	return nil
}
