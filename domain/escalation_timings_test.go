package domain_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// TestCategoriesSetTheirOwnEscalationTimings: a category that cannot wait passes its needs on
// sooner than one that follows the defaults, and can go back to them.
func TestCategoriesSetTheirOwnEscalationTimings(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		transport, err := st.CategoryBySlug(ctx, "transport")
		if err != nil {
			t.Fatal(err)
		}
		shopping, err := st.CategoryBySlug(ctx, "shopping-errands")
		if err != nil {
			t.Fatal(err)
		}
		halfHour, hour := 30*time.Minute, time.Hour
		transport, err = w.catalogue.UpdateCategory(ctx, w.coord, transport.ID, domain.CategoryPatch{
			Escalation: map[domain.Urgency]domain.TimingPatch{domain.Urgent: {Wait: domain.DurationPatch{Set: true, To: &halfHour}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := transport.EscalationTimings()[domain.Urgent]; got != (domain.EscalationTiming{Wait: halfHour, Lead: 12 * time.Hour}) {
			t.Errorf("transport's urgent timing is %+v", got)
		}
		if _, err = w.catalogue.UpdateCategory(ctx, w.coord, shopping.ID, domain.CategoryPatch{
			Escalation: map[domain.Urgency]domain.TimingPatch{domain.Routine: {Lead: domain.DurationPatch{Set: true, To: &hour}}}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Riverside Community Transport", Organisation: "Riverside Council",
			TaxonomyTerms: transport.TaxonomyTerms, AreaIDs: []int64{w.area.ID}, WebhookURL: "https://referrals.riverside.example/coop", Active: true}); err != nil {
			t.Fatal(err)
		}
		ask := func(category, urgency string, start time.Time) int64 {
			t.Helper()
			reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: category, Description: "Help, please",
				Start: start, End: start.Add(time.Hour), Urgency: urgency, ConsentToEscalate: true})
			if err != nil {
				t.Fatal(err)
			}
			return reqs[0].ID
		}
		// All posted Monday 2 March at 09:00.
		lift := ask("transport", "urgent", at(9, 10, 0))          // its own wait: due 09:30
		errand := ask("shopping-errands", "urgent", at(9, 10, 0)) // the default wait: due 11:00
		// Routine, Wednesday noon: by the default lead due Monday noon, by its own Wednesday 11:00.
		weekly := ask("shopping-errands", "routine", at(4, 12, 0))
		dueAt := func(when time.Time) []int64 {
			t.Helper()
			rs, err := st.DueRequests(ctx, when.UTC(), domain.DefaultEscalationTimings, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range rs {
				if r.ID == lift || r.ID == errand || r.ID == weekly {
					ids = append(ids, r.ID)
				}
			}
			slices.Sort(ids)
			return ids
		}
		for _, c := range []struct {
			when time.Time
			want []int64
		}{
			{at(2, 9, 29), nil},
			{at(2, 9, 30), []int64{lift}},
			{at(2, 10, 59), []int64{lift}},
			{at(2, 12, 0), []int64{lift, errand}},
			{at(4, 10, 59), []int64{lift, errand}},
			{at(4, 11, 0), []int64{lift, errand, weekly}},
		} {
			if got := dueAt(c.when); !slices.Equal(got, c.want) {
				t.Errorf("due at %s: %v, want %v", c.when.Format("Mon 15:04"), got, c.want)
			}
		}

		// The step passes the lift on at 09:30, and says so.
		w.now = at(2, 9, 30).UTC()
		if c, err := esc.EscalateDue(ctx); err != nil || c.Sent != 1 {
			t.Fatalf("the step at 09:30: %+v (%v)", c, err)
		}
		got, err := st.RequestEscalations(ctx, lift)
		if err != nil || len(got) != 1 || !strings.Contains(got[0].Reason, "by 09:30 on Monday 2 March") {
			t.Errorf("the lift's escalation: %+v (%v)", got, err)
		}

		// Back to the defaults: nothing of its own is left.
		transport, err = w.catalogue.UpdateCategory(ctx, w.coord, transport.ID, domain.CategoryPatch{
			Escalation: map[domain.Urgency]domain.TimingPatch{domain.Urgent: {Wait: domain.DurationPatch{Set: true}}}})
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Category(ctx, transport.ID); len(again.Escalation) != 0 ||
			again.EscalationTimings()[domain.Urgent] != domain.DefaultEscalationTimings[domain.Urgent] {
			t.Errorf("transport after going back to the defaults: %+v", again.Escalation)
		}
		// A timing out of range is refused, naming the field.
		zero := time.Duration(0)
		_, err = w.catalogue.UpdateCategory(ctx, w.coord, transport.ID, domain.CategoryPatch{
			Escalation: map[domain.Urgency]domain.TimingPatch{domain.Soon: {Wait: domain.DurationPatch{Set: true, To: &zero}}}})
		var verr *domain.ValidationError
		if !errors.As(err, &verr) || !verr.Has("escalation.soon.wait") {
			t.Errorf("a wait of nothing: %v", err)
		}
	})
}

func TestEscalationTimingsAreChecked(t *testing.T) {
	d := func(x time.Duration) *time.Duration { return &x }
	month := domain.MaxEscalationTiming
	for _, c := range []struct {
		name string
		own  domain.EscalationOverrides
		want []string
	}{
		{"none of its own", nil, nil},
		{"the longest", domain.EscalationOverrides{domain.Urgent: {Wait: d(month), Lead: d(month)}}, nil},
		{"no lead", domain.EscalationOverrides{domain.Routine: {Wait: d(time.Minute), Lead: d(0)}}, nil},
		{"no wait", domain.EscalationOverrides{domain.Urgent: {Wait: d(0)}}, []string{"escalation.urgent.wait"}},
		{"over a month", domain.EscalationOverrides{domain.Soon: {Wait: d(month + time.Hour), Lead: d(month + time.Hour)}},
			[]string{"escalation.soon.wait", "escalation.soon.lead"}},
		{"a lead after the start", domain.EscalationOverrides{domain.Routine: {Lead: d(-time.Hour)}}, []string{"escalation.routine.lead"}},
		{"no such urgency", domain.EscalationOverrides{"someday": {Wait: d(time.Hour)}}, []string{"escalation"}},
	} {
		in := domain.CategoryInput{Slug: "garden-help", Name: "Garden help", Escalation: c.own}.Normalised()
		v := &domain.ValidationError{}
		in.Validate(v)
		var got []string
		for _, f := range v.Fields {
			got = append(got, f.Field)
			if !strings.Contains(f.Message, "30 days") && f.Field != "escalation" {
				t.Errorf("%s: %s says %q, without the limit", c.name, f.Field, f.Message)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: errors on %v, want %v", c.name, got, c.want)
		}
	}
}

func TestOwnTimingsOverTheDefaults(t *testing.T) {
	wait := 6 * time.Hour
	got := domain.EscalationOverrides{domain.Soon: {Wait: &wait}}.Timings()
	want := map[domain.Urgency]domain.EscalationTiming{
		domain.Urgent:  domain.DefaultEscalationTimings[domain.Urgent],
		domain.Soon:    {Wait: 6 * time.Hour, Lead: 24 * time.Hour},
		domain.Routine: domain.DefaultEscalationTimings[domain.Routine],
	}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("%s: %+v, want %+v", u, got[u], w)
		}
	}
}
