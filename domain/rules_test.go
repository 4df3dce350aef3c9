package domain

import (
	"strings"
	"testing"
	"time"
)

func TestCheckEmail(t *testing.T) {
	cases := []struct {
		email string
		ok    bool
	}{
		{"sam@example.com", true},
		{"sam.o'neill+coop@mail.example.co.uk", true},
		{"", false},
		{"sam", false},
		{"sam@localhost", false},
		{"Sam <sam@example.com>", false},
		{"sam@example.com.", false},
		{"@example.com", false},
		{"sam@@example.com", false},
		{strings.Repeat("a", 250) + "@example.com", false},
	}
	for _, c := range cases {
		v := &ValidationError{}
		checkEmail(v, "email", c.email, true)
		if got := !v.Has("email"); got != c.ok {
			t.Errorf("checkEmail(%q) ok = %v, want %v (%s)", c.email, got, c.ok, v.Message("email"))
		}
	}
}

func TestCheckPhone(t *testing.T) {
	cases := []struct {
		phone string
		ok    bool
	}{
		{"01632 960 123", true},
		{"+44 7700 900123", true},
		{"(01632) 960-123", true},
		{"123456", false},
		{"call me", false},
		{"0163+2960123", false},
		{"1234567890123456", false},
	}
	for _, c := range cases {
		v := &ValidationError{}
		checkPhone(v, "phone", c.phone, true)
		if got := !v.Has("phone"); got != c.ok {
			t.Errorf("checkPhone(%q) ok = %v, want %v", c.phone, got, c.ok)
		}
	}
}

func TestPasswordHasher(t *testing.T) {
	h := PasswordHasher{} // the production parameters
	hash, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not carry argon2id and the OWASP parameters", hash)
	}
	if strings.Contains(hash, "correct horse") {
		t.Error("the hash contains the password")
	}
	if ok, err := h.Verify(hash, "correct horse battery"); err != nil || !ok {
		t.Errorf("the right password did not verify: %v %v", ok, err)
	}
	if ok, _ := h.Verify(hash, "correct horse batteries"); ok {
		t.Error("a wrong password verified")
	}
	other, _ := h.Hash("correct horse battery")
	if other == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// A hash made with other parameters still verifies: the parameters travel in the hash.
	cheap := PasswordHasher{Params: PasswordParams{Memory: 1024, Time: 1, Threads: 1}}
	old, _ := cheap.Hash("an older password")
	if ok, err := h.Verify(old, "an older password"); err != nil || !ok {
		t.Errorf("a hash with other parameters did not verify: %v %v", ok, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if _, err := h.Verify(bad, "x"); err == nil {
			t.Errorf("Verify(%q) did not fail", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "short": false, "123456789": false, "ten chars!": true, strings.Repeat("x", 201): false} {
		v := &ValidationError{}
		CheckPassword(v, "password", pw)
		if got := !v.Has("password"); got != ok {
			t.Errorf("CheckPassword(%d chars) ok = %v, want %v", len(pw), got, ok)
		}
	}
}

func TestAreaInputValidate(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	cases := []struct {
		in     AreaInput
		fields []string
	}{
		{AreaInput{Name: "Bridge End", Code: "be1", Lat: f(53.38), Lon: f(-1.47)}, nil},
		{AreaInput{Name: "Bridge End", Code: "S1 2", Lat: f(53.38), Lon: f(-1.47)}, nil},
		{AreaInput{}, []string{"name", "code", "lat", "lon"}},
		{AreaInput{Name: "X", Code: "B-E1", Lat: f(91), Lon: f(-181)}, []string{"code", "lat", "lon"}},
		{AreaInput{Name: strings.Repeat("n", 81), Code: "TOOLONGCODE1", Lat: f(0), Lon: f(0)}, []string{"name", "code"}},
	}
	for _, c := range cases {
		v := &ValidationError{}
		c.in.Normalised().Validate(v)
		var got []string
		for _, fe := range v.Fields {
			got = append(got, fe.Field)
		}
		if strings.Join(got, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%+v: invalid fields %v, want %v", c.in, got, c.fields)
		}
	}
	if got := (AreaInput{Code: "  be1 "}).Normalised().Code; got != "BE1" {
		t.Errorf("code normalised to %q, want BE1", got)
	}
}

func TestCategoryInputValidate(t *testing.T) {
	v := &ValidationError{}
	in := CategoryInput{Slug: " Garden-Help ", Name: "Garden help", TaxonomyTerms: []string{" esdServiceType:298 ", "", "esdServiceType:298"}}.Normalised()
	in.Validate(v)
	if v.OrNil() != nil {
		t.Fatalf("valid category refused: %v", v)
	}
	if in.Slug != "garden-help" || len(in.TaxonomyTerms) != 1 {
		t.Errorf("normalised to %q with terms %q", in.Slug, in.TaxonomyTerms)
	}
	for _, slug := range []string{"garden help", "-garden", "garden--help", "garden_help", ""} {
		v := &ValidationError{}
		CategoryInput{Slug: slug, Name: "x"}.Normalised().Validate(v)
		if !v.Has("slug") {
			t.Errorf("slug %q was accepted", slug)
		}
	}
}

func TestPageOf(t *testing.T) {
	id := func(n int64) int64 { return n }
	p := PageOf([]int64{1, 2, 3}, PageQuery{Limit: 2}, id)
	if len(p.Items) != 2 || p.Next != 2 {
		t.Errorf("3 rows with limit 2: %+v, want 2 items and next 2", p)
	}
	p = PageOf([]int64{1, 2}, PageQuery{Limit: 2}, id)
	if len(p.Items) != 2 || p.Next != 0 {
		t.Errorf("2 rows with limit 2: %+v, want no next page", p)
	}
	if q := (PageQuery{Limit: 1000}).Normalised(); q.Limit != MaxPageSize {
		t.Errorf("limit 1000 normalised to %d", q.Limit)
	}
	if q := (PageQuery{}).Normalised(); q.Limit != DefaultPageSize {
		t.Errorf("no limit normalised to %d", q.Limit)
	}
}

func TestHumanWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "a minute", 14*time.Minute + time.Second: "15 minutes", 3 * time.Hour: "3 hours",
	} {
		if got := humanWait(d); got != want {
			t.Errorf("humanWait(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFirstName(t *testing.T) {
	for name, want := range map[string]string{"Margaret Lewis": "Margaret", "Cher": "Cher", "  Ann  Marie Smith": "Ann"} {
		if got := (Member{Name: name}).FirstName(); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", name, got, want)
		}
	}
}
