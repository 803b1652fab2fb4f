package handlers

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// passwordPath is the password change page, where requirePasswordChanged sends accounts.
const passwordPath = "/password"

// requirePasswordChanged holds an account that must change its password (a generated first
// password, or one an admin reset) at that change: every other page sends it to the password
// page, every other admin API route answers 403 PASSWORD_CHANGE_REQUIRED. It goes after
// requireSession; the routes such an account still needs do not pass here (signedIn, routes.go).
func (s *Server) requirePasswordChanged(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentAdmin(c).MustChangePassword {
			return next(c)
		}
		return newError(http.StatusForbidden, "PASSWORD_CHANGE_REQUIRED", "먼저 이 계정의 비밀번호를 바꾸세요.",
			"this account must change its password first: POST /api/admin/password with current_password and new_password").
			pagesTo(http.StatusSeeOther, passwordPath)
	}
}

// formKO names the pages' form fields in Korean, for their errors.
var formKO = map[string]string{"expires_in": "유효 시간", "row": "행", "col": "열", "rows": "행 수", "cols": "열 수",
	"pc": "PC 번호", "priority": "우선순위", "timeout": "제한 시간", "password": "비밀번호", "new_password": "새 비밀번호"}

// fieldKO is a form field's Korean name, or the field's own where it has none.
func fieldKO(name string) string {
	if ko, ok := formKO[name]; ok {
		return ko
	}
	return name
}

// numberFields reads whole numbers from the form or the query, in the order of names.
func numberFields(c echo.Context, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, name := range names {
		v := strings.TrimSpace(c.FormValue(name))
		if v == "" {
			return nil, badRequest(codeMissingField, "%[2]s을(를) 넣으세요", "%[1]s is required", name, fieldKO(name))
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, badRequest(codeInvalidField, "%[3]s은(는) 정수여야 합니다 (받은 값 %[2]q)", "%[1]s must be a whole number, not %[2]q", name, v, fieldKO(name))
		}
		out[i] = n
	}
	return out, nil
}

// roomField is the room a layout action is about.
func roomField(c echo.Context) (string, error) {
	room := c.FormValue("room")
	if room == "" {
		return "", badRequest(codeMissingField, "강의실을 고르세요", "room is required")
	}
	return room, nil
}

func (s *Server) passwordView(c echo.Context, problem string) views.PasswordView {
	return views.PasswordView{Page: s.page(c, views.T(c.Request().Context(), "비밀번호 변경", "Change password"), ""),
		Forced: currentAdmin(c).MustChangePassword, Error: problem}
}

// passwordPage is the password change form.
func (s *Server) passwordPage(c echo.Context) error {
	return s.render(c, http.StatusOK, views.PasswordPage(s.passwordView(c, "")))
}

// changePasswordPage changes the caller's password and goes to the start page; a refused change
// shows the form again with the reason.
func (s *Server) changePasswordPage(c echo.Context) error {
	pw := c.FormValue("new_password")
	var err error
	if pw != c.FormValue("repeat_password") {
		err = badRequest(codeInvalidField, "새 비밀번호 두 개가 서로 다릅니다", "the new password and its repetition differ")
	} else {
		err = s.changeOwn(c, c.FormValue("current_password"), pw)
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	ae := toAPIError(err)
	if ae.Status >= http.StatusInternalServerError {
		return err
	}
	return s.render(c, ae.Status, views.PasswordPage(s.passwordView(c, ae.text(c.Request().Context()))))
}

// renderAccounts renders the accounts page, notice telling what the last action did.
func (s *Server) renderAccounts(c echo.Context, notice string) error {
	ctx := c.Request().Context()
	as, err := s.store.ListAdmins(ctx)
	if err != nil {
		return err
	}
	v := views.AccountsView{Page: s.page(c, views.T(ctx, "계정", "Accounts"), "accounts"), Notice: notice}
	for _, a := range as {
		v.Accounts = append(v.Accounts, views.Account{Username: a.Username, Role: a.Role,
			MustChange: a.MustChangePassword, CreatedAt: a.CreatedAt})
	}
	return s.renderPage(c, views.AccountsPage(v), views.PanelUpdate(views.AccountsPanel(v)))
}

// accountsPage lists the accounts.
func (s *Server) accountsPage(c echo.Context) error { return s.renderAccounts(c, "") }

// createAccountPage adds an account from the form: username, role, first password.
func (s *Server) createAccountPage(c echo.Context) error {
	a, err := s.addAccount(c, c.FormValue("username"), c.FormValue("password"), c.FormValue("role"))
	if err != nil {
		return err
	}
	return s.renderAccounts(c, views.T(c.Request().Context(),
		"계정 "+a.Username+"을(를) 만들었습니다. 첫 로그인 때 비밀번호를 바꿔야 합니다.",
		"Account "+a.Username+" created; it must change its password at its first sign-in."))
}

// resetPasswordPage sets another account's password from the form: username, new_password.
func (s *Server) resetPasswordPage(c echo.Context) error {
	username := c.FormValue("username")
	if err := s.resetAccountPassword(c, username, c.FormValue("new_password")); err != nil {
		return err
	}
	return s.renderAccounts(c, views.T(c.Request().Context(),
		username+"의 비밀번호를 초기화했습니다. 다음 로그인 때 바꿔야 합니다.",
		"Password of "+username+" reset; it must be changed at the next sign-in."))
}

func pinView(t *models.RegistrationToken) views.PIN {
	return views.PIN{ID: t.ID, UsageType: t.UsageType, UsedCount: t.UsedCount, ExpiresAt: t.ExpiresAt, CreatedBy: t.CreatedBy}
}

// installCommands are the install one-liners of docs/AGENT.md for this server and a PIN.
func installCommands(base, pin string) []views.InstallCommand {
	return []views.InstallCommand{
		{ID: "powershell", System: "Windows (PowerShell)", Line: `powershell -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((iwr -UseBasicParsing ` +
			base + `/install/install.ps1).Content)) -Pin ` + pin + `"`},
		{ID: "cmd", System: "Windows (cmd)", Line: `curl.exe -fsSLo %TEMP%\wcms-install.cmd ` + base +
			`/install/install.cmd && %TEMP%\wcms-install.cmd ` + pin},
		{ID: "linux", System: "Linux", Line: "curl -fsSL " + base + "/install/install.sh | sudo sh -s -- " + pin},
	}
}

// renderPINs renders the PINs page; created, when set, is the PIN just issued (value its only
// showing), with its install commands.
func (s *Server) renderPINs(c echo.Context, created *models.RegistrationToken, value string) error {
	ctx := c.Request().Context()
	pins, err := s.store.ListPINs(ctx, time.Now())
	if err != nil {
		return err
	}
	v := views.PINsView{Page: s.page(c, views.T(ctx, "등록 PIN", "Registration PINs"), "pins"), Warning: s.installWarning(c)}
	for i := range pins {
		v.PINs = append(v.PINs, pinView(&pins[i]))
	}
	if created != nil {
		base, err := s.scriptBaseURL(c)
		if err != nil {
			return fmt.Errorf("PIN install commands: %w", err)
		}
		p := pinView(created)
		p.Token = value
		v.Created, v.Install = &p, installCommands(base, value)
	}
	return s.renderPage(c, views.PINsPage(v), views.PanelUpdate(views.PINsPanel(v)))
}

// pinsPage lists the usable PINs.
func (s *Server) pinsPage(c echo.Context) error { return s.renderPINs(c, nil, "") }

// createPINPage issues a PIN from the form: usage_type, expires_in (seconds).
func (s *Server) createPINPage(c echo.Context) error {
	n, err := numberFields(c, "expires_in")
	if err != nil {
		return err
	}
	t, value, err := s.issuePIN(c, c.FormValue("usage_type"), n[0])
	if err != nil {
		return err
	}
	return s.renderPINs(c, t, value)
}

// revokePINPage ends a PIN at once.
func (s *Server) revokePINPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.pinEnded(c, s.store.RevokePINByID(c.Request().Context(), id, time.Now())); err != nil {
		return err
	}
	return s.renderPINs(c, nil, "")
}

// renderLayout renders the layout editor on room ("": the first room); pick, when set, opens
// the seat picker on that seat.
func (s *Server) renderLayout(c echo.Context, room string, pick *views.Seat) error {
	return s.renderLayoutNotice(c, room, pick, "")
}

// renderLayoutNotice renders the layout editor with notice, what the last action did.
func (s *Server) renderLayoutNotice(c echo.Context, room string, pick *views.Seat, notice string) error {
	ctx := c.Request().Context()
	rooms, err := s.store.ListRooms(ctx)
	if err != nil {
		return err
	}
	pcs := s.fleet.Views(everyPC)
	v := views.LayoutView{Page: s.page(c, views.T(ctx, "배치", "Layout"), "layout"), Pick: pick, Notice: notice}
	for _, r := range rooms {
		v.Rooms = append(v.Rooms, views.LayoutRoom{Name: r.Name, Rows: r.Rows, Cols: r.Cols, PCs: r.PCCount})
	}
	for i := range v.Rooms {
		if v.Rooms[i].Name == room || room == "" {
			v.Room = &v.Rooms[i]
			break
		}
	}
	if room != "" && v.Room == nil {
		return newError(http.StatusNotFound, codeNotFound, "%q 강의실이 없습니다", "no room %q", room)
	}
	if pick != nil && (v.Room == nil || pick.Row < 1 || pick.Row > v.Room.Rows || pick.Col < 1 || pick.Col > v.Room.Cols) {
		return badRequest(codeInvalidField, "%d행 %d열은 이 강의실에 없는 자리입니다", "seat %d-%d is not in the room", pick.Row, pick.Col)
	}
	var seated []models.PCView
	for i := range pcs {
		p := &pcs[i]
		pc := views.PlaceablePC{ID: p.ID, Hostname: p.Hostname}
		if p.Room != nil && p.SeatRow != nil && p.SeatCol != nil {
			pc.Room, pc.Row, pc.Col = *p.Room, *p.SeatRow, *p.SeatCol
		}
		v.PCs = append(v.PCs, pc)
		if !p.Verified {
			v.Unverified = append(v.Unverified, views.UnverifiedPC{ID: p.ID, Hostname: p.Hostname, MachineID: p.MachineID})
		}
		if v.Room != nil && p.Room != nil && *p.Room == v.Room.Name {
			seated = append(seated, *p)
		}
	}
	if v.Room != nil {
		v.Grid = seatGrid(v.Room.Rows, v.Room.Cols, seated)
		views.Shorten(views.SeatTiles(v.Grid))
		v.FillPrefix = fillPrefix(v.Room.Name, seated, pcs)
		v.Preview = fillPlan(v.Room.Rows, v.Room.Cols, seated, pcs, v.FillPrefix, models.FillRows)
	}
	return s.renderPage(c, views.LayoutPage(v), views.PanelUpdate(views.LayoutPanel(v)))
}

// layoutPage is the layout editor: ?room=NAME, and ?row=&col= to open the picker on a seat.
func (s *Server) layoutPage(c echo.Context) error {
	var pick *views.Seat
	if q := c.QueryParams(); q.Has("row") || q.Has("col") {
		n, err := numberFields(c, "row", "col")
		if err != nil {
			return err
		}
		pick = &views.Seat{Row: n[0], Col: n[1]}
	}
	return s.renderLayout(c, c.QueryParam("room"), pick)
}

// roomForm reads a room's name, rows and cols from the form.
func roomForm(c echo.Context) (*roomRequest, error) {
	name := c.FormValue("name")
	n, err := numberFields(c, "rows", "cols")
	if err != nil {
		return nil, err
	}
	return &roomRequest{Name: &name, Rows: &n[0], Cols: &n[1]}, nil
}

// createRoomPage adds a room from the form and shows it.
func (s *Server) createRoomPage(c echo.Context) error {
	req, err := roomForm(c)
	if err != nil {
		return err
	}
	r, err := s.addRoom(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return s.renderLayout(c, r.Name, nil)
}

// updateRoomPage renames and resizes the form's room.
func (s *Server) updateRoomPage(c echo.Context) error {
	room, err := roomField(c)
	if err != nil {
		return err
	}
	req, err := roomForm(c)
	if err != nil {
		return err
	}
	r, err := s.changeRoom(c.Request().Context(), room, req)
	if err != nil {
		return err
	}
	return s.renderLayout(c, r.Name, nil)
}

// deleteRoomPage removes an empty room (?room=) and shows the first room left.
func (s *Server) deleteRoomPage(c echo.Context) error {
	room, err := roomField(c)
	if err != nil {
		return err
	}
	if err := s.fleet.DeleteRoom(c.Request().Context(), room); err != nil {
		return err
	}
	return s.renderLayout(c, "", nil)
}

// placePCPage puts the form's PC on a seat (room, row, col), moving it from its old seat.
func (s *Server) placePCPage(c echo.Context) error {
	room, err := roomField(c)
	if err != nil {
		return err
	}
	n, err := numberFields(c, "pc", "row", "col")
	if err != nil {
		return err
	}
	if err := s.fleet.SetSeat(c.Request().Context(), int64(n[0]), room, n[1], n[2]); err != nil {
		return err
	}
	return s.renderLayout(c, room, nil)
}

// unplacePCPage takes a PC off its seat; the editor goes on showing ?room=.
func (s *Server) unplacePCPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.SetSeat(c.Request().Context(), id, "", 0, 0); err != nil {
		return err
	}
	return s.renderLayout(c, c.QueryParam("room"), nil)
}

// verifyPCPage marks a PC verified; the editor goes on showing ?room=.
func (s *Server) verifyPCPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.SetVerified(c.Request().Context(), id, true); err != nil {
		return err
	}
	return s.renderLayout(c, c.QueryParam("room"), nil)
}

// fillPrefix is the fill form's first prefix: the most common hostname prefix of the room's
// PCs; for an empty room, the room's name and a dash (ENG301 → "ENG301-") when unplaced PCs
// are named so, else the most common prefix of the unplaced PCs.
func fillPrefix(room string, seated, all []models.PCView) string {
	if p := commonPrefix(seated); p != "" {
		return p
	}
	unplaced := slices.DeleteFunc(slices.Clone(all), func(v models.PCView) bool { return v.Room != nil })
	if countMatches(unplaced, room+"-") > 0 {
		return room + "-"
	}
	return commonPrefix(unplaced)
}

// commonPrefix is the most frequent hostname part up to and including the first dash
// (ENG301-PC01 → "ENG301-"); ties go to the first in natural order.
func commonPrefix(pcs []models.PCView) string {
	count := map[string]int{}
	best := ""
	for _, v := range pcs {
		i := strings.IndexByte(v.Hostname, '-')
		if i < 0 {
			continue
		}
		p := v.Hostname[:i+1]
		count[p]++
		if count[p] > count[best] || count[p] == count[best] && models.CompareNatural(p, best) < 0 {
			best = p
		}
	}
	return best
}

// countMatches counts the unplaced PCs whose hostname starts with prefix.
func countMatches(pcs []models.PCView, prefix string) int {
	return len(prefixMatches(pcs, prefix))
}

// prefixMatches is the unplaced PCs whose hostname starts with prefix, in natural order.
func prefixMatches(pcs []models.PCView, prefix string) []models.PCView {
	if strings.TrimSpace(prefix) == "" {
		return nil
	}
	keep := matchesPrefix(prefix, false)
	out := slices.DeleteFunc(slices.Clone(pcs), func(v models.PCView) bool { return !keep(&v) })
	slices.SortFunc(out, func(a, b models.PCView) int {
		return cmp.Or(models.CompareNatural(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// fillPlan is what a fill of the unplaced PCs prefix matches would do to a rows × cols room
// whose seated PCs are seated: the same order and seats as models.Store.FillRoom.
func fillPlan(rows, cols int, seated, all []models.PCView, prefix, order string) views.FillPreview {
	grid := make([][]views.PreviewSeat, rows)
	for r := range grid {
		grid[r] = make([]views.PreviewSeat, cols)
	}
	taken := map[[2]int]bool{}
	for _, p := range seated {
		if p.SeatRow != nil && p.SeatCol != nil && *p.SeatRow <= rows && *p.SeatCol <= cols {
			grid[*p.SeatRow-1][*p.SeatCol-1].Hostname = p.Hostname
			taken[[2]int{*p.SeatRow, *p.SeatCol}] = true
		}
	}
	free := models.SeatOrder(rows, cols, order, func(row, col int) bool { return !taken[[2]int{row, col}] })
	matched := prefixMatches(all, prefix)
	for i := range min(len(free), len(matched)) {
		grid[free[i][0]-1][free[i][1]-1] = views.PreviewSeat{Hostname: matched[i].Hostname, New: true}
	}
	return views.FillPreview{Matches: len(matched), Free: len(free), Grid: grid}
}

// fillPreviewPage shows what filling ?room= with the unplaced PCs ?prefix= matches, in ?order=,
// would do, as the fill form's prefix is typed.
func (s *Server) fillPreviewPage(c echo.Context) error {
	room, err := roomField(c)
	if err != nil {
		return err
	}
	order, err := fillOrder(c.QueryParam("order"))
	if err != nil {
		return err
	}
	r, err := s.store.RoomByName(c.Request().Context(), room)
	if err != nil {
		return err
	}
	pcs := s.fleet.Views(everyPC)
	seated := slices.DeleteFunc(slices.Clone(pcs), func(v models.PCView) bool { return !v.InRoom(room) })
	return s.render(c, http.StatusOK, views.FillPreviewBlock(fillPlan(r.Rows, r.Cols, seated, pcs, c.QueryParam("prefix"), order)))
}

// idFields reads the form's pc_ids.
func idFields(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, badRequest(codeInvalidField, "보낸 양식을 읽을 수 없습니다. 페이지를 새로 고친 뒤 다시 하세요.", "unreadable form")
	}
	var ids []int64
	for _, v := range form["pc_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, badRequest(codeInvalidField, "고른 PC의 번호가 올바르지 않습니다 (%q)", "pc_ids must be PC ids, not %q", v)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, badRequest(codeMissingField, "PC를 하나 이상 고르세요", "choose at least one PC")
	}
	return ids, nil
}

// fillPage fills the form's room: the chosen pc_ids, or the unplaced PCs the prefix matches.
func (s *Server) fillPage(c echo.Context) error {
	ctx := c.Request().Context()
	room, err := roomField(c)
	if err != nil {
		return err
	}
	req := fillRequest{Order: c.FormValue("order")}
	if prefix := c.FormValue("prefix"); prefix != "" {
		req.Prefix = &prefix
	} else if req.PCIDs, err = idFields(c); err != nil {
		return err
	}
	r, err := s.store.RoomByName(ctx, room)
	if err != nil {
		return err
	}
	filled, err := s.fill(ctx, r.ID, &req)
	if err != nil {
		return err
	}
	placed, left := len(filled.Placed), len(filled.Left)
	notice := views.T(ctx, fmt.Sprintf("%d대 배치, %d대는 자리가 없어 남김", placed, left),
		fmt.Sprintf("%d placed, %d left without a seat", placed, left))
	return s.renderLayoutNotice(c, room, nil, notice)
}

// unplaceSelectedPage takes the chosen pc_ids off their seats; the editor goes on showing room.
func (s *Server) unplaceSelectedPage(c echo.Context) error {
	ids, err := idFields(c)
	if err != nil {
		return err
	}
	if err := s.fleet.Unplace(c.Request().Context(), ids); err != nil {
		return err
	}
	ctx := c.Request().Context()
	notice := views.T(ctx, fmt.Sprintf("%d대 배치 해제", len(ids)), fmt.Sprintf("%d unplaced", len(ids)))
	return s.renderLayoutNotice(c, c.FormValue("room"), nil, notice)
}
