package timetable

import (
	"fmt"
	"strings"
	"time"
)

// Clock is a wall-clock time of day in minutes after midnight, 0..1439.
type Clock int

// ParseClock reads "HH:MM" or "H:MM" (00:00..23:59). Minutes always take two digits.
func ParseClock(s string) (Clock, error) {
	bad := fmt.Errorf("시각 %q: HH:MM 형식(00:00–23:59)이어야 합니다 / time %q must be HH:MM (00:00–23:59)", s, s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, bad
	}
	hh, ok1 := digits(h)
	mm, ok2 := digits(m)
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, bad
	}
	return Clock(hh*60 + mm), nil
}

// digits reads a short run of ASCII digits; strconv.Atoi would also take signs.
func digits(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// String formats c as "HH:MM".
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// valid reports whether c is a time of day.
func (c Clock) valid() bool { return c >= 0 && c < 24*60 }

// Weekdays is a set of days, bit 1<<time.Weekday.
type Weekdays uint8

// allDays is every day of the week; higher bits are not days.
const allDays Weekdays = 1<<7 - 1

// weekOrder lists the days as a week is read in Korea, Monday first, which is the order of
// ranges ("mon-fri") and of String.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// dayNames are the short names, indexed like weekOrder.
var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Has reports whether d is in w.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<d) != 0 }

// ParseWeekdays reads a comma-separated list of day names (mon..sun, any case) and ranges
// in Monday-first order ("mon-fri", "sat-sun"). A range may not wrap past Sunday.
func ParseWeekdays(s string) (Weekdays, error) {
	var w Weekdays
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(strings.ToLower(item), "-")
		i, ok := dayIndex(a)
		j := i
		if isRange {
			j, isRange = dayIndex(b)
			ok = ok && isRange && i <= j
		}
		if !ok {
			return 0, fmt.Errorf("요일 %q의 %q: mon,tue,wed,thu,fri,sat,sun 이나 mon-fri 같은 범위를 쉼표로 나열하세요 / %q in weekdays %q: list mon,tue,wed,thu,fri,sat,sun or ranges like mon-fri, separated by commas", s, item, item, s)
		}
		for k := i; k <= j; k++ {
			w |= 1 << weekOrder[k]
		}
	}
	return w, nil
}

// dayIndex finds a short day name in weekOrder.
func dayIndex(name string) (int, bool) {
	for i, n := range dayNames {
		if n == strings.TrimSpace(name) {
			return i, true
		}
	}
	return 0, false
}

// String lists the days Monday first, writing three or more consecutive days as a range:
// "mon-fri", "mon,wed,fri", "sat,sun", "mon-wed,sat". ParseWeekdays reads it back.
func (w Weekdays) String() string {
	var parts []string
	for i := 0; i < 7; {
		if !w.Has(weekOrder[i]) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.Has(weekOrder[j+1]) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, dayNames[i]+"-"+dayNames[j])
		case j > i:
			parts = append(parts, dayNames[i], dayNames[j])
		default:
			parts = append(parts, dayNames[i])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
