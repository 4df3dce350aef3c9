package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type auditRow struct {
	ID          int64 `gorm:"primaryKey"`
	At          time.Time
	ActorID     *int64
	ActorName   string
	Action      string
	SubjectType string
	SubjectID   *int64
	IP          string `gorm:"column:ip"`
	RequestID   string
	Detail      string
}

func (auditRow) TableName() string { return "audit_events" }

// RecordAudit appends an event to the audit log.
func (s *Store) RecordAudit(ctx context.Context, e domain.AuditEvent) error {
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("store: unable to encode audit detail: %w", err)
		}
		detail = string(b)
	}
	row := auditRow{At: e.At.UTC(), ActorID: nullID(e.ActorID), ActorName: e.ActorName, Action: e.Action,
		SubjectType: e.SubjectType, SubjectID: nullID(e.SubjectID), IP: e.IP, RequestID: e.RequestID, Detail: detail}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to write audit event: %w", translate(err))
	}
	return nil
}

// ListAudit returns events matching q, newest first.
func (s *Store) ListAudit(ctx context.Context, q domain.AuditQuery) ([]domain.AuditEvent, error) {
	db := s.conn(ctx).Order("id DESC").Limit(q.Page.Limit)
	if q.Page.After > 0 {
		db = db.Where("id < ?", q.Page.After)
	}
	if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	if q.SubjectType != "" {
		db = db.Where("subject_type = ?", q.SubjectType)
	}
	if q.SubjectID != 0 {
		db = db.Where("subject_id = ?", q.SubjectID)
	}
	var rows []auditRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list audit events: %w", translate(err))
	}
	out := make([]domain.AuditEvent, len(rows))
	for i, r := range rows {
		e := domain.AuditEvent{ID: r.ID, At: r.At.UTC(), ActorID: deref(r.ActorID), ActorName: r.ActorName,
			Action: r.Action, SubjectType: r.SubjectType, SubjectID: deref(r.SubjectID), IP: r.IP, RequestID: r.RequestID}
		if err := json.Unmarshal([]byte(r.Detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit event %d has unreadable detail: %w", r.ID, err)
		}
		out[i] = e
	}
	return out, nil
}
