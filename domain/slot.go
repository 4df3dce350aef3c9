package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Slot is a weekly stretch of availability, read in the co-op's time zone: Tuesdays 13:00-17:00.
type Slot struct {
	Day  time.Weekday
	From int // minutes after midnight, a multiple of 15
	To   int // minutes after midnight, after From; 1440 is midnight at the end of the day
}

// SlotStep is the granularity of availability.
const SlotStep = 15

var dayCodes = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DayCode is the weekday as the API writes it: "mon" .. "sun".
func DayCode(d time.Weekday) string { return dayCodes[d] }

// ParseDay reads "mon" .. "sun" (any case, or the full English name).
func ParseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, c := range dayCodes {
		if s == c || (len(s) > 3 && strings.HasPrefix(strings.ToLower(time.Weekday(i).String()), s)) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// DaysFromMonday lists the weekdays in the order people in the UK write a week.
var DaysFromMonday = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// ParseClock reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func ParseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// String reads well on a page: "Tuesday 13:00–17:00".
func (s Slot) String() string {
	return s.Day.String() + " " + FormatClock(s.From) + "–" + FormatClock(s.To)
}

// SlotInput is a slot as typed: a day and two clock times.
type SlotInput struct {
	Day, From, To string
}

// maxSlots bounds how many slots one offer may have.
const maxSlots = 28

// parseSlots checks slots into v under field and returns the ones that are valid.
func parseSlots(v *ValidationError, field string, in []SlotInput) []Slot {
	var out []Slot
	var kept []int // index in `in` of each slot in out
	filled := 0
	for i, si := range in {
		if strings.TrimSpace(si.Day+si.From+si.To) == "" {
			continue // an empty row of the form
		}
		filled++
		name := fmt.Sprintf("%s[%d]", field, i)
		day, ok := ParseDay(si.Day)
		if !ok {
			v.Add(name+".day", "Slot %d: choose a day of the week", i+1)
		}
		from, okFrom := ParseClock(si.From)
		to, okTo := ParseClock(si.To)
		switch {
		case !okFrom:
			v.Add(name+".from", "Slot %d: give the start as a time like 13:00", i+1)
		case from%SlotStep != 0 || from == 24*60:
			v.Add(name+".from", "Slot %d: times go in steps of 15 minutes, like 13:00 or 13:15", i+1)
		}
		switch {
		case !okTo:
			v.Add(name+".to", "Slot %d: give the end as a time like 17:00", i+1)
		case to%SlotStep != 0 || to == 0:
			v.Add(name+".to", "Slot %d: times go in steps of 15 minutes, like 17:00 or 17:15", i+1)
		case okFrom && to <= from:
			v.Add(name+".to", "Slot %d: the end (%s) must be after the start (%s)", i+1, FormatClock(to), FormatClock(from))
		}
		if v.Has(name+".day") || v.Has(name+".from") || v.Has(name+".to") {
			continue
		}
		s := Slot{Day: day, From: from, To: to}
		for j, o := range out {
			if o.Day == s.Day && s.From < o.To && o.From < s.To {
				v.Add(name+".from", "Slot %d (%s) overlaps slot %d (%s); join them into one", i+1, s, kept[j]+1, o)
				break
			}
		}
		if !v.Has(name + ".from") {
			out = append(out, s)
			kept = append(kept, i)
		}
	}
	switch {
	case filled == 0:
		v.Add(field, "Give at least one time you are usually free, such as Tuesday 13:00 to 17:00")
	case filled > maxSlots:
		v.Add(field, "Give at most %d slots", maxSlots)
	}
	return out
}

// SlotDays is a bit set of the weekdays the slots fall on (bit 0 is Sunday).
func SlotDays(slots []Slot) int {
	mask := 0
	for _, s := range slots {
		mask |= 1 << s.Day
	}
	return mask
}

// DaysBetween is the bit set of weekdays between two dates in loc (every day from a week on).
func DaysBetween(from, to time.Time, loc *time.Location) int {
	if from.IsZero() || to.IsZero() || to.Sub(from) >= 7*24*time.Hour {
		return 0x7f
	}
	mask := 0
	for d := from.In(loc); !d.After(to); d = d.AddDate(0, 0, 1) {
		mask |= 1 << d.Weekday()
	}
	return mask
}
