package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coop-exchange/coop/app"
	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
)

// demoSignIn is a demo person to print, so that whoever runs the demo can sign in as them.
type demoSignIn struct {
	role, name, email, password string
}

// The demo passwords: fine for a throwaway database that exists only while the demo runs.
const (
	demoCoordinatorPassword = "coordinate-demo"
	demoAdminPassword       = "administer-demo"
	demoMemberPassword      = "neighbourly-demo"
	demoServicesPassword    = "answer-demo"
)

type demoArea struct {
	name, code string
	lat, lon   float64
}

// A small town's neighbourhoods, about a mile or two apart.
var demoAreas = []demoArea{
	{"Bridge End", "BE1", 53.3811, -1.4701},
	{"Riverside", "RV2", 53.3920, -1.4570},
	{"Old Town", "OT3", 53.3742, -1.4853},
	{"Hillcrest", "HC4", 53.3655, -1.4612},
	{"Mill Lane", "ML5", 53.3988, -1.4809},
	{"Castle Park", "CP6", 53.3861, -1.4420},
}

type demoPerson struct {
	name, email, phone, area string
}

var demoMembers = []demoPerson{
	{"Margaret Lewis", "margaret.lewis@demo.coop", "01632 960 101", "BE1"},
	{"Daniel Osei", "daniel.osei@demo.coop", "07700 900 102", "RV2"},
	{"Priya Sharma", "priya.sharma@demo.coop", "07700 900 103", "OT3"},
	{"Tom Whitfield", "tom.whitfield@demo.coop", "01632 960 104", "HC4"},
	{"Aisha Rahman", "aisha.rahman@demo.coop", "07700 900 105", "ML5"},
	{"Gareth Jones", "gareth.jones@demo.coop", "07700 900 106", "CP6"},
	{"Helen Carter", "helen.carter@demo.coop", "01632 960 107", "BE1"},
	{"Kwame Mensah", "kwame.mensah@demo.coop", "07700 900 108", "RV2"},
	{"Sophie Nowak", "sophie.nowak@demo.coop", "07700 900 109", "OT3"},
	{"Rob Fletcher", "rob.fletcher@demo.coop", "07700 900 110", "HC4"},
	{"Fatima Begum", "fatima.begum@demo.coop", "01632 960 111", "ML5"},
	{"Ewan Campbell", "ewan.campbell@demo.coop", "07700 900 112", "CP6"},
}

type demoApplicant struct {
	demoPerson
	reason string
}

var demoApplicants = []demoApplicant{
	{demoPerson{"Joan Whitaker", "joan.whitaker@demo.coop", "01632 960 201", "BE1"},
		"I look after my husband, who has Parkinson's. I'd love someone to sit with him for an afternoon so I can get to the shops, and I can do befriending calls in the evenings."},
	{demoPerson{"Samir Haddad", "samir.haddad@demo.coop", "07700 900 202", "RV2"},
		"I have a car and most Tuesday and Thursday afternoons free. Happy to give lifts to appointments."},
	{demoPerson{"Chloe Bennett", "chloe.bennett@demo.coop", "07700 900 203", "CP6"},
		"New to the area with a toddler. I'd like to meet people and can help with shopping and errands."},
}

// seedDemo fills a fresh database with the demo co-op through the same services the website
// uses, so that the demo data obeys every rule real data does.
func seedDemo(ctx context.Context, st *store.Store, loc *time.Location) ([]demoSignIn, error) {
	svc, _ := services(st, domain.PasswordHasher{}, loc, 0, nil)
	system := domain.SystemActor("coop demo")

	codes := map[string]int64{}
	for _, a := range demoAreas {
		lat, lon := a.lat, a.lon
		area, err := svc.Catalogue.CreateArea(ctx, system, domain.AreaInput{Name: a.name, Code: a.code, Lat: &lat, Lon: &lon})
		if err != nil {
			return nil, fmt.Errorf("area %s: %w", a.name, err)
		}
		codes[a.code] = area.ID
	}

	var people []demoSignIn
	add := func(p demoPerson, role domain.Role, password string) (domain.Member, error) {
		m, err := svc.Membership.AddMember(ctx, system, domain.NewMemberInput{Name: p.name, Email: p.email,
			Phone: p.phone, AreaID: codes[p.area], Role: role, Password: password, ConsentRecorded: true})
		if err != nil {
			return domain.Member{}, fmt.Errorf("%s: %w", p.name, err)
		}
		people = append(people, demoSignIn{string(role), p.name, p.email, password})
		return m, nil
	}
	coordinator, err := add(demoPerson{"Amara Okafor", "coordinator@demo.coop", "01632 960 001", "BE1"}, domain.RoleCoordinator, demoCoordinatorPassword)
	if err != nil {
		return nil, err
	}
	if _, err := add(demoPerson{"Neil Hartley", "admin@demo.coop", "01632 960 002", "OT3"}, domain.RoleAdmin, demoAdminPassword); err != nil {
		return nil, err
	}
	members := map[string]domain.Member{}
	for i, p := range demoMembers {
		m, err := add(p, domain.RoleMember, demoMemberPassword)
		if err != nil {
			return nil, err
		}
		members[m.FirstName()] = m
		if i > 0 {
			people = people[:len(people)-1] // print one member; they all share the password
		}
	}
	if err := seedDemoPosts(ctx, svc.Exchange, members, loc); err != nil {
		return nil, err
	}
	// Aisha sits with children and older people, which needs a check: the coordinator saw her
	// DBS certificate.
	now := time.Now().UTC()
	aisha := members["Aisha"]
	if err := st.AddCheck(ctx, &domain.Check{MemberID: aisha.ID, Kind: "DBS", Level: "enhanced", CertificateNumber: "001234567890",
		IssuedOn: now.AddDate(-1, 0, 0), ExpiresOn: now.AddDate(2, 0, 0), UpdateService: true, VerifiedBy: coordinator.ID,
		VerifiedAt: now, CreatedAt: now}); err != nil {
		return nil, fmt.Errorf("check of Aisha: %w", err)
	}

	for i, a := range demoApplicants {
		_, err := svc.Membership.Apply(ctx, domain.ApplicationInput{Name: a.name, Email: a.email, Phone: a.phone,
			AreaID: codes[a.area], Password: demoMemberPassword, Reason: a.reason, Consent: true},
			domain.Origin{IP: fmt.Sprintf("192.0.2.%d", i+1), UserAgent: "coop demo"})
		if err != nil {
			return nil, fmt.Errorf("application from %s: %w", a.name, err)
		}
	}
	declined, err := svc.Membership.Apply(ctx, domain.ApplicationInput{Name: "Barry Stone", Email: "barry.stone@demo.coop",
		Phone: "07700 900 299", AreaID: codes["HC4"], Password: demoMemberPassword,
		Reason: "Looking for paid work as a carer.", Consent: true}, domain.Origin{IP: "192.0.2.99", UserAgent: "coop demo"})
	if err != nil {
		return nil, err
	}
	by := domain.Actor{ID: coordinator.ID, Name: coordinator.Name, Role: coordinator.Role}
	if err := seedDemoService(ctx, svc, by, codes, add); err != nil {
		return nil, err
	}
	if _, err := svc.Membership.Decline(ctx, by, declined.ID, "We are a volunteer exchange and cannot offer paid work. "+
		"The council's care recruitment team may be able to help."); err != nil {
		return nil, err
	}
	return people, nil
}

// demoOffer and demoRequest are posts of the demo's members.
type demoOffer struct {
	who, category, what string
	slots               []domain.SlotInput
	km                  float64
	perWeek             int
}

var demoOffers = []demoOffer{
	{"Margaret", "companionship", "A cup of tea and a chat, or a walk round the park at your pace.",
		[]domain.SlotInput{{Day: "tue", From: "14:00", To: "17:00"}, {Day: "thu", From: "14:00", To: "17:00"}}, 3, 2},
	{"Daniel", "transport", "Lifts to appointments in a five-seater car; I can fold a wheelchair into the boot.",
		[]domain.SlotInput{{Day: "mon", From: "09:00", To: "13:00"}, {Day: "wed", From: "09:00", To: "13:00"}}, 8, 3},
	{"Priya", "befriending-calls", "A friendly phone call in the evening, once or twice a week.",
		[]domain.SlotInput{{Day: "mon", From: "18:00", To: "20:00"}, {Day: "fri", From: "18:00", To: "20:00"}}, 50, 4},
	{"Tom", "shopping-errands", "Weekly shop, prescriptions and post office runs.",
		[]domain.SlotInput{{Day: "sat", From: "09:00", To: "12:00"}}, 4, 2},
	{"Aisha", "sitting", "Retired nursery nurse; happy to sit with children or an older relative.",
		[]domain.SlotInput{{Day: "wed", From: "13:00", To: "18:00"}, {Day: "fri", From: "13:00", To: "18:00"}}, 3, 2},
}

type demoRequest struct {
	who, category, what string
	day                 time.Weekday // the next one at least two days ahead
	hour, hours         int
	weeks               int
	urgency             string
	forName, forRel     string
	notes               string
	consent             bool
}

// The requests fall on the days the offers are free, so that the first pass proposes helpers for
// most of them, and explains the rest.
var demoRequests = []demoRequest{
	{"Helen", "transport", "A lift to the hospital for an outpatient appointment, and back.", time.Monday, 10, 2, 0, "soon", "Frank", "my dad",
		"Frank lives at 4 Mill Row; he walks with a stick.", true},
	{"Kwame", "companionship", "Someone to sit and chat with my gran while I am at work.", time.Tuesday, 14, 2, 6, "routine", "Esther", "my gran", "", false},
	{"Sophie", "shopping-errands", "A weekly shop from the list I will leave; I am recovering from an operation.", time.Saturday, 10, 1, 0, "soon", "", "", "", true},
	{"Rob", "sitting", "Sitting with my two children (6 and 9) for an evening while I visit my mum in hospital.", time.Thursday, 18, 4, 0, "urgent", "", "", "", true},
	{"Fatima", "sitting", "Someone to sit with my mum, who has dementia, while I go to my own appointment.", time.Friday, 14, 3, 0, "routine", "Rukhsana", "my mum",
		"Mum's flat is on the ground floor; the key safe code is given on the day.", true},
	{"Gareth", "transport", "A lift to the physiotherapy clinic and back.", time.Tuesday, 10, 1, 0, "routine", "", "", "", false},
	{"Ewan", "befriending-calls", "A friendly call for my grandad, who lives alone since my gran died.", time.Monday, 18, 1, 0, "routine", "Angus", "my grandad", "", false},
}

// seedDemoPosts gives the demo's members some offers and requests, in the days ahead.
func seedDemoPosts(ctx context.Context, x *domain.Exchange, members map[string]domain.Member, loc *time.Location) error {
	for _, o := range demoOffers {
		m := members[o.who]
		km, n := o.km, o.perWeek
		by := domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role}
		if _, err := x.PostOffer(ctx, by, domain.OfferInput{Category: o.category, Description: o.what, Slots: o.slots, RadiusKm: &km, MaxPerWeek: &n}); err != nil {
			return fmt.Errorf("offer of %s: %w", o.who, err)
		}
	}
	today := time.Now().In(loc)
	for _, r := range demoRequests {
		m := members[r.who]
		by := domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role}
		day := today.AddDate(0, 0, 2)
		for day.Weekday() != r.day {
			day = day.AddDate(0, 0, 1)
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), r.hour, 0, 0, 0, loc)
		in := domain.RequestInput{Category: r.category, Description: r.what, Start: start, End: start.Add(time.Duration(r.hours) * time.Hour),
			RepeatWeeks: r.weeks, Urgency: r.urgency, PrivateNotes: r.notes, ConsentToEscalate: r.consent,
			ForSomeoneElse: r.forName != "", ForWhomName: r.forName, ForWhomRelationship: r.forRel}
		if _, err := x.AskForSupport(ctx, by, in); err != nil {
			return fmt.Errorf("request of %s: %w", r.who, err)
		}
	}
	return nil
}

// seedDemoService adds the council's adult social care front door as the co-op's fallback, told
// by email, with one person who answers for it, so that the services inbox can be tried.
func seedDemoService(ctx context.Context, svc app.Services, by domain.Actor, codes map[string]int64,
	add func(demoPerson, domain.Role, string) (domain.Member, error)) error {
	var areas []int64
	for _, id := range codes {
		areas = append(areas, id)
	}
	slices.Sort(areas)
	front, _, err := svc.Directory.Create(ctx, by, domain.ServiceInput{Name: "Riverside Adult Social Care", Organisation: "Riverside Council",
		Description: "The council's front door for adults who need care and support, and for their carers.", AreaIDs: areas,
		Email: "referrals@riverside-council.demo.coop", Active: true})
	if err != nil {
		return fmt.Errorf("demo service: %w", err)
	}
	if _, err := svc.Directory.PinFallback(ctx, by, front.ID); err != nil {
		return fmt.Errorf("demo fallback: %w", err)
	}
	priya, err := add(demoPerson{"Priya Shah", "services@demo.coop", "01632 960 003", ""}, domain.RoleServices, demoServicesPassword)
	if err != nil {
		return err
	}
	if _, _, err := svc.ServicePeople.AddUser(ctx, by, front.ID, domain.ServiceUserInput{Email: priya.Email}); err != nil {
		return fmt.Errorf("demo services user: %w", err)
	}
	return nil
}
