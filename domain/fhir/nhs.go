package fhir

import "strings"

// NHSNumberSystem is the identifier system of NHS numbers in England and Wales (UK Core).
const NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

// NHSNumber returns an NHS number as its ten digits, with the spaces or hyphens people write in
// it removed, and whether it is one: ten digits whose last is the modulus 11 check digit of the
// first nine, and not one digit ten times. A number that fails is most likely mistyped, and a
// service that traced it would find someone else, so the export leaves it out rather than send it.
func NHSNumber(s string) (string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(digits) != 10 || strings.Count(digits, digits[:1]) == 10 {
		return "", false // ten of one digit pass the check but are placeholders, never issued
	}
	sum := 0
	for i := range 10 {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
		if i < 9 {
			sum += int(digits[i]-'0') * (10 - i) // weights 10 down to 2
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10: // no number is issued with this check
		return "", false
	}
	if int(digits[9]-'0') != check {
		return "", false
	}
	return digits, true
}
