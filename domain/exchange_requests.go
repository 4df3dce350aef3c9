package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AskForSupport posts a request: one occasion, or one a week for RepeatWeeks weeks, linked as a
// series. Each occasion keeps the same local clock time across a change to or from summer time.
func (x *Exchange) AskForSupport(ctx context.Context, by Actor, in RequestInput) ([]Request, error) {
	m, err := x.poster(ctx, by, in.MemberID)
	if err != nil {
		return nil, err
	}
	now := x.clock.now()
	v := &ValidationError{}
	cat := x.category(ctx, v, in.Category)
	checkText(v, "description", strings.TrimSpace(in.Description), true, maxDescriptionLen,
		"Say what support is needed, such as a lift to the surgery and back")
	checkText(v, "private_notes", in.PrivateNotes, false, maxNotesLen, "")
	var who *SupportedPerson
	if in.ForSomeoneElse {
		who = &SupportedPerson{FirstName: strings.TrimSpace(in.ForWhomName), Relationship: strings.TrimSpace(in.ForWhomRelationship)}
		checkWho(v, who)
	}
	areaID := in.AreaID
	if areaID == 0 {
		areaID = m.AreaID
	}
	if areaID == 0 {
		v.Add("area_id", "Choose the area where the support is needed")
	} else {
		x.area(ctx, v, areaID)
	}
	checkWhen(v, in.Start, in.End, now)
	weeks := in.RepeatWeeks
	switch {
	case weeks < 0 || weeks > MaxSeriesWeeks:
		v.Add("repeat_weeks", "A weekly request can repeat for at most %d weeks", MaxSeriesWeeks)
	case weeks == 0:
		weeks = 1
	}
	urgency := parseUrgency(v, in.Urgency)
	if !in.ConsentToEscalate && in.ConsentContact {
		v.Add("consent_contact", "Sharing contact details with a formal service needs the agreement above it too")
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}

	base := Request{MemberID: m.ID, CategoryID: cat.ID, AreaID: areaID, Description: strings.TrimSpace(in.Description),
		PrivateNotes: strings.TrimSpace(in.PrivateNotes), ForWhom: who, Urgency: urgency,
		NeedsCheck: in.NeedsCheck || cat.RequiresCheck, Status: RequestOpen, CreatedBy: by.ID, CreatedAt: now, UpdatedAt: now}
	if in.ConsentToEscalate {
		base.Escalation = &EscalationConsent{Wording: escalationWording(in.ConsentContact), IncludesContact: in.ConsentContact, GivenAt: now}
	}
	// Every occasion must be a valid time on its own: a weekly time can fall into the hour the
	// clocks skip, or stretch past 12 hours across the night they go back.
	start, end := in.Start.In(x.loc), in.End.In(x.loc)
	for k := 1; k < weeks; k++ {
		s, e := weekLater(start, k), weekLater(end, k)
		if !e.After(s) || e.Sub(s) > MaxOccasion || s.In(x.loc).Format("15:04") != start.Format("15:04") {
			v.Add("repeat_weeks", "The occasion on %s falls when the clocks change, so it would not be %s to %s; ask for that week separately",
				s.In(x.loc).Format("Monday 2 January"), start.Format("15:04"), end.Format("15:04"))
			return nil, v
		}
	}
	var made []Request
	err = x.tx.Transact(ctx, func(ctx context.Context) error {
		if weeks > 1 {
			id, err := x.store.CreateSeries(ctx, m.ID, weeks, now)
			if err != nil {
				return err
			}
			base.SeriesID = id
		}
		for k := range weeks {
			r := base
			r.Start, r.End = weekLater(start, k), weekLater(end, k)
			if err := x.store.CreateRequest(ctx, &r); err != nil {
				return err
			}
			made = append(made, r)
		}
		detail := onBehalf(by, m)
		if weeks > 1 {
			detail["occasions"] = strconv.Itoa(weeks)
		}
		return x.audit.Record(ctx, by, AuditRequestPosted, "request", made[0].ID, detail)
	})
	if err != nil {
		return nil, fmt.Errorf("ask for support: %w", err)
	}
	return made, nil
}

// weekLater is t plus k weeks at the same wall-clock time in t's location.
func weekLater(t time.Time, k int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+7*k, t.Hour(), t.Minute(), t.Second(), 0, t.Location()).UTC()
}

func escalationWording(contact bool) string {
	if contact {
		return EscalationConsentWording + " " + EscalationContactWording
	}
	return EscalationConsentWording
}

// RequestView is a request as one person may see it.
type RequestView struct {
	RequestListing
	Category Category
	// Full: the viewer sees everything (its member, or a coordinator, whose view is audited).
	Full bool
	// Series holds the other occasions of its series, for the member and coordinators.
	Series []Request
}

// Request returns a request: in full to its member and to coordinators (a coordinator's view of
// someone else's request is written to the audit log), and to other members only while it is
// open and ahead, without anything private.
func (x *Exchange) Request(ctx context.Context, by Actor, id int64) (RequestView, error) {
	r, err := x.store.Request(ctx, id)
	if err != nil {
		return RequestView{}, fmt.Errorf("request %d: %w", id, err)
	}
	full := owns(by, r.MemberID)
	m, err := x.members.Member(ctx, r.MemberID)
	if err != nil {
		return RequestView{}, err
	}
	if !full && (r.Status != RequestOpen || !r.Start.After(x.clock.now()) || m.Status != StatusActive || !canPost(by.Role)) {
		return RequestView{}, fmt.Errorf("request %d: %w", id, ErrNotFound)
	}
	cat, err := x.catalogue.Category(ctx, r.CategoryID)
	if err != nil {
		return RequestView{}, err
	}
	view := RequestView{Category: cat, Full: full}
	if !full {
		r = r.ForNeighbours()
	} else {
		if by.ID != r.MemberID {
			if err := x.audit.Record(ctx, by, AuditRequestViewed, "request", id, map[string]string{"member": m.Name}); err != nil {
				return RequestView{}, err
			}
		}
		if r.SeriesID != 0 {
			if view.Series, err = x.store.SeriesRequests(ctx, r.SeriesID); err != nil {
				return RequestView{}, err
			}
		}
	}
	view.RequestListing = RequestListing{Request: r, FirstName: m.FirstName()}
	return view, nil
}

// UpdateRequest changes an open request. Its member or a coordinator only.
func (x *Exchange) UpdateRequest(ctx context.Context, by Actor, id int64, p RequestPatch) (Request, error) {
	var r Request
	err := x.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if r, err = x.store.Request(ctx, id); err != nil {
			return err
		}
		if !owns(by, r.MemberID) {
			visible, err := x.requestVisible(ctx, r)
			if err != nil {
				return err
			}
			return refuse(visible)
		}
		if r.Status != RequestOpen {
			return notOpen(r)
		}
		readAt, before := r.UpdatedAt, r
		cat, err := x.catalogue.Category(ctx, r.CategoryID)
		if err != nil {
			return err
		}
		now := x.clock.now()
		v := &ValidationError{}
		if p.Description != nil {
			r.Description = strings.TrimSpace(*p.Description)
			checkText(v, "description", r.Description, true, maxDescriptionLen, "Say what support is needed")
		}
		if p.PrivateNotes != nil {
			r.PrivateNotes = strings.TrimSpace(*p.PrivateNotes)
			checkText(v, "private_notes", r.PrivateNotes, false, maxNotesLen, "")
		}
		if p.ForWhom != nil {
			r.ForWhom = *p.ForWhom
			if r.ForWhom != nil {
				r.ForWhom = &SupportedPerson{FirstName: strings.TrimSpace(r.ForWhom.FirstName), Relationship: strings.TrimSpace(r.ForWhom.Relationship)}
			}
			checkWho(v, r.ForWhom)
		}
		if p.AreaID != nil {
			r.AreaID = *p.AreaID
			x.area(ctx, v, r.AreaID)
		}
		if p.Start != nil || p.End != nil {
			if p.Start != nil {
				r.Start = p.Start.UTC()
			}
			if p.End != nil {
				r.End = p.End.UTC()
			}
			checkWhen(v, r.Start, r.End, now)
		}
		if p.Urgency != nil {
			r.Urgency = parseUrgency(v, *p.Urgency)
		}
		if p.NeedsCheck != nil {
			r.NeedsCheck = *p.NeedsCheck || cat.RequiresCheck
		}
		x.patchConsent(v, &r, p, now)
		if err := v.OrNil(); err != nil {
			return err
		}
		r.UpdatedAt = now
		if err := x.store.UpdateRequest(ctx, r, readAt); err != nil {
			if errors.Is(err, ErrConflict) {
				fresh, ferr := x.store.Request(ctx, id)
				if ferr != nil {
					return ferr
				}
				if fresh.Status != RequestOpen {
					return notOpen(fresh)
				}
				return &ConflictError{Message: "Someone changed this request just now. Nothing you sent was saved; look at it again and make your change once more."}
			}
			return err
		}
		if changesTheNeed(before, r) {
			if err := withdraw(ctx, x.proposals, ProposalScope{RequestIDs: []int64{id}}, WithdrawnRequestChanged, now); err != nil {
				return err
			}
		}
		return x.audit.Record(ctx, by, AuditRequestChanged, "request", id, behalf(by, r.MemberID, nil))
	})
	if err != nil {
		return Request{}, fmt.Errorf("update request %d: %w", id, err)
	}
	return r, nil
}

// changesTheNeed reports whether an edit changes what a proposed helper was chosen for: a new
// private note or consent does not, a new time, place or description does.
func changesTheNeed(a, b Request) bool {
	who := func(p *SupportedPerson) SupportedPerson {
		if p == nil {
			return SupportedPerson{}
		}
		return *p
	}
	return a.Description != b.Description || a.AreaID != b.AreaID || !a.Start.Equal(b.Start) || !a.End.Equal(b.End) ||
		a.Urgency != b.Urgency || a.NeedsCheck != b.NeedsCheck || who(a.ForWhom) != who(b.ForWhom)
}

// patchConsent gives or withdraws the consent to escalate, keeping the wording and times.
func (x *Exchange) patchConsent(v *ValidationError, r *Request, p RequestPatch, now time.Time) {
	give, contact := r.ConsentToEscalate(), r.Escalation != nil && r.ConsentToEscalate() && r.Escalation.IncludesContact
	if p.ConsentToEscalate != nil {
		give = *p.ConsentToEscalate
	}
	if p.ConsentContact != nil {
		contact = *p.ConsentContact
	}
	if !give && contact {
		if p.ConsentContact != nil && *p.ConsentContact {
			v.Add("consent_contact", "Sharing contact details with a formal service needs the agreement above it too")
		}
		contact = false
	}
	switch {
	case give && (!r.ConsentToEscalate() || r.Escalation.IncludesContact != contact):
		r.Escalation = &EscalationConsent{Wording: escalationWording(contact), IncludesContact: contact, GivenAt: now}
	case !give && r.ConsentToEscalate():
		withdrawn := *r.Escalation
		withdrawn.WithdrawnAt = now
		r.Escalation = &withdrawn
	}
}

// notOpen explains why a request can no longer change, and what can still be done.
func notOpen(r Request) error {
	switch r.Status {
	case RequestMatched:
		return &ConflictError{Message: "This request is already matched with a helper, so it can no longer be changed. " +
			"You can still cancel it, with a reason, or ask a coordinator to change the arrangement."}
	case RequestCancelled:
		return &ConflictError{Message: "This request was cancelled. You can ask for support again with a new request."}
	case RequestEscalated:
		return &ConflictError{Message: "This request has been passed to a formal service, so it can no longer be changed here. Ask a coordinator."}
	}
	return &ConflictError{Message: "This request is " + strings.ToLower(r.Status.Label()) + ", so it can no longer be changed. You can ask for support again with a new request."}
}

// CancelRequest cancels an open request, or with wholeSeries every open occasion of its series
// still ahead, and says how many it cancelled. Its member or a coordinator only.
func (x *Exchange) CancelRequest(ctx context.Context, by Actor, id int64, reason string, wholeSeries bool) (int, error) {
	reason = strings.TrimSpace(reason)
	n := 0
	err := x.tx.Transact(ctx, func(ctx context.Context) error {
		r, err := x.store.Request(ctx, id)
		if err != nil {
			return err
		}
		if !owns(by, r.MemberID) {
			visible, err := x.requestVisible(ctx, r)
			if err != nil {
				return err
			}
			return refuse(visible)
		}
		v := &ValidationError{}
		checkText(v, "reason", reason, true, maxCancelReasonLen, "Say why it is cancelled, so that a coordinator knows")
		if err := v.OrNil(); err != nil {
			return err
		}
		now := x.clock.now()
		targets := []Request{r}
		if wholeSeries && r.SeriesID != 0 {
			if targets, err = x.store.SeriesRequests(ctx, r.SeriesID); err != nil {
				return err
			}
		} else if r.Status != RequestOpen {
			return notOpen(r)
		}
		for _, t := range targets {
			if t.Status != RequestOpen || (wholeSeries && !t.Start.After(now)) {
				continue
			}
			if err := x.store.CancelRequest(ctx, t.ID, reason, now); err != nil {
				return err
			}
			if err := withdraw(ctx, x.proposals, ProposalScope{RequestIDs: []int64{t.ID}}, WithdrawnRequestCancelled, now); err != nil {
				return err
			}
			if err := x.audit.Record(ctx, by, AuditRequestCancel, "request", t.ID, behalf(by, t.MemberID, map[string]string{"reason": reason})); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return &ConflictError{Message: "There is nothing left to cancel in this series."}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel request %d: %w", id, err)
	}
	return n, nil
}

// MemberRequests lists a member's requests: in full to the member, and to coordinators without
// the private details (each request's own view has those, and records that it was seen).
func (x *Exchange) MemberRequests(ctx context.Context, by Actor, memberID int64) ([]Request, error) {
	if !owns(by, memberID) {
		return nil, ErrForbidden
	}
	reqs, err := x.store.MemberRequests(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("requests of member %d: %w", memberID, err)
	}
	if by.ID != memberID {
		for i := range reqs {
			reqs[i] = reqs[i].ForNeighbours()
		}
	}
	return reqs, nil
}

// BrowseRequests lists open requests that are still ahead, soonest or newest first, as
// neighbours see them (nothing private, even for coordinators; the request's own page has that).
func (x *Exchange) BrowseRequests(ctx context.Context, by Actor, in BrowseInput) (BrowsePage[RequestListing], error) {
	s, err := x.scope(ctx, by, in)
	if err != nil {
		return BrowsePage[RequestListing]{}, err
	}
	sort := in.Sort
	switch sort {
	case "":
		sort = SortSoonest
	case SortSoonest, SortNewest:
	default:
		return BrowsePage[RequestListing]{}, Invalid("sort", "Sort by soonest or newest")
	}
	if s.after != nil && s.after.Sort != sort {
		return BrowsePage[RequestListing]{}, Invalid("cursor", "This cursor belongs to a list in another order; start again without it")
	}
	rows, err := x.store.ListRequests(ctx, RequestQuery{CategoryID: s.categoryID, AreaIDs: s.areaIDs, From: s.from, To: s.to,
		Words: s.words, Sort: sort, After: s.after, Limit: s.limit + 1, Now: x.clock.now()})
	if err != nil {
		return BrowsePage[RequestListing]{}, fmt.Errorf("browse requests: %w", err)
	}
	page := BrowsePage[RequestListing]{Items: rows}
	if len(rows) > s.limit {
		page.Items = rows[:s.limit]
		last := page.Items[s.limit-1]
		at := last.Start
		if sort == SortNewest {
			at = last.CreatedAt
		}
		page.Next = &Cursor{Sort: sort, At: at, ID: last.ID}
	}
	for i := range page.Items {
		page.Items[i].Request = page.Items[i].Request.ForNeighbours()
	}
	return page, nil
}
