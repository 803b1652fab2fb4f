package handlers

import (
	"testing"

	"github.com/wcms-lab/wcms/views"
)

// The wall gives the screen to the seats in use: empty rows and columns at the grid's edges go,
// gaps inside stay (they are real seats), and a PC outside the grid keeps its extra row.
func TestTrimEmpty(t *testing.T) {
	pc := &views.Tile{ID: 1}
	grid := func(rows, cols int, at ...[2]int) [][]views.Seat {
		g := make([][]views.Seat, rows)
		for r := range g {
			g[r] = make([]views.Seat, cols)
		}
		for _, a := range at {
			g[a[0]][a[1]].PC = pc
		}
		return g
	}
	shape := func(g [][]views.Seat) (out []string) {
		for _, row := range g {
			s := ""
			for _, seat := range row {
				s += map[bool]string{true: "#", false: "."}[seat.PC != nil]
			}
			out = append(out, s)
		}
		return out
	}
	for _, c := range []struct {
		name string
		in   [][]views.Seat
		want []string
	}{
		{"full", grid(2, 2, [2]int{0, 0}, [2]int{0, 1}, [2]int{1, 0}, [2]int{1, 1}), []string{"##", "##"}},
		{"edges empty", grid(4, 5, [2]int{1, 1}, [2]int{2, 3}), []string{"#..", "..#"}},
		{"gap inside kept", grid(3, 3, [2]int{0, 0}, [2]int{2, 2}), []string{"#..", "...", "..#"}},
		{"no PC", grid(2, 3), nil},
		{"extra row", append(grid(2, 3, [2]int{0, 1}), []views.Seat{{PC: pc}}), []string{".#", "..", "#"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := shape(trimEmpty(c.in))
			if len(got) != len(c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %q, want %q", got, c.want)
				}
			}
		})
	}
}
