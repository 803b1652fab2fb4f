package fleet

import (
	"context"

	"github.com/wcms-lab/wcms/events"
	"github.com/wcms-lab/wcms/models"
)

// What an operator changes of PCs and rooms: stored, then changed in memory and published, so
// every screen showing it follows without the caller doing more.

// SetVerified stores a PC's verified flag.
func (f *Fleet) SetVerified(ctx context.Context, id int64, verified bool) error {
	if err := f.store.SetVerified(ctx, id, verified, f.now()); err != nil {
		return err
	}
	f.change(id, func(p *pc) { p.verified = verified })
	return nil
}

// SetSeat places a PC on a seat of room, moves it there, or (room "") unplaces it.
func (f *Fleet) SetSeat(ctx context.Context, id int64, room string, row, col int) error {
	if err := f.store.SetSeat(ctx, id, room, row, col, f.now()); err != nil {
		return err
	}
	f.change(id, func(p *pc) {
		p.room, p.seatRow, p.seatCol = nil, nil, nil
		if room != "" {
			p.room, p.seatRow, p.seatCol = &room, &row, &col
		}
	})
	return nil
}

// UpdateRoom renames or resizes a room; its PCs follow a new name.
func (f *Fleet) UpdateRoom(ctx context.Context, name string, upd models.Room) (*models.Room, error) {
	r, err := f.store.UpdateRoom(ctx, name, upd)
	if err != nil {
		return nil, err
	}
	if r.Name != name {
		for _, v := range f.Views(func(v *models.PCView) bool { return v.InRoom(name) }) {
			f.change(v.ID, func(p *pc) {
				if p.room != nil && *p.room == name {
					p.room = &r.Name
				}
			})
		}
	}
	f.roomsChanged([]models.Room{{ID: r.ID, Name: name}})
	return r, nil
}

// DeleteRoom removes an empty room.
func (f *Fleet) DeleteRoom(ctx context.Context, name string) error {
	r, err := f.store.DeleteRoom(ctx, name)
	if err != nil {
		return err
	}
	f.roomsChanged([]models.Room{*r})
	return nil
}

// Delete removes a PC and everything about it; the event log keeps that account by did.
func (f *Fleet) Delete(ctx context.Context, id int64, by string) error {
	if err := f.store.DeletePC(ctx, id, by, f.now()); err != nil {
		return err
	}
	f.forget(id)
	f.publish(events.PCRemoved, models.PCView{ID: id})
	return nil
}

// change applies fn to a PC's memory and publishes the PC; a PC deleted meanwhile is left alone.
func (f *Fleet) change(id int64, fn func(p *pc)) {
	if v, ok := f.apply(id, fn); ok {
		f.publish(events.PCUpdated, v)
	}
}

// apply applies fn to a PC's memory and returns its view; false for a PC deleted meanwhile.
func (f *Fleet) apply(id int64, fn func(p *pc)) (models.PCView, bool) {
	p := f.get(id)
	if p == nil {
		return models.PCView{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
	p.gen++
	return p.view(), true
}

// FillRoom places PCs on a room's empty seats in natural hostname order, all or none
// (models.Store.FillRoom). The open pages learn it from one room event per room touched, not one
// event per seat: a page showing a room redraws its layout once.
func (f *Fleet) FillRoom(ctx context.Context, roomID int64, pcIDs []int64, order string, move bool) (*models.Filled, error) {
	filled, err := f.store.FillRoom(ctx, roomID, pcIDs, order, move, f.now())
	if err != nil {
		return nil, err
	}
	for _, s := range filled.Placed {
		f.apply(s.PCID, func(p *pc) { p.room, p.seatRow, p.seatCol = &filled.Room.Name, &s.Row, &s.Col })
		f.peers.Tell(Change{Kind: ChangePCQuiet, ID: s.PCID})
	}
	if len(filled.Placed) > 0 {
		f.roomsChanged(append(filled.From, filled.Room))
	}
	return filled, nil
}

// Unplace takes PCs off their seats at once, with one room event per room they left.
func (f *Fleet) Unplace(ctx context.Context, pcIDs []int64) error {
	from, err := f.store.Unplace(ctx, pcIDs, f.now())
	if err != nil {
		return err
	}
	for _, id := range pcIDs {
		f.apply(id, func(p *pc) { p.room, p.seatRow, p.seatCol = nil, nil, nil })
		f.peers.Tell(Change{Kind: ChangePCQuiet, ID: id})
	}
	f.roomsChanged(from)
	return nil
}

// roomsChanged publishes a room event for each room (the zero Room is the PCs not placed) and
// has Counts count again: PCs moved between them.
func (f *Fleet) roomsChanged(rooms []models.Room) {
	f.showRooms(rooms)
	for _, r := range rooms {
		f.peers.Tell(Change{Kind: ChangeRoom, ID: r.ID, Room: r.Name})
	}
}

// showRooms publishes the room events to this instance's screens.
func (f *Fleet) showRooms(rooms []models.Room) {
	f.changes.Add(1)
	for i := range rooms {
		f.hub.Publish(events.Event{Kind: events.RoomChanged, At: f.now(), Room: &rooms[i]})
	}
}
