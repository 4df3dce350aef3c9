package domain

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// A category's own escalation timings: some kinds of support cannot wait as long as the
// defaults allow (a lift to hospital), others can wait longer.

// MaxEscalationTiming is the longest wait or lead a category may set.
const MaxEscalationTiming = 30 * 24 * time.Hour

// TimingOverride is a category's own timing for one urgency; a nil field follows the default.
type TimingOverride struct {
	Wait, Lead *time.Duration
}

// EscalationOverrides are a category's own escalation timings, only for the urgencies it sets.
type EscalationOverrides map[Urgency]TimingOverride

// timingUrgencies is the order timings are checked and shown in: most urgent first.
var timingUrgencies = []Urgency{Urgent, Soon, Routine}

// Timings are the timings in force for every urgency: the overrides over the defaults.
func (o EscalationOverrides) Timings() map[Urgency]EscalationTiming {
	out := make(map[Urgency]EscalationTiming, len(DefaultEscalationTimings))
	for u, t := range DefaultEscalationTimings {
		if own, ok := o[u]; ok {
			if own.Wait != nil {
				t.Wait = *own.Wait
			}
			if own.Lead != nil {
				t.Lead = *own.Lead
			}
		}
		out[u] = t
	}
	return out
}

// EscalationTimings are the category's timings in force, by urgency (for EscalationDue).
func (c Category) EscalationTimings() map[Urgency]EscalationTiming {
	return c.Escalation.Timings()
}

// normalised rounds the durations to the minute, which is how they are kept, and drops
// urgencies with nothing of their own.
func (o EscalationOverrides) normalised() EscalationOverrides {
	out := EscalationOverrides{}
	round := func(d *time.Duration) *time.Duration {
		if d == nil {
			return nil
		}
		r := d.Round(time.Minute)
		return &r
	}
	for u, t := range o {
		if t.Wait == nil && t.Lead == nil {
			continue
		}
		out[u] = TimingOverride{Wait: round(t.Wait), Lead: round(t.Lead)}
	}
	return out
}

// validate adds a message for each timing out of range, named like escalation.urgent.wait.
func (o EscalationOverrides) validate(v *ValidationError) {
	var unknown []string
	for u := range o {
		if !slices.Contains(timingUrgencies, u) {
			unknown = append(unknown, string(u))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		v.Add("escalation", "There is no urgency %s; use urgent, soon or routine", strings.Join(unknown, ", "))
	}
	for _, u := range timingUrgencies {
		t := o[u]
		what := strings.ToLower(u.Label())
		if d := t.Wait; d != nil && (*d < time.Minute || *d > MaxEscalationTiming) {
			v.Add(timingField(u, "wait"), "How long %s requests wait before they are passed on must be more than nothing and at most 30 days (720 hours)", what)
		}
		if d := t.Lead; d != nil && (*d < 0 || *d > MaxEscalationTiming) {
			v.Add(timingField(u, "lead"), "How long before the start %s requests are passed on must be between nothing and 30 days (720 hours)", what)
		}
	}
}

func timingField(u Urgency, part string) string { return "escalation." + string(u) + "." + part }

// DurationPatch changes one optional duration: Set false leaves it as it is; Set with a nil
// To sends it back to the default.
type DurationPatch struct {
	Set bool
	To  *time.Duration
}

// TimingPatch changes a category's own timing for one urgency.
type TimingPatch struct {
	Wait, Lead DurationPatch
}

// Patched applies changes to a copy of the overrides (to nil overrides, for a new category).
func (o EscalationOverrides) Patched(changes map[Urgency]TimingPatch) EscalationOverrides {
	out := make(EscalationOverrides, len(o)+len(changes))
	for u, t := range o {
		out[u] = t
	}
	for u, p := range changes {
		t := out[u]
		if p.Wait.Set {
			t.Wait = p.Wait.To
		}
		if p.Lead.Set {
			t.Lead = p.Lead.To
		}
		out[u] = t
	}
	return out
}

// describe words the overrides for the audit log: "urgent wait 1h0m0s, soon lead 0s".
func (o EscalationOverrides) describe() string {
	var parts []string
	for _, u := range timingUrgencies {
		t := o[u]
		if t.Wait != nil {
			parts = append(parts, fmt.Sprintf("%s wait %s", u, *t.Wait))
		}
		if t.Lead != nil {
			parts = append(parts, fmt.Sprintf("%s lead %s", u, *t.Lead))
		}
	}
	return strings.Join(parts, ", ")
}
