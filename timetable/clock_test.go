package timetable

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		in   string
		want Clock
		str  string
	}{
		{"00:00", 0, "00:00"},
		{"07:30", 450, "07:30"},
		{"7:30", 450, "07:30"},
		{"0:05", 5, "00:05"},
		{"23:59", 1439, "23:59"},
		{"12:00", 720, "12:00"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseClock(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			if got.String() != tt.str {
				t.Fatalf("String() = %q, want %q", got.String(), tt.str)
			}
			if back, err := ParseClock(got.String()); err != nil || back != got {
				t.Fatalf("round trip of %q gave %d, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseClockRefuses(t *testing.T) {
	for _, in := range []string{"", "abc", "24:00", "12:60", "7", "7:5", "007:30", "+7:30", "-1:00", "07:30:00", " 7:30", "07-30", "٠٧:٣٠"} {
		t.Run(in, func(t *testing.T) {
			if c, err := ParseClock(in); err == nil {
				t.Fatalf("ParseClock(%q) = %v, want an error", in, c)
			} else if !bilingual(err) {
				t.Fatalf("error %q is not in Korean and English", err)
			}
		})
	}
}

// TestClockRoundTripAll formats and parses back every minute of the day.
func TestClockRoundTripAll(t *testing.T) {
	for c := Clock(0); c < 1440; c++ {
		if back, err := ParseClock(c.String()); err != nil || back != c {
			t.Fatalf("%d: %q parsed as %d, %v", c, c.String(), back, err)
		}
	}
}

func TestParseWeekdays(t *testing.T) {
	days := func(ds ...time.Weekday) Weekdays {
		var w Weekdays
		for _, d := range ds {
			w |= 1 << d
		}
		return w
	}
	weekdays := days(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
	tests := []struct {
		in   string
		want Weekdays
		str  string
	}{
		{"mon-fri", weekdays, "mon-fri"},
		{"MON-FRI", weekdays, "mon-fri"},
		{"mon,tue,wed,thu,fri", weekdays, "mon-fri"},
		{"mon,wed,fri", days(time.Monday, time.Wednesday, time.Friday), "mon,wed,fri"},
		{"sat,sun", days(time.Saturday, time.Sunday), "sat,sun"},
		{"Sat-Sun", days(time.Saturday, time.Sunday), "sat,sun"},
		{"sun", days(time.Sunday), "sun"},
		{"fri, mon ,mon", days(time.Monday, time.Friday), "mon,fri"},
		{"mon-wed,sat", days(time.Monday, time.Tuesday, time.Wednesday, time.Saturday), "mon-wed,sat"},
		{"mon-sun", allDays, "mon-sun"},
		{"mon-mon", days(time.Monday), "mon"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWeekdays(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseWeekdays(%q) = %07b, %v; want %07b", tt.in, got, err, tt.want)
			}
			if got.String() != tt.str {
				t.Fatalf("String() = %q, want %q", got.String(), tt.str)
			}
		})
	}
}

func TestParseWeekdaysRefuses(t *testing.T) {
	for _, in := range []string{"", " ", "mon,", ",mon", "mon,,tue", "monday", "월", "fri-mon", "mon-", "-fri", "mon-tue-wed", "xyz"} {
		t.Run(in, func(t *testing.T) {
			if w, err := ParseWeekdays(in); err == nil {
				t.Fatalf("ParseWeekdays(%q) = %v, want an error", in, w)
			} else if !bilingual(err) {
				t.Fatalf("error %q is not in Korean and English", err)
			}
		})
	}
}

// TestWeekdaysRoundTripAll checks every non-empty set: String is read back by ParseWeekdays,
// and Has agrees with the bits.
func TestWeekdaysRoundTripAll(t *testing.T) {
	for w := Weekdays(1); w <= allDays; w++ {
		back, err := ParseWeekdays(w.String())
		if err != nil || back != w {
			t.Fatalf("%07b: %q parsed as %07b, %v", w, w.String(), back, err)
		}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if w.Has(d) != (w>>d&1 == 1) {
				t.Fatalf("%v.Has(%v) = %v", w, d, w.Has(d))
			}
		}
	}
}
