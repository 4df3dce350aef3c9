package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ExchangeStore keeps offers and requests.
type ExchangeStore interface {
	CreateOffer(ctx context.Context, o *Offer) error
	Offer(ctx context.Context, id int64) (Offer, error)
	// UpdateOffer writes o's content and ConfirmedAt and StaleAskedAt, never its status, if it is
	// not withdrawn and unchanged since it was read at readAt (its updated_at then); ErrConflict
	// otherwise.
	UpdateOffer(ctx context.Context, o Offer, readAt time.Time) error
	// SetOfferStatus moves an offer to `to` while its status is one of from (ErrConflict otherwise).
	// Moving it to active also records it as confirmed at `at`, with nothing asked.
	SetOfferStatus(ctx context.Context, id int64, to OfferStatus, at time.Time, from ...OfferStatus) error
	ListOffers(ctx context.Context, q OfferQuery) ([]OfferListing, error)
	MemberOffers(ctx context.Context, memberID int64) ([]Offer, error)

	CreateSeries(ctx context.Context, memberID int64, weeks int, at time.Time) (int64, error)
	CreateRequest(ctx context.Context, r *Request) error
	Request(ctx context.Context, id int64) (Request, error)
	// UpdateRequest writes r's fields while the stored request is open and unchanged since it was
	// read at readAt (ErrConflict otherwise), so that an edit cannot undo a change made meanwhile.
	UpdateRequest(ctx context.Context, r Request, readAt time.Time) error
	// CancelRequest cancels a request while it is open (ErrConflict otherwise).
	CancelRequest(ctx context.Context, id int64, reason string, at time.Time) error
	SeriesRequests(ctx context.Context, seriesID int64) ([]Request, error)
	ListRequests(ctx context.Context, q RequestQuery) ([]RequestListing, error)
	MemberRequests(ctx context.Context, memberID int64) ([]Request, error)
}

// OfferListing is an offer with what a neighbour sees of the helper.
type OfferListing struct {
	Offer
	FirstName string
	AreaID    int64 // the helper's area, which stands for where they are
}

// RequestListing is a request with the requester's first name.
type RequestListing struct {
	Request
	FirstName string
}

// Cursor marks where a page of a browse list ended: the order it was in, and the sort time and
// id of its last item.
type Cursor struct {
	Sort string // SortSoonest or SortNewest
	At   time.Time
	ID   int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	return cursorLetters[c.Sort] + strconv.FormatInt(c.At.UnixNano(), 36) + "." + strconv.FormatInt(c.ID, 36)
}

// ParseCursor reads a cursor written by String.
func ParseCursor(s string) (Cursor, bool) {
	if len(s) < 2 {
		return Cursor{}, false
	}
	sort := ""
	for name, letter := range cursorLetters {
		if letter == s[:1] {
			sort = name
		}
	}
	at, id, ok := strings.Cut(s[1:], ".")
	if sort == "" || !ok {
		return Cursor{}, false
	}
	ns, err1 := strconv.ParseInt(at, 36, 64)
	n, err2 := strconv.ParseInt(id, 36, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, false
	}
	return Cursor{Sort: sort, At: time.Unix(0, ns).UTC(), ID: n}, true
}

// cursorLetters mark each sort order in an encoded cursor.
var cursorLetters = map[string]string{SortSoonest: "s", SortNewest: "n", SortQueueUrgent: "u", SortQueueSoon: "o", SortQueueRoutine: "r"}

// Sort orders for browsing requests.
const (
	SortSoonest = "soonest"
	SortNewest  = "newest"
)

// BrowseInput is what someone asks of the browse lists, as typed; the service checks it.
type BrowseInput struct {
	Category string  // slug, or empty for any
	AreaID   int64   // an area, or 0 for any
	WithinKm float64 // how far from the person's own area, or 0 for any distance
	From, To string  // dates, YYYY-MM-DD, in the co-op's time zone; empty for open-ended
	Query    string  // words that must all be in the description
	Sort     string  // soonest (requests only) or newest
	Cursor   string
	Limit    int
}

// OfferQuery selects active offers, newest first.
type OfferQuery struct {
	CategoryID int64
	AreaIDs    []int64 // nil for any area
	Days       int     // weekdays (bit 0 is Sunday) a slot must fall on; 0 for any
	Words      []string
	After      *Cursor
	Limit      int
}

// RequestQuery selects open requests that start after Now.
type RequestQuery struct {
	CategoryID int64
	AreaIDs    []int64 // nil for any area
	From, To   time.Time
	Words      []string
	Sort       string
	After      *Cursor
	Limit      int
	Now        time.Time
}

// BrowsePage is one page of a browse list and the cursor of the next (nil on the last page).
type BrowsePage[T any] struct {
	Items []T
	Next  *Cursor
}

// Audited actions on offers and requests.
const (
	AuditOfferPosted    = "offer.posted"
	AuditOfferChanged   = "offer.changed"
	AuditRequestPosted  = "request.posted"
	AuditRequestChanged = "request.changed"
	AuditRequestCancel  = "request.cancelled"
	AuditRequestViewed  = "request.viewed"
	maxCancelReasonLen  = 1000
	defaultBrowsePage   = 20
	maxBrowsePage       = 100
	dateLayout          = "2006-01-02"
)

// Exchange runs the offers and requests of support: posting, finding and managing them, by
// members for themselves or by coordinators on a member's behalf.
type Exchange struct {
	store     ExchangeStore
	proposals ProposalStore
	members   MemberStore
	catalogue CatalogueStore
	tx        Transactor
	audit     *Audit
	clock     Clock
	loc       *time.Location
}

// NewExchange returns the offers and requests service; loc is the co-op's time zone.
func NewExchange(store ExchangeStore, proposals ProposalStore, members MemberStore, catalogue CatalogueStore, tx Transactor, audit *Audit, clock Clock, loc *time.Location) *Exchange {
	return &Exchange{store: store, proposals: proposals, members: members, catalogue: catalogue, tx: tx, audit: audit, clock: clock, loc: loc}
}

// Location is the co-op's time zone, in which slots and dates are read.
func (x *Exchange) Location() *time.Location { return x.loc }

// canPost reports whether the role may offer or ask for support (formal services may not).
func canPost(r Role) bool { return r == RoleMember || r == RoleCoordinator || r == RoleAdmin }

// poster finds the member a post is for: the actor, or, for a coordinator, another member
// (assisted use, for someone who is not online).
func (x *Exchange) poster(ctx context.Context, by Actor, memberID int64) (Member, error) {
	if !canPost(by.Role) {
		return Member{}, ErrForbidden
	}
	if memberID == 0 {
		memberID = by.ID
	}
	if memberID != by.ID && !by.Role.Coordinates() {
		return Member{}, ErrForbidden
	}
	m, err := x.members.Member(ctx, memberID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, Invalid("member_id", "There is no member number %d", memberID)
	}
	if err != nil {
		return Member{}, err
	}
	if m.Status != StatusActive {
		return Member{}, Invalid("member_id", "%s is not an active member", m.Name)
	}
	return m, nil
}

// owns reports whether by may manage a post of memberID: its member, or a coordinator.
func owns(by Actor, memberID int64) bool { return by.ID == memberID || by.Role.Coordinates() }

// refuse is the answer to someone changing a post that is not theirs: 403 when they can see the
// post anyway, 404 when they could not (so that hidden posts cannot be found by trying ids).
func refuse(visible bool) error {
	if visible {
		return ErrForbidden
	}
	return ErrNotFound
}

// offerVisible reports whether neighbours may see an offer: active, from an active member.
func (x *Exchange) offerVisible(ctx context.Context, o Offer) (bool, error) {
	if o.Status != OfferActive {
		return false, nil
	}
	return x.memberActive(ctx, o.MemberID)
}

// requestVisible reports whether neighbours may see a request: open, ahead, from an active member.
func (x *Exchange) requestVisible(ctx context.Context, r Request) (bool, error) {
	if r.Status != RequestOpen || !r.Start.After(x.clock.now()) {
		return false, nil
	}
	return x.memberActive(ctx, r.MemberID)
}

func (x *Exchange) memberActive(ctx context.Context, id int64) (bool, error) {
	m, err := x.members.Member(ctx, id)
	if err != nil {
		return false, err
	}
	return m.Status == StatusActive, nil
}

// behalf is the audit detail of a change made by someone other than the post's member.
func behalf(by Actor, memberID int64, detail map[string]string) map[string]string {
	if detail == nil {
		detail = map[string]string{}
	}
	if by.ID != memberID {
		detail["on_behalf_of_member"] = strconv.FormatInt(memberID, 10)
	}
	return detail
}

// Now is the time by the service's clock.
func (x *Exchange) Now() time.Time { return x.clock.now() }

func (x *Exchange) category(ctx context.Context, v *ValidationError, slug string) Category {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		v.Add("category", "Choose the kind of support")
		return Category{}
	}
	c, err := x.catalogue.CategoryBySlug(ctx, strings.ToLower(slug))
	if err != nil {
		v.Add("category", "Choose a kind of support from the list; there is none called %q", slug)
	}
	return c
}

func (x *Exchange) area(ctx context.Context, v *ValidationError, id int64) {
	if _, err := x.catalogue.Area(ctx, id); err != nil {
		v.Add("area_id", "Choose an area from the list; there is no area number %d", id)
	}
}

// onBehalf is the audit detail of a post made by someone other than its member.
func onBehalf(by Actor, m Member) map[string]string {
	detail := behalf(by, m.ID, nil)
	if by.ID != m.ID {
		detail["on_behalf_of"] = m.Name
	}
	return detail
}

// PostOffer posts an offer of support.
func (x *Exchange) PostOffer(ctx context.Context, by Actor, in OfferInput) (Offer, error) {
	m, err := x.poster(ctx, by, in.MemberID)
	if err != nil {
		return Offer{}, err
	}
	v := &ValidationError{}
	cat := x.category(ctx, v, in.Category)
	slots := in.Validate(v)
	if m.AreaID == 0 {
		v.Add("member_id", "%s has no area yet; a coordinator needs to set one, so that neighbours know roughly where they are", m.Name)
	}
	if err := v.OrNil(); err != nil {
		return Offer{}, err
	}
	now := x.clock.now()
	o := Offer{MemberID: m.ID, CategoryID: cat.ID, Description: strings.TrimSpace(in.Description), Slots: slots,
		RadiusKm: *in.RadiusKm, MaxPerWeek: *in.MaxPerWeek, Status: OfferActive, CreatedBy: by.ID, CreatedAt: now, UpdatedAt: now, ConfirmedAt: now}
	err = x.tx.Transact(ctx, func(ctx context.Context) error {
		if err := x.store.CreateOffer(ctx, &o); err != nil {
			return err
		}
		return x.audit.Record(ctx, by, AuditOfferPosted, "offer", o.ID, onBehalf(by, m))
	})
	if err != nil {
		return Offer{}, fmt.Errorf("post offer: %w", err)
	}
	return o, nil
}

// OfferView is an offer as one person may see it.
type OfferView struct {
	OfferListing
	Category Category
	// Manage: the viewer may change it (its member, or a coordinator).
	Manage bool
}

// Offer returns an offer: in full to its member and coordinators, to other members only while
// it is active.
func (x *Exchange) Offer(ctx context.Context, by Actor, id int64) (OfferView, error) {
	o, err := x.store.Offer(ctx, id)
	if err != nil {
		return OfferView{}, fmt.Errorf("offer %d: %w", id, err)
	}
	manage := owns(by, o.MemberID)
	m, err := x.members.Member(ctx, o.MemberID)
	if err != nil {
		return OfferView{}, err
	}
	if !manage && (o.Status != OfferActive || m.Status != StatusActive || !canPost(by.Role)) {
		return OfferView{}, fmt.Errorf("offer %d: %w", id, ErrNotFound)
	}
	cat, err := x.catalogue.Category(ctx, o.CategoryID)
	if err != nil {
		return OfferView{}, err
	}
	if !manage {
		o.CreatedBy = 0
	}
	return OfferView{OfferListing: OfferListing{Offer: o, FirstName: m.FirstName(), AreaID: m.AreaID}, Category: cat, Manage: manage}, nil
}

// OfferPatch changes some fields of an offer; nil fields stay as they are.
type OfferPatch struct {
	Category    *string
	Description *string
	Slots       *[]SlotInput
	RadiusKm    *float64
	MaxPerWeek  *int
}

// UpdateOffer changes an offer that is not withdrawn. Its member or a coordinator only.
func (x *Exchange) UpdateOffer(ctx context.Context, by Actor, id int64, p OfferPatch) (Offer, error) {
	var o Offer
	err := x.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if o, err = x.store.Offer(ctx, id); err != nil {
			return err
		}
		if !owns(by, o.MemberID) {
			visible, err := x.offerVisible(ctx, o)
			if err != nil {
				return err
			}
			return refuse(visible)
		}
		if o.Status == OfferWithdrawn {
			return errWithdrawn
		}
		cat, err := x.catalogue.Category(ctx, o.CategoryID)
		if err != nil {
			return err
		}
		in := OfferInput{Category: cat.Slug, Description: o.Description, Slots: slotInputs(o.Slots), RadiusKm: &o.RadiusKm, MaxPerWeek: &o.MaxPerWeek}
		if p.Category != nil {
			in.Category = *p.Category
		}
		if p.Description != nil {
			in.Description = *p.Description
		}
		if p.Slots != nil {
			in.Slots = *p.Slots
		}
		if p.RadiusKm != nil {
			in.RadiusKm = p.RadiusKm
		}
		if p.MaxPerWeek != nil {
			in.MaxPerWeek = p.MaxPerWeek
		}
		v := &ValidationError{}
		newCat := x.category(ctx, v, in.Category)
		slots := in.Validate(v)
		if err := v.OrNil(); err != nil {
			return err
		}
		readAt, before := o.UpdatedAt, o
		o.CategoryID, o.Description, o.Slots = newCat.ID, strings.TrimSpace(in.Description), slots
		o.RadiusKm, o.MaxPerWeek, o.UpdatedAt = *in.RadiusKm, *in.MaxPerWeek, x.clock.now()
		// Someone looking after the offer closely enough to change it says it stands.
		o.ConfirmedAt, o.StaleAskedAt = o.UpdatedAt, time.Time{}
		if err := x.store.UpdateOffer(ctx, o, readAt); err != nil {
			if errors.Is(err, ErrConflict) {
				return x.offerConflict(ctx, id)
			}
			return err
		}
		// A proposal made from when and how far the helper said they could go may no longer
		// hold; the next pass looks again.
		if before.CategoryID != o.CategoryID || before.RadiusKm != o.RadiusKm || before.MaxPerWeek != o.MaxPerWeek || !slices.Equal(before.Slots, o.Slots) {
			if err := withdraw(ctx, x.proposals, ProposalScope{OfferID: id}, WithdrawnOfferChanged, o.UpdatedAt); err != nil {
				return err
			}
		}
		return x.audit.Record(ctx, by, AuditOfferChanged, "offer", id, behalf(by, o.MemberID, map[string]string{"change": "edited"}))
	})
	if err != nil {
		return Offer{}, fmt.Errorf("update offer %d: %w", id, err)
	}
	return o, nil
}

var errWithdrawn = &ConflictError{Message: "This offer was withdrawn, so it can no longer change. You can post a new one."}

// offerConflict explains why a change to an offer did not take.
func (x *Exchange) offerConflict(ctx context.Context, id int64) error {
	fresh, err := x.store.Offer(ctx, id)
	if err != nil {
		return err
	}
	if fresh.Status == OfferWithdrawn {
		return errWithdrawn
	}
	return &ConflictError{Message: "Someone changed this offer just now (it is " + strings.ToLower(fresh.Status.Label()) +
		"). Nothing you sent was saved; look at it again and make your change once more."}
}

func slotInputs(slots []Slot) []SlotInput {
	out := make([]SlotInput, len(slots))
	for i, s := range slots {
		out[i] = SlotInput{Day: DayCode(s.Day), From: FormatClock(s.From), To: FormatClock(s.To)}
	}
	return out
}

// SetOfferStatus pauses, resumes or withdraws an offer. Its member or a coordinator only.
func (x *Exchange) SetOfferStatus(ctx context.Context, by Actor, id int64, to OfferStatus) (Offer, error) {
	from := map[OfferStatus][]OfferStatus{
		OfferPaused:    {OfferActive},
		OfferActive:    {OfferPaused},
		OfferWithdrawn: {OfferActive, OfferPaused},
	}[to]
	if from == nil {
		return Offer{}, Invalid("status", "An offer can be active, paused or withdrawn")
	}
	var o Offer
	err := x.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if o, err = x.store.Offer(ctx, id); err != nil {
			return err
		}
		if !owns(by, o.MemberID) {
			visible, err := x.offerVisible(ctx, o)
			if err != nil {
				return err
			}
			return refuse(visible)
		}
		if o.Status == to {
			return nil
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || o.Status == f
		}
		if !allowed {
			return &ConflictError{Message: "This offer is " + strings.ToLower(o.Status.Label()) + ", so it cannot be " + statusVerb(to) + "."}
		}
		o.Status, o.UpdatedAt = to, x.clock.now()
		if to == OfferActive { // resuming says it stands (the store records it so)
			o.ConfirmedAt, o.StaleAskedAt = o.UpdatedAt, time.Time{}
		}
		if err := x.store.SetOfferStatus(ctx, id, to, o.UpdatedAt, from...); err != nil {
			if errors.Is(err, ErrConflict) {
				return x.offerConflict(ctx, id)
			}
			return err
		}
		if to != OfferActive {
			if err := withdraw(ctx, x.proposals, ProposalScope{OfferID: id}, WithdrawnOfferStopped, o.UpdatedAt); err != nil {
				return err
			}
		}
		return x.audit.Record(ctx, by, AuditOfferChanged, "offer", id, behalf(by, o.MemberID, map[string]string{"change": string(to)}))
	})
	if err != nil {
		return Offer{}, fmt.Errorf("offer %d to %s: %w", id, to, err)
	}
	return o, nil
}

func statusVerb(s OfferStatus) string {
	switch s {
	case OfferPaused:
		return "paused"
	case OfferActive:
		return "resumed"
	}
	return "withdrawn"
}

// MemberOffers lists a member's offers, to the member and to coordinators.
func (x *Exchange) MemberOffers(ctx context.Context, by Actor, memberID int64) ([]Offer, error) {
	if !owns(by, memberID) {
		return nil, ErrForbidden
	}
	offers, err := x.store.MemberOffers(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("offers of member %d: %w", memberID, err)
	}
	return offers, nil
}

// browseScope checks the parts of a browse both lists share, for a viewer who may browse.
type browseScope struct {
	categoryID int64
	areaIDs    []int64
	from, to   time.Time // the first instant of From, and the first instant after To
	words      []string
	after      *Cursor
	limit      int
}

func (x *Exchange) scope(ctx context.Context, by Actor, in BrowseInput) (browseScope, error) {
	if !canPost(by.Role) {
		return browseScope{}, ErrForbidden
	}
	v := &ValidationError{}
	var s browseScope
	if in.Category != "" {
		s.categoryID = x.category(ctx, v, in.Category).ID
	}
	areas, err := x.catalogue.Areas(ctx)
	if err != nil {
		return browseScope{}, err
	}
	if in.AreaID != 0 {
		if _, ok := areaByID(areas, in.AreaID); !ok {
			v.Add("area_id", "Choose an area from the list; there is no area number %d", in.AreaID)
		}
		s.areaIDs = []int64{in.AreaID}
	}
	if in.WithinKm != 0 {
		s.areaIDs = x.within(ctx, v, by, areas, in.WithinKm, s.areaIDs)
	}
	parseDate := func(field, raw string) time.Time {
		if raw == "" {
			return time.Time{}
		}
		d, err := time.ParseInLocation(dateLayout, raw, x.loc)
		if err != nil {
			v.Add(field, "Give the date as YYYY-MM-DD, such as 2026-03-14")
		}
		return d
	}
	s.from = parseDate("from", in.From)
	if to := parseDate("to", in.To); !to.IsZero() {
		s.to = to.AddDate(0, 0, 1)
		if !s.from.IsZero() && !s.to.After(s.from) {
			v.Add("to", "The last date must not be before the first")
		}
	}
	s.words = SearchWords(in.Query)
	if in.Cursor != "" {
		c, ok := ParseCursor(in.Cursor)
		if !ok {
			v.Add("cursor", "This cursor is not one the API gave; start again without it")
		}
		s.after = &c
	}
	switch {
	case in.Limit == 0:
		s.limit = defaultBrowsePage
	case in.Limit < 1 || in.Limit > maxBrowsePage:
		v.Add("limit", "Give a limit between 1 and %d", maxBrowsePage)
	default:
		s.limit = in.Limit
	}
	return s, v.OrNil()
}

// within narrows the areas to those whose centre is within km of the viewer's own area.
func (x *Exchange) within(ctx context.Context, v *ValidationError, by Actor, areas []Area, km float64, only []int64) []int64 {
	if km < 0 || km > 200 || math.IsNaN(km) {
		v.Add("within_km", "Give a distance between 0 and 200 km")
		return only
	}
	me, err := x.members.Member(ctx, by.ID)
	if err != nil || me.AreaID == 0 {
		v.Add("within_km", "Your account has no area, so distances cannot be measured from it; choose an area instead")
		return only
	}
	home, ok := areaByID(areas, me.AreaID)
	if !ok {
		v.Add("within_km", "Your area is no longer on the list, so distances cannot be measured from it; choose an area instead")
		return only
	}
	ids := []int64{}
	for _, a := range areas {
		if DistanceKm(home.Lat, home.Lon, a.Lat, a.Lon) <= km && (only == nil || containsID(only, a.ID)) {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func areaByID(areas []Area, id int64) (Area, bool) {
	for _, a := range areas {
		if a.ID == id {
			return a, true
		}
	}
	return Area{}, false
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// DistanceKm is the great-circle distance between two points, in km.
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKm = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// BrowseOffers lists active offers, newest first. Anyone who may post may browse.
func (x *Exchange) BrowseOffers(ctx context.Context, by Actor, in BrowseInput) (BrowsePage[OfferListing], error) {
	s, err := x.scope(ctx, by, in)
	if err != nil {
		return BrowsePage[OfferListing]{}, err
	}
	if in.Sort != "" && in.Sort != SortNewest {
		return BrowsePage[OfferListing]{}, Invalid("sort", "Offers are listed newest first; there is no other order")
	}
	if s.after != nil && s.after.Sort != SortNewest {
		return BrowsePage[OfferListing]{}, Invalid("cursor", "This cursor belongs to another list; start again without it")
	}
	days := 0 // an offer is weekly: a date range narrows it to the weekdays in the range
	if !s.from.IsZero() && !s.to.IsZero() {
		days = DaysBetween(s.from, s.to.Add(-time.Nanosecond), x.loc)
	}
	rows, err := x.store.ListOffers(ctx, OfferQuery{CategoryID: s.categoryID, AreaIDs: s.areaIDs, Days: days,
		Words: s.words, After: s.after, Limit: s.limit + 1})
	if err != nil {
		return BrowsePage[OfferListing]{}, fmt.Errorf("browse offers: %w", err)
	}
	page := BrowsePage[OfferListing]{Items: rows}
	if len(rows) > s.limit {
		page.Items = rows[:s.limit]
		last := page.Items[s.limit-1]
		page.Next = &Cursor{Sort: SortNewest, At: last.CreatedAt, ID: last.ID}
	}
	for i := range page.Items {
		if !owns(by, page.Items[i].MemberID) {
			page.Items[i].CreatedBy = 0
		}
	}
	return page, nil
}
