package domain_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// exchangeWorld adds the offers and requests service and two more areas to world.
type exchangeWorld struct {
	*world
	x                  *domain.Exchange
	riverside, farAway domain.Area
	ann, bob           domain.Member // members in Bridge End
	annA, bobA         domain.Actor
}

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func newExchangeWorld(t *testing.T, st *store.Store) *exchangeWorld {
	t.Helper()
	w := &exchangeWorld{world: newWorld(t, st)}
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	w.x = domain.NewExchange(st, st, st, st, st, w.audit, clock, london)
	ctx := context.Background()
	mk := func(name, code string, lat, lon float64) domain.Area {
		a, err := w.catalogue.CreateArea(ctx, w.coord, domain.AreaInput{Name: name, Code: code, Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	w.riverside = mk("Riverside", "RV2", 53.3920, -1.4570) // about 1.5 km from Bridge End
	w.farAway = mk("Far Away", "FA9", 53.60, -1.10)        // about 35 km away
	w.ann = w.add(t, w.coord, "Ann Lee", "ann@example.org", domain.RoleMember)
	w.bob = w.add(t, w.coord, "Bob Okoro", "bob@example.org", domain.RoleMember)
	w.annA = domain.Actor{ID: w.ann.ID, Name: w.ann.Name, Role: domain.RoleMember}
	w.bobA = domain.Actor{ID: w.bob.ID, Name: w.bob.Name, Role: domain.RoleMember}
	return w
}

func ptr[T any](v T) *T { return &v }

func lifts(slots ...domain.SlotInput) domain.OfferInput {
	return domain.OfferInput{Category: "transport", Description: "Lifts to appointments in a small car",
		Slots: slots, RadiusKm: ptr(5.0), MaxPerWeek: ptr(2)}
}

// at is a local time in London on the test's calendar.
func at(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, london) }

func TestOfferValidation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		cases := []struct {
			name   string
			in     domain.OfferInput
			fields string
		}{
			{"nothing", domain.OfferInput{}, "category,description,slots,radius_km,max_per_week"},
			{"unknown category", func() domain.OfferInput {
				in := lifts(domain.SlotInput{"tue", "13:00", "17:00"})
				in.Category = "juggling"
				return in
			}(), "category"},
			{"end before start", lifts(domain.SlotInput{"tue", "17:00", "13:00"}), "slots[0].to"},
			{"not in quarter hours", lifts(domain.SlotInput{"tue", "13:10", "17:00"}), "slots[0].from"},
			{"no such day", lifts(domain.SlotInput{"funday", "13:00", "17:00"}), "slots[0].day"},
			{"overlapping", lifts(domain.SlotInput{"tue", "13:00", "15:00"}, domain.SlotInput{"thu", "09:00", "10:00"}, domain.SlotInput{"tue", "14:45", "17:00"}), "slots[2].from"},
			{"radius too small", func() domain.OfferInput {
				in := lifts(domain.SlotInput{"tue", "13:00", "17:00"})
				in.RadiusKm = ptr(0.4)
				return in
			}(), "radius_km"},
			{"radius too large", func() domain.OfferInput {
				in := lifts(domain.SlotInput{"tue", "13:00", "17:00"})
				in.RadiusKm = ptr(50.5)
				return in
			}(), "radius_km"},
			{"too many a week", func() domain.OfferInput {
				in := lifts(domain.SlotInput{"tue", "13:00", "17:00"})
				in.MaxPerWeek = ptr(0)
				return in
			}(), "max_per_week"},
		}
		for _, c := range cases {
			_, err := w.x.PostOffer(ctx, w.annA, c.in)
			if got := strings.Join(fieldsOf(err), ","); got != c.fields {
				t.Errorf("%s: invalid fields %q, want %q (%v)", c.name, got, c.fields, err)
			}
		}
		// Slots that touch do not overlap; the edges of the day are allowed.
		o, err := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{"tue", "13:00", "15:00"}, domain.SlotInput{"Tuesday", "15:00", "17:00"},
			domain.SlotInput{"sat", "00:00", "24:00"}, domain.SlotInput{"", "", ""}))
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Slots) != 3 || o.Slots[2].String() != "Saturday 00:00–24:00" || o.CreatedBy != w.ann.ID {
			t.Errorf("stored %+v", o)
		}
		mine, _ := w.x.MemberOffers(ctx, w.annA, w.ann.ID)
		if len(mine) != 1 || len(mine[0].Slots) != 3 {
			t.Errorf("read back %+v", mine)
		}
	})
}

func TestOfferLifeAndWhoMayChangeIt(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		o, err := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{"tue", "13:00", "17:00"}))
		if err != nil {
			t.Fatal(err)
		}
		if v, err := w.x.Offer(ctx, w.bobA, o.ID); err != nil || v.Manage || v.FirstName != "Ann" || v.AreaID != w.area.ID {
			t.Errorf("a neighbour's view: %+v %v", v, err)
		}
		if _, err := w.x.UpdateOffer(ctx, w.bobA, o.ID, domain.OfferPatch{Description: ptr("Mine now")}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("someone else editing: %v", err)
		}
		if _, err := w.x.SetOfferStatus(ctx, w.bobA, o.ID, domain.OfferWithdrawn); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("someone else withdrawing: %v", err)
		}
		if v, _ := w.x.Offer(ctx, w.annA, o.ID); v.Description != "Lifts to appointments in a small car" || v.Status != domain.OfferActive {
			t.Errorf("changed by someone else: %+v", v.Offer)
		}
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferPaused); err != nil {
			t.Fatal(err)
		}
		if _, err := w.x.Offer(ctx, w.bobA, o.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a paused offer shown to a neighbour: %v", err)
		}
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferActive); err != nil {
			t.Errorf("resume: %v", err)
		}
		if _, err := w.x.UpdateOffer(ctx, w.coord, o.ID, domain.OfferPatch{Slots: &[]domain.SlotInput{{"wed", "10:00", "12:00"}}}); err != nil {
			t.Errorf("a coordinator editing: %v", err)
		}
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferWithdrawn); err != nil {
			t.Fatal(err)
		}
		var conflict *domain.ConflictError
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferActive); !errors.As(err, &conflict) {
			t.Errorf("resuming a withdrawn offer: %v", err)
		}
		if _, err := w.x.UpdateOffer(ctx, w.annA, o.ID, domain.OfferPatch{Description: ptr("x")}); !errors.As(err, &conflict) {
			t.Errorf("editing a withdrawn offer: %v", err)
		}
	})
}

func TestAssistedUse(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		in := lifts(domain.SlotInput{"mon", "09:00", "12:00"})
		in.MemberID = w.ann.ID
		if _, err := w.x.PostOffer(ctx, w.bobA, in); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member posting for another: %v", err)
		}
		o, err := w.x.PostOffer(ctx, w.coord, in)
		if err != nil || o.MemberID != w.ann.ID || o.CreatedBy != w.coord.ID {
			t.Fatalf("a coordinator posting for Ann: %+v %v", o, err)
		}
		reqs, err := w.x.AskForSupport(ctx, w.coord, domain.RequestInput{MemberID: w.bob.ID, Category: "companionship",
			Description: "A chat over tea", Start: at(10, 14, 0), End: at(10, 15, 0)})
		if err != nil || reqs[0].MemberID != w.bob.ID || reqs[0].CreatedBy != w.coord.ID || reqs[0].AreaID != w.area.ID {
			t.Fatalf("a coordinator asking for Bob: %+v %v", reqs, err)
		}
		events, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{SubjectType: "request", SubjectID: reqs[0].ID})
		if len(events.Items) != 1 || events.Items[0].ActorID != w.coord.ID || events.Items[0].Detail["on_behalf_of"] != "Bob Okoro" {
			t.Errorf("audit of assisted use: %+v", events.Items)
		}
		// The coordinator can manage what they posted, and Bob can too.
		if _, err := w.x.UpdateRequest(ctx, w.bobA, reqs[0].ID, domain.RequestPatch{Description: ptr("A chat and a walk")}); err != nil {
			t.Errorf("Bob editing his request: %v", err)
		}
		if _, err := w.x.CancelRequest(ctx, w.coord, reqs[0].ID, "Bob is in hospital", false); err != nil {
			t.Errorf("the coordinator cancelling it: %v", err)
		}
		services := domain.Actor{ID: 999, Role: domain.RoleServices}
		if _, err := w.x.AskForSupport(ctx, services, domain.RequestInput{}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a services user posting: %v", err)
		}
	})
}

func TestRequestValidation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st) // the clock says 2 March 2026, 09:00
		ok := domain.RequestInput{Category: "transport", Description: "A lift to the surgery", Start: at(10, 9, 0), End: at(10, 11, 0)}
		cases := []struct {
			name   string
			change func(*domain.RequestInput)
			fields string
		}{
			{"end before start", func(in *domain.RequestInput) { in.End = at(10, 8, 0) }, "end"},
			{"start in the past", func(in *domain.RequestInput) { in.Start, in.End = at(1, 9, 0), at(1, 10, 0) }, "start"},
			{"over 12 hours", func(in *domain.RequestInput) { in.End = at(10, 21, 15) }, "end"},
			{"27 weeks", func(in *domain.RequestInput) { in.RepeatWeeks = 27 }, "repeat_weeks"},
			{"unknown area", func(in *domain.RequestInput) { in.AreaID = 9999 }, "area_id"},
			{"unknown category", func(in *domain.RequestInput) { in.Category = "gardening" }, "category"},
			{"someone unnamed", func(in *domain.RequestInput) { in.ForSomeoneElse = true }, "for_whom.name,for_whom.relationship"},
			{"contact without consent", func(in *domain.RequestInput) { in.ConsentContact = true }, "consent_contact"},
			{"no urgency like that", func(in *domain.RequestInput) { in.Urgency = "yesterday" }, "urgency"},
			{"nothing", func(in *domain.RequestInput) { *in = domain.RequestInput{} }, "category,description,start,end"},
		}
		for _, c := range cases {
			in := ok
			c.change(&in)
			_, err := w.x.AskForSupport(ctx, w.annA, in)
			if got := strings.Join(fieldsOf(err), ","); got != c.fields {
				t.Errorf("%s: invalid fields %q, want %q (%v)", c.name, got, c.fields, err)
			}
		}
		// Exactly 12 hours, overnight, is fine; a category that needs a check forces the flag.
		in := ok
		in.Category, in.Start, in.End = "sitting", at(10, 20, 0), at(11, 8, 0)
		reqs, err := w.x.AskForSupport(ctx, w.annA, in)
		if err != nil || !reqs[0].NeedsCheck || reqs[0].Urgency != domain.Routine {
			t.Errorf("12 hours of sitting overnight: %+v %v", reqs, err)
		}
	})
}

func TestWeeklySeriesKeepsTheClockTimeAcrossSummerTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		// British Summer Time starts on 29 March 2026: 10:00 is 10:00 GMT before, 09:00 UTC after.
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "Lift to dialysis",
			Start: at(17, 10, 0), End: at(17, 13, 0), RepeatWeeks: 4, Urgency: "soon", ForSomeoneElse: true,
			ForWhomName: "Frank", ForWhomRelationship: "my dad", PrivateNotes: "Flat 3, ring twice"})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != 4 || reqs[0].SeriesID == 0 {
			t.Fatalf("series: %+v", reqs)
		}
		wantUTC := []string{"2026-03-17T10:00:00Z", "2026-03-24T10:00:00Z", "2026-03-31T09:00:00Z", "2026-04-07T09:00:00Z"}
		for i, r := range reqs {
			if got := r.Start.UTC().Format(time.RFC3339); got != wantUTC[i] || r.SeriesID != reqs[0].SeriesID {
				t.Errorf("occasion %d starts %s (series %d), want %s", i+1, got, r.SeriesID, wantUTC[i])
			}
			if local := r.Start.In(london).Format("15:04"); local != "10:00" {
				t.Errorf("occasion %d starts at %s local time", i+1, local)
			}
		}
		// Cancel one occasion, then the rest of the series.
		if n, err := w.x.CancelRequest(ctx, w.annA, reqs[1].ID, "Dad is away that week", false); err != nil || n != 1 {
			t.Errorf("cancel one: %d %v", n, err)
		}
		if _, err := w.x.CancelRequest(ctx, w.annA, reqs[1].ID, "again", false); !errors.As(err, new(*domain.ConflictError)) {
			t.Errorf("cancel it twice: %v", err)
		}
		if _, err := w.x.CancelRequest(ctx, w.bobA, reqs[0].ID, "not mine", true); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("someone else cancelling: %v", err)
		}
		if _, err := w.x.CancelRequest(ctx, w.annA, reqs[0].ID, "", true); !sameFields(err, "reason") {
			t.Errorf("cancel without a reason: %v", err)
		}
		w.advance(16 * 24 * time.Hour) // 18 March: the first occasion has passed
		if n, err := w.x.CancelRequest(ctx, w.annA, reqs[0].ID, "Dad has moved in with us", true); err != nil || n != 2 {
			t.Errorf("cancel the rest of the series: %d %v, want the 2 occasions still ahead", n, err)
		}
		view, err := w.x.Request(ctx, w.annA, reqs[0].ID)
		if err != nil || len(view.Series) != 4 || view.Series[0].Status != domain.RequestOpen || view.Series[3].Status != domain.RequestCancelled {
			t.Errorf("series after cancelling: %+v %v", view.Series, err)
		}
	})
}

func TestRequestVisibility(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "sitting", Description: "Sit with my mum",
			PrivateNotes: "12 Mill Lane; key under the mat", ForSomeoneElse: true, ForWhomName: "Edith", ForWhomRelationship: "my mum",
			Start: at(12, 14, 0), End: at(12, 17, 0), ConsentToEscalate: true, ConsentContact: true})
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		if !r.ConsentToEscalate() || !strings.Contains(r.Escalation.Wording, "formal service") || !r.Escalation.IncludesContact || !r.Escalation.GivenAt.Equal(w.now) {
			t.Errorf("consent stored as %+v", r.Escalation)
		}
		nv, err := w.x.Request(ctx, w.bobA, r.ID)
		if err != nil || nv.Full || nv.PrivateNotes != "" || nv.ForWhom == nil || nv.ForWhom.FirstName != "" ||
			nv.ForWhom.Relationship != "my mum" || nv.Escalation != nil || nv.FirstName != "Ann" {
			t.Errorf("a neighbour's view: %+v %v", nv, err)
		}
		page, err := w.x.BrowseRequests(ctx, w.coord, domain.BrowseInput{})
		if err != nil || len(page.Items) != 1 || page.Items[0].PrivateNotes != "" || page.Items[0].ForWhom.FirstName != "" {
			t.Errorf("browse shows private details: %+v %v", page.Items, err)
		}
		if v, _ := w.x.Request(ctx, w.annA, r.ID); !v.Full || v.PrivateNotes == "" || v.ForWhom.FirstName != "Edith" {
			t.Errorf("the owner's view: %+v", v)
		}
		if v, _ := w.x.Request(ctx, w.coord, r.ID); !v.Full || v.PrivateNotes == "" {
			t.Errorf("a coordinator's view: %+v", v)
		}
		viewed, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{Action: domain.AuditRequestViewed})
		if len(viewed.Items) != 1 || viewed.Items[0].ActorID != w.coord.ID || viewed.Items[0].SubjectID != r.ID {
			t.Errorf("views of private details audited: %+v, want the coordinator's only", viewed.Items)
		}
		// Withdrawing the consent keeps what was agreed and when it was withdrawn.
		w.advance(time.Hour)
		got, err := w.x.UpdateRequest(ctx, w.annA, r.ID, domain.RequestPatch{ConsentToEscalate: ptr(false)})
		if err != nil || got.ConsentToEscalate() || got.Escalation == nil || !got.Escalation.WithdrawnAt.Equal(w.now) {
			t.Errorf("withdrawn consent: %+v %v", got.Escalation, err)
		}
		// A matched request cannot change, and says what can still be done; others cannot see it.
		if err := st.SetRequestStatus(ctx, r.ID, domain.RequestMatched, w.now); err != nil {
			t.Fatal(err)
		}
		_, err = w.x.UpdateRequest(ctx, w.annA, r.ID, domain.RequestPatch{Description: ptr("changed")})
		var conflict *domain.ConflictError
		if !errors.As(err, &conflict) || !strings.Contains(conflict.Message, "already matched") || !strings.Contains(conflict.Message, "cancel") {
			t.Errorf("editing a matched request: %v", err)
		}
		if _, err := w.x.Request(ctx, w.bobA, r.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a neighbour sees a matched request: %v", err)
		}
	})
}

func TestBrowse(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		ask := func(by domain.Actor, cat, what string, area int64, day, hour int) domain.Request {
			t.Helper()
			reqs, err := w.x.AskForSupport(ctx, by, domain.RequestInput{Category: cat, Description: what, AreaID: area,
				Start: at(day, hour, 0), End: at(day, hour+1, 0)})
			if err != nil {
				t.Fatal(err)
			}
			w.advance(time.Minute) // so that "newest" has an order
			return reqs[0]
		}
		lift := ask(w.annA, "transport", "A lift to the Hospital", w.area.ID, 10, 9)
		chat := ask(w.bobA, "companionship", "A chat and tea", w.riverside.ID, 11, 14)
		far := ask(w.annA, "transport", "A lift to the station", w.farAway.ID, 12, 9)
		// Five requests at the same time, to page through ties.
		var same []domain.Request
		for i := range 5 {
			same = append(same, ask(w.bobA, "shopping-errands", fmt.Sprintf("Shopping list %d", i), w.area.ID, 20, 10))
		}
		ids := func(p domain.BrowsePage[domain.RequestListing]) []int64 {
			var out []int64
			for _, it := range p.Items {
				out = append(out, it.ID)
			}
			return out
		}
		browse := func(in domain.BrowseInput) []int64 {
			t.Helper()
			p, err := w.x.BrowseRequests(ctx, w.annA, in)
			if err != nil {
				t.Fatal(err)
			}
			return ids(p)
		}
		eq := func(name string, got []int64, want ...domain.Request) {
			t.Helper()
			var w []int64
			for _, r := range want {
				w = append(w, r.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s: got %v, want %v", name, got, w)
			}
		}
		eq("soonest", browse(domain.BrowseInput{}), append([]domain.Request{lift, chat, far}, same...)...)
		eq("newest", browse(domain.BrowseInput{Sort: "newest", Limit: 3}), same[4], same[3], same[2])
		eq("category", browse(domain.BrowseInput{Category: "transport"}), lift, far)
		eq("area", browse(domain.BrowseInput{AreaID: w.riverside.ID}), chat)
		eq("within 5 km of Ann", browse(domain.BrowseInput{Category: "transport", WithinKm: 5}), lift)
		eq("words, any case", browse(domain.BrowseInput{Query: "LIFT hospital"}), lift)
		eq("dates", browse(domain.BrowseInput{From: "2026-03-11", To: "2026-03-12"}), chat, far)
		// Paging two at a time visits every request once, ties included, in both orders.
		for _, sort := range []string{"soonest", "newest"} {
			var all []int64
			cursor := ""
			for range 10 {
				p, err := w.x.BrowseRequests(ctx, w.annA, domain.BrowseInput{Sort: sort, Limit: 2, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, ids(p)...)
				if p.Next == nil {
					break
				}
				cursor = p.Next.String()
			}
			if len(all) != 8 || len(uniq(all)) != 8 {
				t.Errorf("paging %s: %v", sort, all)
			}
		}
		for _, bad := range []domain.BrowseInput{{Category: "juggling"}, {AreaID: 999}, {From: "11/03/2026"},
			{From: "2026-03-12", To: "2026-03-11"}, {Sort: "random"}, {Cursor: "nonsense"}, {Limit: 1000}} {
			if _, err := w.x.BrowseRequests(ctx, w.annA, bad); !errors.As(err, new(*domain.ValidationError)) {
				t.Errorf("%+v: %v, want a validation error", bad, err)
			}
		}
		// Cancelled and past requests are not listed.
		if _, err := w.x.CancelRequest(ctx, w.annA, lift.ID, "sorted", false); err != nil {
			t.Fatal(err)
		}
		w.advance(9*24*time.Hour + 8*time.Hour) // 11 March, just after 17:00
		eq("after time passes", browse(domain.BrowseInput{Limit: 3}), far, same[0], same[1])

		// Offers: newest first, by category, area and day of the week.
		o1, _ := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{"tue", "13:00", "17:00"}))
		w.advance(time.Minute)
		o2, _ := w.x.PostOffer(ctx, w.bobA, domain.OfferInput{Category: "companionship", Description: "Chats on Saturday mornings",
			Slots: []domain.SlotInput{{"sat", "09:00", "12:00"}}, RadiusKm: ptr(2.0), MaxPerWeek: ptr(1)})
		offers := func(in domain.BrowseInput) []int64 {
			t.Helper()
			p, err := w.x.BrowseOffers(ctx, w.bobA, in)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, it := range p.Items {
				out = append(out, it.ID)
			}
			return out
		}
		if got := offers(domain.BrowseInput{}); fmt.Sprint(got) != fmt.Sprint([]int64{o2.ID, o1.ID}) {
			t.Errorf("offers newest first: %v", got)
		}
		// 14 March 2026 is a Saturday.
		if got := offers(domain.BrowseInput{From: "2026-03-14", To: "2026-03-14"}); fmt.Sprint(got) != fmt.Sprint([]int64{o2.ID}) {
			t.Errorf("offers on a Saturday: %v", got)
		}
		if got := offers(domain.BrowseInput{Query: "car"}); fmt.Sprint(got) != fmt.Sprint([]int64{o1.ID}) {
			t.Errorf("offers mentioning a car: %v", got)
		}
		if _, err := w.x.BrowseOffers(ctx, w.bobA, domain.BrowseInput{Sort: "soonest"}); !errors.As(err, new(*domain.ValidationError)) {
			t.Errorf("offers soonest: %v", err)
		}
	})
}

func uniq(ids []int64) map[int64]bool {
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// TestHiddenPostsAndSuspendedMembers: a member cannot find out that someone else's hidden post
// exists, and a suspended member's posts disappear from neighbours' view until reinstated.
func TestHiddenPostsAndSuspendedMembers(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		o, _ := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{"tue", "13:00", "17:00"}))
		reqs, _ := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift", Start: at(10, 9, 0), End: at(10, 10, 0)})
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferPaused); err != nil {
			t.Fatal(err)
		}
		if _, err := w.x.UpdateOffer(ctx, w.bobA, o.ID, domain.OfferPatch{Description: ptr("x")}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("editing someone else's paused offer: %v, want not found", err)
		}
		if _, err := w.x.UpdateRequest(ctx, w.bobA, reqs[0].ID, domain.RequestPatch{Description: ptr("x")}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("editing someone else's visible request: %v, want forbidden", err)
		}
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferActive); err != nil {
			t.Fatal(err)
		}

		if _, err := w.membership.Suspend(ctx, w.coord, w.ann.ID, "Complaint being looked into"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.x.Offer(ctx, w.bobA, o.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a suspended member's offer shown: %v", err)
		}
		if _, err := w.x.Request(ctx, w.bobA, reqs[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a suspended member's request shown: %v", err)
		}
		if p, _ := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{}); len(p.Items) != 0 {
			t.Errorf("browse shows a suspended member's requests: %d", len(p.Items))
		}
		if p, _ := w.x.BrowseOffers(ctx, w.bobA, domain.BrowseInput{}); len(p.Items) != 0 {
			t.Errorf("browse shows a suspended member's offers: %d", len(p.Items))
		}
		if v, err := w.x.Request(ctx, w.coord, reqs[0].ID); err != nil || !v.Full {
			t.Errorf("a coordinator cannot see it: %v", err)
		}
		if _, err := w.membership.Reinstate(ctx, w.coord, w.ann.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{}); len(p.Items) != 1 {
			t.Errorf("after reinstating, browse shows %d requests", len(p.Items))
		}
		if _, err := w.membership.Suspend(ctx, w.coord, w.coord.ID, "me"); !sameFields(err, "status") {
			t.Errorf("suspending oneself: %v", err)
		}
	})
}

// TestAnEditCannotUndoAChangeMadeMeanwhile writes a stale edit straight to the store, as a
// request that read before someone else's change would.
func TestAnEditCannotUndoAChangeMadeMeanwhile(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		reqs, _ := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift", Start: at(10, 9, 0), End: at(10, 10, 0),
			ConsentToEscalate: true})
		stale, _ := st.Request(ctx, reqs[0].ID)
		w.advance(time.Minute)
		if _, err := w.x.UpdateRequest(ctx, w.annA, reqs[0].ID, domain.RequestPatch{ConsentToEscalate: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		stale.Description = "A lift, and a word"
		if err := st.UpdateRequest(ctx, stale, stale.UpdatedAt); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("a stale edit of a request: %v, want a conflict", err)
		}
		if r, _ := st.Request(ctx, reqs[0].ID); r.ConsentToEscalate() || r.Description != "A lift" {
			t.Errorf("the withdrawal was undone: %+v", r)
		}

		o, _ := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{"tue", "13:00", "17:00"}))
		staleOffer, _ := st.Offer(ctx, o.ID)
		w.advance(time.Minute)
		if _, err := w.x.SetOfferStatus(ctx, w.annA, o.ID, domain.OfferPaused); err != nil {
			t.Fatal(err)
		}
		staleOffer.Description = "changed"
		if err := st.UpdateOffer(ctx, staleOffer, staleOffer.UpdatedAt); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("a stale edit of an offer: %v, want a conflict", err)
		}
		// An edit made after the pause keeps the offer paused.
		if got, err := w.x.UpdateOffer(ctx, w.coord, o.ID, domain.OfferPatch{Description: ptr("Lifts, and help with shopping")}); err != nil || got.Status != domain.OfferPaused {
			t.Errorf("edit after a pause: %+v %v", got, err)
		}
		if got, _ := st.Offer(ctx, o.ID); got.Status != domain.OfferPaused {
			t.Errorf("stored status %s after an edit, want paused", got.Status)
		}
		events, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{SubjectType: "offer", SubjectID: o.ID})
		if len(events.Items) == 0 || events.Items[0].Detail["on_behalf_of_member"] != fmt.Sprint(w.ann.ID) {
			t.Errorf("a coordinator's edit is not recorded as on the member's behalf: %+v", events.Items)
		}
	})
}

func TestSeriesAcrossTheClockChanges(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		// 01:30 on 29 March 2026 does not exist in London: the clocks go from 01:00 to 02:00.
		_, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "befriending-calls", Description: "A call",
			Start: at(15, 1, 30), End: at(15, 2, 15), RepeatWeeks: 3})
		var v *domain.ValidationError
		if !errors.As(err, &v) || !strings.Contains(v.Message("repeat_weeks"), "Sunday 29 March falls when the clocks change") {
			t.Errorf("a weekly time in the skipped hour: %v", err)
		}
		// 20:00 to 08:00 across 25 October 2026 would be 13 hours.
		w.advance(200 * 24 * time.Hour) // 18 September
		_, err = w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "sitting", Description: "Overnight sit",
			Start: time.Date(2026, 10, 17, 20, 0, 0, 0, london), End: time.Date(2026, 10, 18, 8, 0, 0, 0, london), RepeatWeeks: 2})
		if !errors.As(err, &v) || !strings.Contains(v.Message("repeat_weeks"), "Saturday 24 October") {
			t.Errorf("an overnight series across the autumn change: %v", err)
		}
		if reqs, _ := w.x.MemberRequests(ctx, w.annA, w.ann.ID); len(reqs) != 0 {
			t.Errorf("%d requests saved from refused series", len(reqs))
		}
	})
}

func TestBrowsePagingTiesAndEscaping(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newExchangeWorld(t, st)
		// Seven requests posted in the same instant, at two start times, and five offers likewise.
		var all []int64
		for i := range 7 {
			r, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "shopping-errands", Description: fmt.Sprintf("Shopping, 50%% off list %d", i),
				Start: at(12+i%2, 10, 0), End: at(12+i%2, 11, 0)})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r[0].ID)
		}
		for range 5 {
			if _, err := w.x.PostOffer(ctx, w.bobA, lifts(domain.SlotInput{"tue", "13:00", "17:00"})); err != nil {
				t.Fatal(err)
			}
		}
		walk := func(list func(cursor string) ([]int64, *domain.Cursor, error)) []int64 {
			t.Helper()
			var got []int64
			cursor := ""
			for range 20 {
				ids, next, err := list(cursor)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids...)
				if next == nil {
					return got
				}
				cursor = next.String()
			}
			t.Fatal("paging did not end")
			return nil
		}
		for _, sort := range []string{domain.SortSoonest, domain.SortNewest} {
			got := walk(func(cursor string) ([]int64, *domain.Cursor, error) {
				p, err := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{Sort: sort, Limit: 2, Cursor: cursor})
				var ids []int64
				for _, it := range p.Items {
					ids = append(ids, it.ID)
				}
				return ids, p.Next, err
			})
			if len(got) != 7 || len(uniq(got)) != 7 {
				t.Errorf("paging %s through ties: %v", sort, got)
			}
		}
		offers := walk(func(cursor string) ([]int64, *domain.Cursor, error) {
			p, err := w.x.BrowseOffers(ctx, w.annA, domain.BrowseInput{Limit: 2, Cursor: cursor})
			var ids []int64
			for _, it := range p.Items {
				ids = append(ids, it.ID)
			}
			return ids, p.Next, err
		})
		if len(offers) != 5 || len(uniq(offers)) != 5 {
			t.Errorf("paging offers: %v", offers)
		}
		// A cursor from one order is refused in the other.
		p, _ := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{Sort: domain.SortNewest, Limit: 2})
		if _, err := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{Sort: domain.SortSoonest, Cursor: p.Next.String()}); !sameFields(err, "cursor") {
			t.Errorf("a newest cursor in soonest order: %v", err)
		}
		// Searching for LIKE's wildcards finds them literally.
		for q, want := range map[string]int{"50%": 7, "%": 7, "_": 0, `\`: 0, "list_3": 0, "list 3": 1} {
			p, err := w.x.BrowseRequests(ctx, w.bobA, domain.BrowseInput{Query: q, Limit: 100})
			if err != nil || len(p.Items) != want {
				t.Errorf("search %q found %d, want %d (%v)", q, len(p.Items), want, err)
			}
		}
		// A coordinator's list of a member's requests leaves out the private details.
		r, _ := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift", PrivateNotes: "Door code 1234",
			Start: at(14, 9, 0), End: at(14, 10, 0)})
		list, _ := w.x.MemberRequests(ctx, w.coord, w.ann.ID)
		for _, x := range list {
			if x.ID == r[0].ID && x.PrivateNotes != "" {
				t.Error("a coordinator's list of a member's requests shows private notes")
			}
		}
	})
}
