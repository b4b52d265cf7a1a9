package lang

import "strconv"

// Euro is an amount of cents as the language writes it: "1.234,56 €" in
// German, "€1,234.56" in English; a negative amount starts with "-".
func (l Language) Euro(cents int64) string {
	sign := ""
	// Work on the magnitude as uint64: -math.MinInt64 does not fit int64.
	u := uint64(cents)
	if cents < 0 {
		sign, u = "-", -u
	}
	thousands, decimal := ".", ","
	if l.or(German) == English {
		thousands, decimal = ",", "."
	}
	euros := strconv.FormatUint(u/100, 10)
	grouped := make([]byte, 0, len(euros)+len(euros)/3)
	for i := range len(euros) {
		if i > 0 && (len(euros)-i)%3 == 0 {
			grouped = append(grouped, thousands...)
		}
		grouped = append(grouped, euros[i])
	}
	rest := u % 100
	number := string(grouped) + decimal + string(rune('0'+rest/10)) + string(rune('0'+rest%10))
	return sign + l.T("amount.euro", number)
}
