// Package synthetic makes a believable synthetic community for load tests and benchmarks: areas
// spread over a region, members living in them, offers with realistic availability, and requests
// with plausible times, urgencies and categories. It is deterministic: the same seed and start
// date give the same community. It writes nothing; the seed command stores what it makes.
package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// EmailDomain is the domain of every synthetic member's email (reserved: it can never deliver).
const EmailDomain = "synthetic.invalid"

// Password is every synthetic member's password, so that load tests can sign in as anyone
// (except in a database that also holds real members, where they cannot sign in at all).
const Password = "synthetic-member"

// Plan is what to make.
type Plan struct {
	Seed     uint64
	Members  int
	Offers   int
	Requests int
	// Start is the day the community is made for: requests start after it, posts were made before.
	Start time.Time
	Loc   *time.Location
}

// Community is what a plan makes. Members, offers and requests refer to areas and members by
// their index in these slices (AreaID and MemberID hold index+1 until stored).
type Community struct {
	At       time.Time // when it is made for (the plan's start day)
	Areas    []domain.Area
	Members  []domain.Member
	Offers   []domain.Offer
	Requests []domain.Request
	// Series holds, for each request, the index+1 of the weekly series it belongs to (0 for none),
	// and SeriesWeeks the number of weeks of each series.
	Series      []int
	SeriesWeeks []int
	// Checks are the verified checks of members (MemberID is index+1), for helpers in
	// categories that need one and some others.
	Checks []domain.Check
}

// The region the synthetic areas cover: about 40 km by 30 km around a Pennine town.
const (
	centreLat, centreLon = 53.40, -1.47
	spanLatDeg           = 0.27 // about 30 km
	spanLonDeg           = 0.60 // about 40 km at this latitude
)

var (
	placeStarts = []string{"Ash", "Brook", "Cole", "Dun", "Elm", "Fair", "Glen", "Hol", "Kirk", "Lang",
		"Mill", "Nether", "Oak", "Pen", "Red", "Shaw", "Stan", "Thorn", "Wal", "Wood"}
	placeEnds  = []string{"bury", "field", "ford", "gate", "ham", "hill", "ley", "mead", "ton", "wick"}
	firstNames = []string{"Ann", "Aisha", "Alan", "Amir", "Beth", "Bilal", "Carol", "Chen", "Dave", "Deborah", "Eileen", "Emeka",
		"Fatima", "Frank", "Gail", "Gareth", "Hannah", "Harpreet", "Ian", "Irene", "Jack", "Jasmine", "Joan", "Kamal", "Karen",
		"Kwame", "Linda", "Luke", "Maureen", "Mohammed", "Nadia", "Neil", "Olu", "Pat", "Priya", "Ray", "Rosa", "Sam", "Sandra",
		"Tariq", "Tom", "Una", "Viv", "Wendy", "Yusuf", "Zofia"}
	lastNames = []string{"Ahmed", "Bailey", "Begum", "Brown", "Campbell", "Chowdhury", "Davies", "Evans", "Fletcher", "Green",
		"Hall", "Hughes", "Iqbal", "Jones", "Kaur", "Khan", "Lewis", "Mensah", "Morris", "Nowak", "Okafor", "Patel", "Price",
		"Roberts", "Shah", "Singh", "Taylor", "Thomas", "Walker", "Williams", "Wood", "Wright", "Young"}
	relations = []string{"my mum", "my dad", "my gran", "my grandad", "my husband", "my wife", "my son", "my daughter",
		"my neighbour", "my friend", "my brother", "my sister"}
)

// kind is what a category's posts look like.
type kind struct {
	slug      string
	weight    int // how common, out of 100
	minutes   []int
	hours     [2]int // earliest and latest start hour
	offers    []string
	requests  []string
	urgentish bool
}

var kinds = []kind{
	{"transport", 30, []int{60, 90, 120, 180}, [2]int{8, 16},
		[]string{"Lifts to appointments in a small car", "Can drive to the hospital and wait", "Lifts to the shops or the surgery; room for a folded wheelchair"},
		[]string{"A lift to the surgery and back", "A lift to an outpatient appointment at the hospital", "A lift to the dentist", "Someone to drive to the optician and back"}, true},
	{"companionship", 20, []int{60, 90, 120}, [2]int{10, 16},
		[]string{"A cup of tea and a chat", "Walks round the park at your pace", "Company for an afternoon, board games welcome"},
		[]string{"Someone to sit and chat for an afternoon", "Company on a walk to the park", "A visit and a cup of tea"}, false},
	{"shopping-errands", 20, []int{45, 60, 90}, [2]int{9, 15},
		[]string{"Weekly shop and prescriptions", "Post office and pharmacy runs", "Help with errands in town"},
		[]string{"A weekly shop from a list", "Collecting a prescription", "Posting a parcel and picking up bread"}, false},
	{"befriending-calls", 20, []int{30, 45, 60}, [2]int{10, 19},
		[]string{"A friendly phone call in the evening", "Weekly phone chats", "A call to check in and have a natter"},
		[]string{"A phone call to check in", "Someone to ring for a chat once a week", "A friendly call in the evening"}, false},
	{"sitting", 10, []int{120, 180, 240}, [2]int{9, 18},
		[]string{"Sitting with children after school", "Can sit with an older relative while you go out", "Retired teacher, happy to babysit"},
		[]string{"Sitting with the children for an evening", "Someone to sit with an older relative for the afternoon", "Babysitting while I go to an appointment"}, true},
}

// slotShapes are the stretches people are usually free.
var slotShapes = [][2]int{{9 * 60, 12 * 60}, {13 * 60, 17 * 60}, {10 * 60, 15 * 60}, {18 * 60, 20 * 60}, {9 * 60, 17 * 60}, {14 * 60, 16*60 + 30}}

// Make builds the community of a plan. Categories are looked up by slug in cats.
func Make(p Plan, cats []domain.Category) (Community, error) {
	bySlug := map[string]domain.Category{}
	for _, c := range cats {
		bySlug[c.Slug] = c
	}
	for _, k := range kinds {
		if _, ok := bySlug[k.slug]; !ok {
			return Community{}, fmt.Errorf("synthetic: the database has no %q category", k.slug)
		}
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	startDay := time.Date(p.Start.Year(), p.Start.Month(), p.Start.Day(), 0, 0, 0, 0, p.Loc)
	c := Community{At: startDay.UTC()}
	c.Areas = makeAreas(rng, areaCount(p.Members))
	weights := make([]float64, len(c.Areas)) // some areas are busier than others
	total := 0.0
	for i := range weights {
		weights[i] = 0.3 + rng.Float64()*rng.Float64()*3
		total += weights[i]
	}
	pickArea := func() int64 {
		x := rng.Float64() * total
		for i, w := range weights {
			if x -= w; x < 0 {
				return int64(i + 1)
			}
		}
		return int64(len(weights))
	}
	for i := range p.Members {
		first, last := pick(rng, firstNames), pick(rng, lastNames)
		joined := startDay.AddDate(0, 0, -rng.IntN(720)-1).Add(time.Duration(rng.IntN(14*60)+7*60) * time.Minute)
		c.Members = append(c.Members, domain.Member{
			Name:  first + " " + last,
			Email: fmt.Sprintf("%s.%s.s%d.%d@%s", strings.ToLower(first), strings.ToLower(last), p.Seed, i+1, EmailDomain),
			Phone: fmt.Sprintf("07700 900%03d", rng.IntN(1000)), Role: domain.RoleMember, Status: domain.StatusActive,
			AreaID: pickArea(), Synthetic: true, CreatedAt: joined.UTC(), UpdatedAt: joined.UTC(),
		})
	}
	if p.Members == 0 && (p.Offers > 0 || p.Requests > 0) {
		return Community{}, fmt.Errorf("synthetic: offers and requests need members")
	}
	pickKind := func() kind {
		x := rng.IntN(100)
		for _, k := range kinds {
			if x -= k.weight; x < 0 {
				return k
			}
		}
		return kinds[0]
	}
	for range p.Offers {
		k := pickKind()
		m := rng.IntN(p.Members)
		posted := startDay.AddDate(0, 0, -rng.IntN(120)-1).Add(time.Duration(rng.IntN(720)) * time.Minute)
		status := domain.OfferActive
		switch x := rng.IntN(100); {
		case x < 7:
			status = domain.OfferPaused
		case x < 10:
			status = domain.OfferWithdrawn
		}
		c.Offers = append(c.Offers, domain.Offer{
			MemberID: int64(m + 1), CategoryID: bySlug[k.slug].ID, Description: pick(rng, k.offers), Slots: makeSlots(rng),
			RadiusKm: float64(1+rng.IntN(30)) / 2, MaxPerWeek: 1 + rng.IntN(4), Status: status, CreatedBy: int64(m + 1),
			CreatedAt: posted.UTC(), UpdatedAt: posted.UTC(),
		})
	}
	for len(c.Requests) < p.Requests {
		k := pickKind()
		m := rng.IntN(p.Members)
		cat := bySlug[k.slug]
		weeks := 1
		if rng.IntN(100) < 10 {
			weeks = min(2+rng.IntN(7), p.Requests-len(c.Requests))
		}
		first := startDay.AddDate(0, 0, 1+rng.IntN(60))
		hour := k.hours[0] + rng.IntN(k.hours[1]-k.hours[0]+1)
		start := time.Date(first.Year(), first.Month(), first.Day(), hour, 15*rng.IntN(4), 0, 0, p.Loc)
		length := time.Duration(pick(rng, k.minutes)) * time.Minute
		urgency := domain.Routine
		switch x := rng.IntN(100); {
		case x < 10 || (k.urgentish && x < 15):
			urgency = domain.Urgent
		case x < 30:
			urgency = domain.Soon
		}
		var who *domain.SupportedPerson
		if rng.IntN(100) < 40 {
			who = &domain.SupportedPerson{FirstName: pick(rng, firstNames), Relationship: pick(rng, relations)}
		}
		area := c.Members[m].AreaID
		if rng.IntN(100) < 15 {
			area = pickArea()
		}
		posted := startDay.Add(-time.Duration(rng.IntN(30*24*60)+1) * time.Minute)
		r := domain.Request{MemberID: int64(m + 1), CategoryID: cat.ID, AreaID: area, Description: pick(rng, k.requests), ForWhom: who,
			Urgency: urgency, NeedsCheck: cat.RequiresCheck || rng.IntN(100) < 10, Status: domain.RequestOpen,
			CreatedBy: int64(m + 1), CreatedAt: posted.UTC(), UpdatedAt: posted.UTC()}
		if rng.IntN(100) < 60 {
			r.Escalation = &domain.EscalationConsent{Wording: domain.EscalationConsentWording, GivenAt: posted.UTC()}
		}
		series := 0
		if weeks > 1 {
			c.SeriesWeeks = append(c.SeriesWeeks, weeks)
			series = len(c.SeriesWeeks)
		}
		for w := range weeks {
			occ := r
			s := time.Date(start.Year(), start.Month(), start.Day()+7*w, start.Hour(), start.Minute(), 0, 0, p.Loc)
			occ.Start, occ.End = s.UTC(), s.Add(length).UTC()
			if rng.IntN(100) < 4 {
				occ.Status, occ.CancelReason = domain.RequestCancelled, "No longer needed"
			}
			c.Requests = append(c.Requests, occ)
			c.Series = append(c.Series, series)
		}
	}
	// Most who offer support that needs a check have one; a few have lapsed; some others hold one
	// from other volunteering.
	needsCheck := map[int64]bool{}
	offers := map[int64]bool{}
	for _, o := range c.Offers {
		offers[o.MemberID] = true
		for _, cat := range cats {
			if cat.ID == o.CategoryID && cat.RequiresCheck {
				needsCheck[o.MemberID] = true
			}
		}
	}
	for i := range c.Members {
		id := int64(i + 1)
		if !offers[id] {
			continue
		}
		x := rng.IntN(100)
		if !(needsCheck[id] && x < 90) && !(!needsCheck[id] && x < 15) {
			continue
		}
		issued := startDay.AddDate(0, 0, -30-rng.IntN(900))
		expires := startDay.AddDate(0, 0, 30+rng.IntN(900))
		if x < 8 {
			expires = startDay.AddDate(0, 0, -1-rng.IntN(90)) // lapsed, waiting for a re-check
			issued = expires.AddDate(-3, 0, 0)
		}
		c.Checks = append(c.Checks, domain.Check{MemberID: id, Kind: "DBS", Level: pick(rng, []string{"standard", "enhanced"}),
			CertificateNumber: fmt.Sprintf("SYN%09d", rng.IntN(1_000_000_000)), IssuedOn: issued, ExpiresOn: expires,
			UpdateService: rng.IntN(2) == 0, VerifiedAt: issued.Add(72 * time.Hour).UTC(), CreatedAt: issued.Add(72 * time.Hour).UTC()})
	}
	return c, nil
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// areaCount: about one area per 150 members, at least 40, at most 200 (the place names run out).
func areaCount(members int) int {
	return max(40, min(200, members/150))
}

// makeAreas spreads n areas over the region on a jittered grid, with made-up but plausible names.
func makeAreas(rng *rand.Rand, n int) []domain.Area {
	cols := int(math.Ceil(math.Sqrt(float64(n) * spanLonDeg / spanLatDeg / 1.6)))
	rows := (n + cols - 1) / cols
	names := make([]string, 0, len(placeStarts)*len(placeEnds))
	for _, a := range placeStarts {
		for _, b := range placeEnds {
			names = append(names, a+b)
		}
	}
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	areas := make([]domain.Area, n)
	for i := range areas {
		r, col := i/cols, i%cols
		lat := centreLat - spanLatDeg/2 + (float64(r)+0.2+0.6*rng.Float64())*spanLatDeg/float64(rows)
		lon := centreLon - spanLonDeg/2 + (float64(col)+0.2+0.6*rng.Float64())*spanLonDeg/float64(cols)
		areas[i] = domain.Area{Name: names[i], Code: fmt.Sprintf("SYN%d", i+1), Lat: math.Round(lat*1e4) / 1e4, Lon: math.Round(lon*1e4) / 1e4}
	}
	return areas
}

// makeSlots gives one to three stretches of a week, on different days.
func makeSlots(rng *rand.Rand) []domain.Slot {
	n := 1 + rng.IntN(3)
	days := rng.Perm(7)[:n]
	slots := make([]domain.Slot, n)
	for i, d := range days {
		shape := pick(rng, slotShapes)
		slots[i] = domain.Slot{Day: time.Weekday(d), From: shape[0], To: shape[1]}
	}
	return slots
}
