package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestCompareNatural(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"PC2", "PC10", -1},
		{"PC10", "PC2", 1},
		{"ENG301-PC01", "ENG301-PC1", -1}, // same number: the bytes break the tie
		{"ENG301-PC09", "ENG301-PC10", -1},
		{"eng301-pc3", "ENG301-PC20", -1},
		{"A", "A1", -1},
		{"PC1", "PC1", 0},
		{"B1", "A2", 1},
		{"PC-99999999999999999999", "PC-100000000000000000000", -1}, // longer than an int64
	} {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			if got := CompareNatural(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareNatural(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// fillTest is a store with a 2×3 room A whose seat 1-2 is taken, and a room B.
func fillTest(t *testing.T, names ...string) (*Store, Room, Room, map[string]int64) {
	t.Helper()
	s := openTest(t)
	ctx, now := context.Background(), time.Now()
	a, b := Room{Name: "A", Rows: 2, Cols: 3}, Room{Name: "B", Rows: 1, Cols: 1}
	for _, r := range []*Room{&a, &b} {
		if err := s.CreateRoom(ctx, r, now); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]int64{}
	for _, n := range append([]string{"TAKEN"}, names...) {
		ids[n] = registerTest(t, s, n).ID
	}
	if err := s.SetSeat(ctx, ids["TAKEN"], "A", 1, 2, now); err != nil {
		t.Fatal(err)
	}
	return s, a, b, ids
}

func placements(f *Filled) []string {
	var out []string
	for _, p := range f.Placed {
		out = append(out, fmt.Sprintf("%s@%d-%d", p.Hostname, p.Row, p.Col))
	}
	return out
}

func TestFillRoom(t *testing.T) {
	names := []string{"PC10", "PC2", "PC11", "PC1", "PC4", "PC3"}
	for _, tt := range []struct {
		order string
		want  []string
	}{
		{FillRows, []string{"LAB-PC1@1-1", "LAB-PC2@1-3", "LAB-PC3@2-1", "LAB-PC4@2-2", "LAB-PC10@2-3"}},
		{FillColumns, []string{"LAB-PC1@1-1", "LAB-PC2@2-1", "LAB-PC3@2-2", "LAB-PC4@1-3", "LAB-PC10@2-3"}},
	} {
		t.Run(tt.order, func(t *testing.T) {
			s, a, _, ids := fillTest(t, names...)
			var pcs []int64
			for _, n := range names {
				pcs = append(pcs, ids[n])
			}
			f, err := s.FillRoom(context.Background(), a.ID, pcs, tt.order, false, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := placements(f); !slices.Equal(got, tt.want) {
				t.Errorf("placed %v, want %v", got, tt.want)
			}
			if !slices.Equal(f.Left, []int64{ids["PC11"]}) {
				t.Errorf("left %v, want PC11 (%d)", f.Left, ids["PC11"])
			}
			if len(f.From) != 1 || f.From[0].ID != 0 {
				t.Errorf("from %+v, want only the unplaced", f.From)
			}
			got := seatsOf(t, s)
			if got[ids["PC3"]] != [2]int{2, 1} && got[ids["PC3"]] != [2]int{2, 2} || got[ids["PC11"]] != [2]int{} || got[ids["TAKEN"]] != [2]int{1, 2} {
				t.Errorf("stored seats %v", got)
			}
		})
	}
}

// seatsOf reads every PC's stored seat, {0, 0} for none.
func seatsOf(t *testing.T, s *Store) map[int64][2]int {
	t.Helper()
	rows, err := s.ListPCs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][2]int{}
	for _, r := range rows {
		var seat [2]int
		if r.SeatRow != nil {
			seat = [2]int{*r.SeatRow, *r.SeatCol}
		}
		out[r.ID] = seat
	}
	return out
}

func TestFillRoomAllOrNone(t *testing.T) {
	s, a, b, ids := fillTest(t, "PC1", "PC2")
	ctx, now := context.Background(), time.Now()
	if err := s.SetSeat(ctx, ids["PC2"], "B", 1, 1, now); err != nil {
		t.Fatal(err)
	}
	before := seatsOf(t, s)
	for name, pcs := range map[string][]int64{
		"placed elsewhere": {ids["PC1"], ids["PC2"]},
		"unknown PC":       {ids["PC1"], 9999},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.FillRoom(ctx, a.ID, pcs, FillRows, false, now); !errors.Is(err, ErrCannotFill) {
				t.Fatalf("err %v, want ErrCannotFill", err)
			}
			if got := seatsOf(t, s); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("seats changed: %v, were %v", got, before)
			}
		})
	}
	if _, err := s.FillRoom(ctx, 9999, []int64{ids["PC1"]}, FillRows, false, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown room: %v", err)
	}
	f, err := s.FillRoom(ctx, a.ID, []int64{ids["PC1"], ids["PC2"]}, FillRows, true, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Placed) != 2 || len(f.From) != 2 || f.From[0].ID != b.ID {
		t.Errorf("moved: %+v", f)
	}
}

// A seat change racing a fill never puts two PCs on one seat: each either wins or is refused.
func TestFillRoomRacesSeatChanges(t *testing.T) {
	names := []string{"PC1", "PC2", "PC3", "PC4", "PC5", "LONER"}
	s, a, _, ids := fillTest(t, names...)
	ctx, now := context.Background(), time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		_, err := s.FillRoom(ctx, a.ID, []int64{ids["PC1"], ids["PC2"], ids["PC3"], ids["PC4"], ids["PC5"]}, FillRows, false, now)
		errs <- err
	})
	wg.Go(func() { errs <- s.SetSeat(ctx, ids["LONER"], "A", 2, 3, now) })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, ErrSeatTaken) {
			t.Fatal(err)
		}
	}
	seen := map[[2]int]int{}
	for _, seat := range seatsOf(t, s) {
		if seat != [2]int{} {
			seen[seat]++
		}
	}
	for seat, n := range seen {
		if n > 1 {
			t.Errorf("seat %v holds %d PCs", seat, n)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d seats taken, want all 6: %v", len(seen), seen)
	}
}

func TestUnplace(t *testing.T) {
	s, a, _, ids := fillTest(t, "PC1")
	from, err := s.Unplace(context.Background(), []int64{ids["TAKEN"], ids["PC1"]}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(from) != 2 || from[0].ID != a.ID || from[1].ID != 0 {
		t.Errorf("from %+v", from)
	}
	if got := seatsOf(t, s); got[ids["TAKEN"]] != [2]int{} {
		t.Errorf("still seated: %v", got)
	}
}
