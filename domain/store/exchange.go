package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
)

type slotJSON struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

type offerRow struct {
	ID           int64 `gorm:"primaryKey"`
	MemberID     int64
	CategoryID   int64
	Description  string
	Slots        string
	SlotDays     int
	RadiusKm     float64
	MaxPerWeek   int
	Status       string
	SearchText   string
	CreatedBy    *int64
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
	ConfirmedAt  time.Time
	StaleAskedAt *time.Time
}

func (offerRow) TableName() string { return "offers" }

func offerToRow(o domain.Offer) (offerRow, error) {
	slots := make([]slotJSON, len(o.Slots))
	for i, s := range o.Slots {
		slots[i] = slotJSON{Day: domain.DayCode(s.Day), From: domain.FormatClock(s.From), To: domain.FormatClock(s.To)}
	}
	b, err := json.Marshal(slots)
	if err != nil {
		return offerRow{}, err
	}
	confirmed := o.ConfirmedAt
	if confirmed.IsZero() { // an offer made elsewhere (the synthetic community) stands from its last change
		confirmed = o.UpdatedAt
	}
	return offerRow{ID: o.ID, MemberID: o.MemberID, CategoryID: o.CategoryID, Description: o.Description, Slots: string(b),
		SlotDays: domain.SlotDays(o.Slots), RadiusKm: o.RadiusKm, MaxPerWeek: o.MaxPerWeek, Status: string(o.Status),
		SearchText: strings.ToLower(o.Description), CreatedBy: nullID(o.CreatedBy), CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		ConfirmedAt: confirmed.UTC(), StaleAskedAt: nullTime(o.StaleAskedAt)}, nil
}

func (r offerRow) domain() (domain.Offer, error) {
	var slots []slotJSON
	if err := json.Unmarshal([]byte(r.Slots), &slots); err != nil {
		return domain.Offer{}, fmt.Errorf("store: offer %d has unreadable slots: %w", r.ID, err)
	}
	o := domain.Offer{ID: r.ID, MemberID: r.MemberID, CategoryID: r.CategoryID, Description: r.Description,
		RadiusKm: r.RadiusKm, MaxPerWeek: r.MaxPerWeek, Status: domain.OfferStatus(r.Status), CreatedBy: deref(r.CreatedBy),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ConfirmedAt: r.ConfirmedAt.UTC(), StaleAskedAt: derefTime(r.StaleAskedAt)}
	for _, s := range slots {
		day, ok1 := domain.ParseDay(s.Day)
		from, ok2 := domain.ParseClock(s.From)
		to, ok3 := domain.ParseClock(s.To)
		if !ok1 || !ok2 || !ok3 {
			return domain.Offer{}, fmt.Errorf("store: offer %d has an unreadable slot %+v", r.ID, s)
		}
		o.Slots = append(o.Slots, domain.Slot{Day: day, From: from, To: to})
	}
	return o, nil
}

// CreateOffer inserts an offer and sets its ID.
func (s *Store) CreateOffer(ctx context.Context, o *domain.Offer) error {
	row, err := offerToRow(*o)
	if err != nil {
		return err
	}
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create offer: %w", translate(err))
	}
	o.ID = row.ID
	return nil
}

// Offer returns one offer.
func (s *Store) Offer(ctx context.Context, id int64) (domain.Offer, error) {
	var row offerRow
	if err := s.conn(ctx).Take(&row, id).Error; err != nil {
		return domain.Offer{}, fmt.Errorf("store: unable to read offer %d: %w", id, translate(err))
	}
	return row.domain()
}

// UpdateOffer writes an offer's content (never its status) if it is not withdrawn and nobody has
// changed it since it was read, when its updated_at was readAt; ErrConflict otherwise.
func (s *Store) UpdateOffer(ctx context.Context, o domain.Offer, readAt time.Time) error {
	row, err := offerToRow(o)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&offerRow{}).Where("id = ? AND status <> ? AND updated_at = ?", o.ID, string(domain.OfferWithdrawn), readAt.UTC()).
		Updates(map[string]any{"category_id": row.CategoryID, "description": row.Description, "slots": row.Slots, "slot_days": row.SlotDays,
			"radius_km": row.RadiusKm, "max_per_week": row.MaxPerWeek, "search_text": row.SearchText, "updated_at": row.UpdatedAt,
			"confirmed_at": row.ConfirmedAt, "stale_asked_at": row.StaleAskedAt})
	return s.offerChanged(ctx, o.ID, res)
}

// SetOfferStatus moves an offer to another status while its status is one of from; moving it to
// active also records it as confirmed then, with nothing asked.
func (s *Store) SetOfferStatus(ctx context.Context, id int64, to domain.OfferStatus, at time.Time, from ...domain.OfferStatus) error {
	statuses := make([]string, len(from))
	for i, f := range from {
		statuses[i] = string(f)
	}
	changes := map[string]any{"status": string(to), "updated_at": at.UTC()}
	if to == domain.OfferActive {
		changes["confirmed_at"], changes["stale_asked_at"] = at.UTC(), nil
	}
	res := s.conn(ctx).Model(&offerRow{}).Where("id = ? AND status IN ?", id, statuses).Updates(changes)
	return s.offerChanged(ctx, id, res)
}

func (s *Store) offerChanged(ctx context.Context, id int64, res *gorm.DB) error {
	if res.Error != nil {
		return fmt.Errorf("store: unable to update offer %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		if _, err := s.Offer(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: offer %d changed meanwhile: %w", id, domain.ErrConflict)
	}
	return nil
}

// MemberOffers lists a member's offers, newest first.
func (s *Store) MemberOffers(ctx context.Context, memberID int64) ([]domain.Offer, error) {
	var rows []offerRow
	if err := s.conn(ctx).Where("member_id = ?", memberID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list offers: %w", translate(err))
	}
	out := make([]domain.Offer, len(rows))
	for i, r := range rows {
		o, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// offerListingRow is a row of the browse query; GORM fills only exported fields, so the offer is
// a named field rather than an embedded unexported type.
type offerListingRow struct {
	Offer     offerRow `gorm:"embedded"`
	FirstName string
	AreaID    *int64
}

// ListOffers returns active offers matching q, newest first, with the helper's name and area.
func (s *Store) ListOffers(ctx context.Context, q domain.OfferQuery) ([]domain.OfferListing, error) {
	db := s.conn(ctx).Table("offers o").
		Select("o.*, m.name AS first_name, m.area_id AS area_id").
		Joins("JOIN members m ON m.id = o.member_id").
		Where("o.status = ? AND m.status = ?", string(domain.OfferActive), string(domain.StatusActive))
	if q.CategoryID != 0 {
		db = db.Where("o.category_id = ?", q.CategoryID)
	}
	if q.AreaIDs != nil {
		db = db.Where("m.area_id IN ?", nonEmpty(q.AreaIDs))
	}
	if q.Days != 0 {
		db = db.Where("(o.slot_days & ?) <> 0", q.Days)
	}
	for _, w := range q.Words {
		db = db.Where(`o.search_text LIKE ? ESCAPE '\'`, "%"+escapeLike(w)+"%")
	}
	if q.After != nil {
		db = db.Where("(o.created_at < ? OR (o.created_at = ? AND o.id < ?))", q.After.At.UTC(), q.After.At.UTC(), q.After.ID)
	}
	var rows []offerListingRow
	if err := db.Order("o.created_at DESC, o.id DESC").Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to browse offers: %w", translate(err))
	}
	out := make([]domain.OfferListing, len(rows))
	for i, r := range rows {
		o, err := r.Offer.domain()
		if err != nil {
			return nil, err
		}
		out[i] = domain.OfferListing{Offer: o, FirstName: domain.Member{Name: r.FirstName}.FirstName(), AreaID: deref(r.AreaID)}
	}
	return out, nil
}

// nonEmpty keeps "IN ()" valid: an empty list matches nothing.
func nonEmpty(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}

type seriesRow struct {
	ID        int64 `gorm:"primaryKey"`
	MemberID  int64
	Weeks     int
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (seriesRow) TableName() string { return "request_series" }

// CreateSeries starts a weekly series of requests and returns its id.
func (s *Store) CreateSeries(ctx context.Context, memberID int64, weeks int, at time.Time) (int64, error) {
	row := seriesRow{MemberID: memberID, Weeks: weeks, CreatedAt: at.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return 0, fmt.Errorf("store: unable to create series: %w", translate(err))
	}
	return row.ID, nil
}

type requestRow struct {
	ID                           int64 `gorm:"primaryKey"`
	MemberID                     int64
	CategoryID                   int64
	AreaID                       int64
	SeriesID                     *int64
	Description                  string
	PrivateNotes                 string
	ForWhomName                  *string
	ForWhomRelationship          *string
	StartAt                      time.Time
	EndAt                        time.Time
	Urgency                      string
	NeedsCheck                   bool
	EscalationConsentWording     *string
	EscalationConsentContact     bool
	EscalationConsentAt          *time.Time
	EscalationConsentWithdrawnAt *time.Time
	Status                       string
	CancelReason                 string
	SearchText                   string
	CreatedBy                    *int64
	CreatedAt                    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt                    time.Time `gorm:"autoUpdateTime:false"`
}

func (requestRow) TableName() string { return "requests" }

func requestToRow(r domain.Request) requestRow {
	row := requestRow{ID: r.ID, MemberID: r.MemberID, CategoryID: r.CategoryID, AreaID: r.AreaID, SeriesID: nullID(r.SeriesID),
		Description: r.Description, PrivateNotes: r.PrivateNotes, StartAt: r.Start.UTC(), EndAt: r.End.UTC(),
		Urgency: string(r.Urgency), NeedsCheck: r.NeedsCheck, Status: string(r.Status), CancelReason: r.CancelReason,
		SearchText: strings.ToLower(r.Description), CreatedBy: nullID(r.CreatedBy), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.ForWhom != nil {
		row.ForWhomName, row.ForWhomRelationship = &r.ForWhom.FirstName, &r.ForWhom.Relationship
	}
	if e := r.Escalation; e != nil {
		row.EscalationConsentWording, row.EscalationConsentContact = &e.Wording, e.IncludesContact
		row.EscalationConsentAt, row.EscalationConsentWithdrawnAt = nullTime(e.GivenAt), nullTime(e.WithdrawnAt)
	}
	return row
}

func (r requestRow) domain() domain.Request {
	out := domain.Request{ID: r.ID, MemberID: r.MemberID, CategoryID: r.CategoryID, AreaID: r.AreaID, SeriesID: deref(r.SeriesID),
		Description: r.Description, PrivateNotes: r.PrivateNotes, Start: r.StartAt.UTC(), End: r.EndAt.UTC(),
		Urgency: domain.Urgency(r.Urgency), NeedsCheck: r.NeedsCheck, Status: domain.RequestStatus(r.Status),
		CancelReason: r.CancelReason, CreatedBy: deref(r.CreatedBy), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.ForWhomName != nil {
		out.ForWhom = &domain.SupportedPerson{FirstName: *r.ForWhomName, Relationship: deref(r.ForWhomRelationship)}
	}
	if r.EscalationConsentWording != nil {
		out.Escalation = &domain.EscalationConsent{Wording: *r.EscalationConsentWording, IncludesContact: r.EscalationConsentContact,
			GivenAt: derefTime(r.EscalationConsentAt), WithdrawnAt: derefTime(r.EscalationConsentWithdrawnAt)}
	}
	return out
}

// CreateRequest inserts a request and sets its ID.
func (s *Store) CreateRequest(ctx context.Context, r *domain.Request) error {
	row := requestToRow(*r)
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create request: %w", translate(err))
	}
	r.ID = row.ID
	return nil
}

// Request returns one request.
func (s *Store) Request(ctx context.Context, id int64) (domain.Request, error) {
	var row requestRow
	if err := s.conn(ctx).Take(&row, id).Error; err != nil {
		return domain.Request{}, fmt.Errorf("store: unable to read request %d: %w", id, translate(err))
	}
	return row.domain(), nil
}

// UpdateRequest writes a request's editable fields while it is open and nobody has changed it
// since it was read, when its updated_at was readAt; ErrConflict otherwise.
func (s *Store) UpdateRequest(ctx context.Context, r domain.Request, readAt time.Time) error {
	row := requestToRow(r)
	res := s.conn(ctx).Model(&requestRow{}).Where("id = ? AND status = ? AND updated_at = ?", r.ID, string(domain.RequestOpen), readAt.UTC()).
		Updates(map[string]any{
			"area_id": row.AreaID, "description": row.Description, "private_notes": row.PrivateNotes,
			"for_whom_name": row.ForWhomName, "for_whom_relationship": row.ForWhomRelationship,
			"start_at": row.StartAt, "end_at": row.EndAt, "urgency": row.Urgency, "needs_check": row.NeedsCheck,
			"escalation_consent_wording": row.EscalationConsentWording, "escalation_consent_contact": row.EscalationConsentContact,
			"escalation_consent_at": row.EscalationConsentAt, "escalation_consent_withdrawn_at": row.EscalationConsentWithdrawnAt,
			"search_text": row.SearchText, "updated_at": row.UpdatedAt})
	return s.requestChanged(ctx, r.ID, res)
}

// SetRequestStatus moves a request to another status, whatever it was (the matcher and tests).
func (s *Store) SetRequestStatus(ctx context.Context, id int64, status domain.RequestStatus, at time.Time) error {
	res := s.conn(ctx).Model(&requestRow{}).Where("id = ?", id).Updates(map[string]any{"status": string(status), "updated_at": at.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: unable to update request %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: request %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// CancelRequest cancels a request while it is open.
func (s *Store) CancelRequest(ctx context.Context, id int64, reason string, at time.Time) error {
	res := s.conn(ctx).Model(&requestRow{}).Where("id = ? AND status = ?", id, string(domain.RequestOpen)).
		Updates(map[string]any{"status": string(domain.RequestCancelled), "cancel_reason": reason, "updated_at": at.UTC()})
	return s.requestChanged(ctx, id, res)
}

func (s *Store) requestChanged(ctx context.Context, id int64, res *gorm.DB) error {
	if res.Error != nil {
		return fmt.Errorf("store: unable to update request %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		if _, err := s.Request(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: request %d changed meanwhile: %w", id, domain.ErrConflict)
	}
	return nil
}

func requestsOf(db *gorm.DB) ([]domain.Request, error) {
	var rows []requestRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Request, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// SeriesRequests lists the occasions of a series in time order.
func (s *Store) SeriesRequests(ctx context.Context, seriesID int64) ([]domain.Request, error) {
	out, err := requestsOf(s.conn(ctx).Where("series_id = ?", seriesID).Order("start_at, id"))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list series %d: %w", seriesID, err)
	}
	return out, nil
}

// MemberRequests lists a member's requests, soonest first.
func (s *Store) MemberRequests(ctx context.Context, memberID int64) ([]domain.Request, error) {
	out, err := requestsOf(s.conn(ctx).Where("member_id = ?", memberID).Order("start_at, id"))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list requests: %w", err)
	}
	return out, nil
}

type requestListingRow struct {
	Request   requestRow `gorm:"embedded"`
	FirstName string
}

// ListRequests returns open requests still ahead that match q, soonest or newest first.
func (s *Store) ListRequests(ctx context.Context, q domain.RequestQuery) ([]domain.RequestListing, error) {
	db := s.conn(ctx).Table("requests r").
		Select("r.*, m.name AS first_name").
		Joins("JOIN members m ON m.id = r.member_id").
		Where("r.status = ? AND r.start_at > ? AND m.status = ?", string(domain.RequestOpen), q.Now.UTC(), string(domain.StatusActive))
	if q.CategoryID != 0 {
		db = db.Where("r.category_id = ?", q.CategoryID)
	}
	if q.AreaIDs != nil {
		db = db.Where("r.area_id IN ?", nonEmpty(q.AreaIDs))
	}
	if !q.From.IsZero() {
		db = db.Where("r.start_at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		db = db.Where("r.start_at < ?", q.To.UTC())
	}
	for _, w := range q.Words {
		db = db.Where(`r.search_text LIKE ? ESCAPE '\'`, "%"+escapeLike(w)+"%")
	}
	if q.Sort == domain.SortNewest {
		if q.After != nil {
			db = db.Where("(r.created_at < ? OR (r.created_at = ? AND r.id < ?))", q.After.At.UTC(), q.After.At.UTC(), q.After.ID)
		}
		db = db.Order("r.created_at DESC, r.id DESC")
	} else {
		if q.After != nil {
			db = db.Where("(r.start_at > ? OR (r.start_at = ? AND r.id > ?))", q.After.At.UTC(), q.After.At.UTC(), q.After.ID)
		}
		db = db.Order("r.start_at, r.id")
	}
	var rows []requestListingRow
	if err := db.Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to browse requests: %w", translate(err))
	}
	out := make([]domain.RequestListing, len(rows))
	for i, r := range rows {
		out[i] = domain.RequestListing{Request: r.Request.domain(), FirstName: domain.Member{Name: r.FirstName}.FirstName()}
	}
	return out, nil
}
