package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/coop-exchange/coop/domain"
)

var _ domain.EscalationStore = (*Store)(nil)

type escalationRow struct {
	ID               int64 `gorm:"primaryKey"`
	RequestID        int64
	ServiceID        int64
	Status           string
	BusinessStatus   string
	Reason           string
	StatusReason     string
	Outcome          string
	RespondBy        *time.Time
	SentAt           *time.Time
	CreatedBy        *int64
	CreatedAt        time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt        time.Time `gorm:"autoUpdateTime:false"`
	OverdueAlertedAt *time.Time
}

func (escalationRow) TableName() string { return "escalations" }

type escalationChangeRow struct {
	ID             int64 `gorm:"primaryKey"`
	EscalationID   int64
	At             time.Time
	Status         string
	BusinessStatus string
	Side           string
	ByID           *int64
	ByName         string
	Note           string
}

func (escalationChangeRow) TableName() string { return "escalation_history" }

// dueRequestsSQL finds the open requests due for escalation at a time: still ahead, with no live
// match, never escalated nor reported, and past the earlier of posted + wait and start - lead,
// where wait and lead are the category's own for the request's urgency or else the defaults.
// It walks the open requests soonest first (requests_open_soonest_idx) and stops at the limit;
// the category is a join on its key. %[1]s and %[2]s are the dialect's "now - wait" and
// "now + lead" (timingsSQL); the arguments are now, then for each of those now and the default
// minutes for urgent, soon and routine.
const dueRequestsSQL = `r.status = 'open' AND r.start_at > ? AND r.escalation_alerted_at IS NULL
	AND NOT EXISTS (SELECT 1 FROM matches x WHERE x.request_id = r.id AND x.status IN ('proposed', 'approved', 'accepted'))
	AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.request_id = r.id)
	AND (r.created_at <= %[1]s OR r.start_at <= %[2]s)`

// Each request's wait and lead in minutes: its category's own for its urgency, else the default
// given as an argument. An urgency without a branch gives NULL, so is never due.
const (
	waitMinutesSQL = `CASE r.urgency WHEN 'urgent' THEN COALESCE(c.escalation_urgent_wait_minutes, ?)
		WHEN 'soon' THEN COALESCE(c.escalation_soon_wait_minutes, ?) WHEN 'routine' THEN COALESCE(c.escalation_routine_wait_minutes, ?) END`
	leadMinutesSQL = `CASE r.urgency WHEN 'urgent' THEN COALESCE(c.escalation_urgent_lead_minutes, ?)
		WHEN 'soon' THEN COALESCE(c.escalation_soon_lead_minutes, ?) WHEN 'routine' THEN COALESCE(c.escalation_routine_lead_minutes, ?) END`
)

// timingsSQL is the time a number of minutes before or after a bound time, in each dialect.
// SQLite keeps times as text (2026-03-02 09:00:00.5+00:00, all in UTC), so the sum is written
// the same way, to the millisecond, and compares as text in time order.
func (s *Store) timingsSQL() (before, after string) {
	if s.dialect == Postgres {
		return "CAST(? AS timestamptz) - (" + waitMinutesSQL + ") * interval '1 minute'",
			"CAST(? AS timestamptz) + (" + leadMinutesSQL + ") * interval '1 minute'"
	}
	return "strftime('%Y-%m-%d %H:%M:%f+00:00', ?, '-' || (" + waitMinutesSQL + ") || ' minutes')",
		"strftime('%Y-%m-%d %H:%M:%f+00:00', ?, '+' || (" + leadMinutesSQL + ") || ' minutes')"
}

// DueRequests lists the open requests due for escalation by their categories' own timings,
// falling back to timings (the defaults) where a category has none; see domain.EscalationStore.
func (s *Store) DueRequests(ctx context.Context, now time.Time, timings map[domain.Urgency]domain.EscalationTiming, limit int) ([]domain.Request, error) {
	at := now.UTC()
	args := []any{at, at}
	for _, u := range []domain.Urgency{domain.Urgent, domain.Soon, domain.Routine} {
		args = append(args, int64(timings[u].Wait/time.Minute))
	}
	args = append(args, at)
	for _, u := range []domain.Urgency{domain.Urgent, domain.Soon, domain.Routine} {
		args = append(args, int64(timings[u].Lead/time.Minute))
	}
	before, after := s.timingsSQL()
	var rows []requestRow
	if err := s.conn(ctx).Table("requests r").Select("r.*").Joins("JOIN categories c ON c.id = r.category_id").
		Where(fmt.Sprintf(dueRequestsSQL, before, after), args...).Order("r.start_at, r.id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to find requests due for escalation: %w", translate(err))
	}
	out := make([]domain.Request, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkEscalationAlerted records that coordinators were told the requests cannot be passed on.
func (s *Store) MarkEscalationAlerted(ctx context.Context, requestIDs []int64, at time.Time) error {
	for start := 0; start < len(requestIDs); start += valuesBatch {
		chunk := requestIDs[start:min(start+valuesBatch, len(requestIDs))]
		if err := s.conn(ctx).Model(&requestRow{}).Where("id IN ?", chunk).Update("escalation_alerted_at", at.UTC()).Error; err != nil {
			return fmt.Errorf("store: unable to record escalation alerts: %w", translate(err))
		}
	}
	return nil
}

// CreateEscalation adds an escalation with the first entry of its history.
func (s *Store) CreateEscalation(ctx context.Context, e *domain.Escalation, first domain.EscalationChange, byID int64) error {
	row := escalationRow{RequestID: e.RequestID, ServiceID: e.ServiceID, Status: string(e.Status), BusinessStatus: e.BusinessStatus,
		Reason: e.Reason, StatusReason: e.StatusReason, Outcome: e.Outcome, RespondBy: nullTime(e.RespondBy), SentAt: nullTime(e.SentAt),
		CreatedBy: nullID(e.CreatedBy), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	return s.Transact(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Create(&row).Error; err != nil {
			err = translate(err)
			if errors.Is(err, domain.ErrDuplicate) {
				return fmt.Errorf("store: request %d is already with a service, or was with service %d: %w", e.RequestID, e.ServiceID, domain.ErrConflict)
			}
			return fmt.Errorf("store: unable to escalate request %d to service %d: %w", e.RequestID, e.ServiceID, err)
		}
		e.ID = row.ID
		h := escalationChangeRow{EscalationID: row.ID, At: first.At.UTC(), Status: string(first.Status), BusinessStatus: first.BusinessStatus,
			Side: string(first.Side), ByID: nullID(byID), ByName: first.By, Note: first.Note}
		if err := s.conn(ctx).Create(&h).Error; err != nil {
			return fmt.Errorf("store: unable to record the history of escalation %d: %w", row.ID, translate(err))
		}
		return nil
	})
}

func (r escalationRow) domain() domain.Escalation {
	return domain.Escalation{ID: r.ID, RequestID: r.RequestID, ServiceID: r.ServiceID, Status: domain.EscalationStatus(r.Status),
		BusinessStatus: r.BusinessStatus, Reason: r.Reason, StatusReason: r.StatusReason, Outcome: r.Outcome,
		RespondBy: derefTime(r.RespondBy), SentAt: derefTime(r.SentAt), CreatedBy: deref(r.CreatedBy),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (s *Store) escalationListings(ctx context.Context, db *gorm.DB) ([]domain.EscalationListing, error) {
	var rows []escalationRow
	if err := db.Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ServiceID)
	}
	var names []struct {
		ID   int64
		Name string
	}
	if err := s.conn(ctx).Table("services").Select("id, name").Where("id IN ?", ids).Scan(&names).Error; err != nil {
		return nil, translate(err)
	}
	byID := map[int64]string{}
	for _, n := range names {
		byID[n.ID] = n.Name
	}
	out := make([]domain.EscalationListing, len(rows))
	for i, r := range rows {
		out[i] = domain.EscalationListing{Escalation: r.domain(), ServiceName: byID[r.ServiceID]}
	}
	return out, nil
}

// RequestEscalations lists a request's escalations, oldest first, with their services' names.
func (s *Store) RequestEscalations(ctx context.Context, requestID int64) ([]domain.EscalationListing, error) {
	out, err := s.escalationListings(ctx, s.conn(ctx).Where("request_id = ?", requestID))
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the escalations of request %d: %w", requestID, err)
	}
	return out, nil
}

// Unanswered lists sent escalations nobody acknowledged by their respond-by time, not yet reported.
func (s *Store) Unanswered(ctx context.Context, now time.Time) ([]domain.EscalationListing, error) {
	out, err := s.escalationListings(ctx, s.conn(ctx).Where("status = ? AND business_status = '' AND respond_by <= ? AND overdue_alerted_at IS NULL",
		string(domain.EscalationRequested), now.UTC()).Limit(500))
	if err != nil {
		return nil, fmt.Errorf("store: unable to find unanswered escalations: %w", err)
	}
	return out, nil
}

// MarkOverdueAlerted records that coordinators were told the escalations went unanswered.
func (s *Store) MarkOverdueAlerted(ctx context.Context, ids []int64, at time.Time) error {
	if err := s.conn(ctx).Model(&escalationRow{}).Where("id IN ?", ids).Update("overdue_alerted_at", at.UTC()).Error; err != nil {
		return fmt.Errorf("store: unable to record unanswered escalations: %w", translate(err))
	}
	return nil
}

// Escalation reads one escalation with its service's name.
func (s *Store) Escalation(ctx context.Context, id int64) (domain.EscalationListing, error) {
	out, err := s.escalationListings(ctx, s.conn(ctx).Where("id = ?", id))
	if err != nil {
		return domain.EscalationListing{}, fmt.Errorf("store: unable to read escalation %d: %w", id, err)
	}
	if len(out) == 0 {
		return domain.EscalationListing{}, fmt.Errorf("store: escalation %d: %w", id, domain.ErrNotFound)
	}
	return out[0], nil
}

// EscalationHistory lists an escalation's changes, oldest first.
func (s *Store) EscalationHistory(ctx context.Context, id int64) ([]domain.EscalationChange, error) {
	var rows []escalationChangeRow
	if err := s.conn(ctx).Where("escalation_id = ?", id).Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the history of escalation %d: %w", id, translate(err))
	}
	out := make([]domain.EscalationChange, len(rows))
	for i, r := range rows {
		out[i] = domain.EscalationChange{At: r.At.UTC(), Status: domain.EscalationStatus(r.Status), BusinessStatus: r.BusinessStatus,
			By: r.ByName, Side: domain.Side(r.Side), Note: r.Note}
	}
	return out, nil
}

// ListEscalations lists escalations, newest first, by status and change time.
func (s *Store) ListEscalations(ctx context.Context, q domain.EscalationQuery) ([]domain.EscalationListing, error) {
	db := s.conn(ctx)
	if q.Status != "" {
		db = db.Where("status = ?", string(q.Status))
	}
	if !q.UpdatedSince.IsZero() {
		db = db.Where("updated_at >= ?", q.UpdatedSince.UTC())
	}
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	if q.ServiceIDs != nil {
		db = db.Where("service_id IN ?", q.ServiceIDs)
	}
	if q.SentOnly {
		db = db.Where("status <> ?", string(domain.EscalationDraft))
	}
	// The newest first: this order comes before the listing's own.
	out, err := s.escalationListings(ctx, db.Order("id DESC").Limit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list escalations: %w", err)
	}
	return out, nil
}

// ChangeEscalation applies one change to an escalation still where the caller read it, and adds
// it to the history; see domain.EscalationChanger.
func (s *Store) ChangeEscalation(ctx context.Context, u domain.EscalationUpdate, change domain.EscalationChange, byID int64) error {
	set := map[string]any{"status": string(u.Status), "business_status": u.BusinessStatus, "updated_at": u.At.UTC()}
	if u.StatusReason != "" {
		set["status_reason"] = u.StatusReason
	}
	if u.Outcome != "" {
		set["outcome"] = u.Outcome
	}
	if !u.SentAt.IsZero() {
		set["sent_at"], set["respond_by"] = u.SentAt.UTC(), u.RespondBy.UTC()
	}
	return s.Transact(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Model(&escalationRow{}).Where("id = ? AND status = ? AND business_status = ?", u.ID, string(u.From), u.FromBusiness).Updates(set)
		if err := translate(res.Error); err != nil {
			if errors.Is(err, domain.ErrDuplicate) {
				return fmt.Errorf("store: escalation %d: its request has another open escalation: %w", u.ID, domain.ErrConflict)
			}
			return fmt.Errorf("store: unable to change escalation %d: %w", u.ID, err)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: escalation %d is no longer %s: %w", u.ID, u.From, domain.ErrConflict)
		}
		h := escalationChangeRow{EscalationID: u.ID, At: change.At.UTC(), Status: string(change.Status), BusinessStatus: change.BusinessStatus,
			Side: string(change.Side), ByID: nullID(byID), ByName: change.By, Note: change.Note}
		if err := s.conn(ctx).Create(&h).Error; err != nil {
			return fmt.Errorf("store: unable to record the history of escalation %d: %w", u.ID, translate(err))
		}
		return nil
	})
}

// inboxRow is an escalation with the need in brief, as a service's inbox lists it.
type inboxRow struct {
	ID             int64
	RequestID      int64
	ServiceID      int64
	Status         string
	BusinessStatus string
	Reason         string
	StatusReason   string
	Outcome        string
	RespondBy      *time.Time
	SentAt         *time.Time
	CreatedBy      *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ServiceName    string
	CategoryName   string
	Urgency        string
	StartAt        time.Time
	EndAt          time.Time
	AreaName       string
}

func (r inboxRow) escalation() domain.Escalation {
	return escalationRow{ID: r.ID, RequestID: r.RequestID, ServiceID: r.ServiceID, Status: r.Status, BusinessStatus: r.BusinessStatus,
		Reason: r.Reason, StatusReason: r.StatusReason, Outcome: r.Outcome, RespondBy: r.RespondBy, SentAt: r.SentAt, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}.domain()
}

// InboxEscalations lists the escalations sent to the services; see domain.EscalationChanger.
func (s *Store) InboxEscalations(ctx context.Context, serviceIDs []int64, open bool, limit int) ([]domain.InboxItem, error) {
	db := s.conn(ctx).Table("escalations e").
		Select("e.id, e.request_id, e.service_id, e.status, e.business_status, e.reason, e.status_reason, e.outcome, e.respond_by, e.sent_at, e.created_by, e.created_at, e.updated_at, s.name AS service_name, c.name AS category_name, r.urgency, r.start_at, r.end_at, COALESCE(a.name, '') AS area_name").
		Joins("JOIN services s ON s.id = e.service_id").
		Joins("JOIN requests r ON r.id = e.request_id").
		Joins("JOIN categories c ON c.id = r.category_id").
		Joins("LEFT JOIN areas a ON a.id = r.area_id").
		Where("e.service_id IN ? AND e.status <> ?", serviceIDs, string(domain.EscalationDraft))
	openStatuses := []string{string(domain.EscalationRequested), string(domain.EscalationAccepted), string(domain.EscalationInProgress), string(domain.EscalationOnHold)}
	if open {
		db = db.Where("e.status IN ?", openStatuses).
			Order(clause.Expr{SQL: "CASE WHEN e.status = ? AND e.business_status = '' THEN 0 ELSE 1 END", Vars: []any{string(domain.EscalationRequested)}}).
			Order("CASE WHEN e.status = 'requested' AND e.business_status = '' THEN e.respond_by END").
			Order("e.updated_at DESC, e.id DESC")
	} else {
		db = db.Where("e.status NOT IN ?", openStatuses).Order("e.updated_at DESC, e.id DESC")
	}
	if limit > 0 {
		db = db.Limit(limit)
	}
	var rows []inboxRow
	if err := db.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the inbox of services %v: %w", serviceIDs, translate(err))
	}
	out := make([]domain.InboxItem, len(rows))
	for i, r := range rows {
		out[i] = domain.InboxItem{EscalationListing: domain.EscalationListing{Escalation: r.escalation(), ServiceName: r.ServiceName},
			CategoryName: r.CategoryName, Urgency: domain.Urgency(r.Urgency), Start: r.StartAt.UTC(), End: r.EndAt.UTC(), AreaName: r.AreaName}
	}
	return out, nil
}

// WithdrawEscalationConsent records the withdrawal of a request's consent to pass it on.
func (s *Store) WithdrawEscalationConsent(ctx context.Context, requestID int64, at time.Time) error {
	res := s.conn(ctx).Model(&requestRow{}).Where("id = ? AND escalation_consent_at IS NOT NULL AND escalation_consent_withdrawn_at IS NULL", requestID).
		Updates(map[string]any{"escalation_consent_withdrawn_at": at.UTC(), "updated_at": at.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: unable to withdraw the consent of request %d: %w", requestID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: request %d has no consent to withdraw: %w", requestID, domain.ErrConflict)
	}
	return nil
}

// LockRequest reads a request and, on PostgreSQL, locks its row until the transaction ends
// (SQLite runs one writing transaction at a time).
func (s *Store) LockRequest(ctx context.Context, id int64) (domain.Request, error) {
	db := s.conn(ctx)
	if s.dialect == Postgres {
		db = db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row requestRow
	if err := db.Take(&row, id).Error; err != nil {
		return domain.Request{}, fmt.Errorf("store: unable to read request %d: %w", id, translate(err))
	}
	return row.domain(), nil
}
