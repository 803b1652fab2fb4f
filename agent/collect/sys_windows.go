package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// x/sys/windows wraps WTSGetActiveConsoleSessionId and WTSFreeMemory but not these.
var (
	procWTSQuerySessionInformation = windows.NewLazySystemDLL("wtsapi32.dll").NewProc("WTSQuerySessionInformationW")
	procGetSystemFirmwareTable     = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemFirmwareTable")
)

// rsmb is the firmware table provider 'RSMB' (the raw SMBIOS table) as the DWORD the API wants.
const rsmb = 'R'<<24 | 'S'<<16 | 'M'<<8 | 'B'

// WTS_INFO_CLASS values and the "no session at the console" id, from wtsapi32.h.
const (
	wtsUserName      = 5
	wtsDomainName    = 7
	noConsoleSession = 0xFFFFFFFF
)

// machineID is Windows's MachineGuid, set at installation. The 64-bit registry view is read
// explicitly: a 32-bit agent would otherwise see the WOW64 copy, which may differ.
func machineID(context.Context) (string, error) {
	id, err := registryString(`SOFTWARE\Microsoft\Cryptography`, "MachineGuid")
	if err != nil {
		return "", err
	}
	if id = strings.TrimSpace(id); id == "" {
		return "", errors.New("MachineGuid is empty")
	}
	return id, nil
}

// systemUUID is the SMBIOS system UUID, from the raw table Windows keeps of the firmware's.
func systemUUID(context.Context) (string, error) {
	if err := procGetSystemFirmwareTable.Find(); err != nil {
		return "", fmt.Errorf("smbios: %w", err)
	}
	// The first call, without a buffer, answers the size the table needs.
	size, _, err := procGetSystemFirmwareTable.Call(rsmb, 0, 0, 0)
	if size == 0 {
		return "", fmt.Errorf("smbios: GetSystemFirmwareTable: %w", err)
	}
	buf := make([]byte, size)
	n, _, err := procGetSystemFirmwareTable.Call(rsmb, 0, uintptr(unsafe.Pointer(&buf[0])), size)
	if n == 0 || n > size {
		return "", fmt.Errorf("smbios: GetSystemFirmwareTable (%d of %d bytes): %w", n, size, err)
	}
	return smbiosUUID(buf[:n])
}

// osEdition names the installation, e.g. "Windows 11 Pro".
func osEdition(context.Context) (string, error) {
	product, err := registryString(`SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "ProductName")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return "", err
	}
	editionID, err := registryString(`SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "EditionID")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return "", err
	}
	return windowsEdition(product, editionID, windows.RtlGetVersion().BuildNumber), nil
}

// osVersion is major.minor.build, e.g. "10.0.22631", from RtlGetVersion, which unlike
// GetVersionEx does not depend on the program's compatibility manifest.
func osVersion(context.Context) (string, error) {
	v := windows.RtlGetVersion()
	return fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber), nil
}

func cpuModel(context.Context) (string, error) {
	name, err := registryString(`HARDWARE\DESCRIPTION\System\CentralProcessor\0`, "ProcessorNameString")
	return strings.TrimSpace(name), err
}

func registryString(path, name string) (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return "", fmt.Errorf(`registry: open HKLM\%s: %w`, path, err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	if err != nil {
		return "", fmt.Errorf(`registry: read HKLM\%s\%s: %w`, path, name, err)
	}
	return v, nil
}

// fixedDisks lists the drive letters of fixed disks (not removable, network or optical),
// keyed like `C:\`. gopsutil's disk package is not used here: it lists every drive type
// without telling them apart, and on import it writes to the registry.
func fixedDisks(ctx context.Context) ([]volume, error) {
	buf := make([]uint16, 4*26+1) // "X:\" NUL for every letter, then the final NUL
	n, err := windows.GetLogicalDriveStrings(uint32(len(buf)), &buf[0])
	if err != nil {
		return nil, fmt.Errorf("disks: GetLogicalDriveStrings: %w", err)
	}
	var vols []volume
	// The roots come one after another, each ended by a NUL: `C:\` NUL `D:\` NUL.
	for root := range strings.SplitSeq(strings.TrimRight(string(utf16.Decode(buf[:n])), "\x00"), "\x00") {
		if ctx.Err() != nil {
			return vols, ctx.Err()
		}
		rootp, err := windows.UTF16PtrFromString(root)
		if err != nil || windows.GetDriveType(rootp) != windows.DRIVE_FIXED {
			continue
		}
		// A drive that cannot be read (a BitLocker-locked volume) is left out.
		if v, err := statDrive(root, rootp); err == nil {
			vols = append(vols, v)
		}
	}
	return vols, nil
}

func statDrive(root string, rootp *uint16) (volume, error) {
	var fsName [windows.MAX_PATH + 1]uint16
	if err := windows.GetVolumeInformation(rootp, nil, 0, nil, nil, nil, &fsName[0], uint32(len(fsName))); err != nil {
		return volume{}, fmt.Errorf("disks: GetVolumeInformation %s: %w", root, err)
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(rootp, &avail, &total, &free); err != nil {
		return volume{}, fmt.Errorf("disks: GetDiskFreeSpaceEx %s: %w", root, err)
	}
	if total == 0 {
		return volume{}, fmt.Errorf("disks: %s reports no size", root)
	}
	return volume{
		mount:   root,
		fstype:  windows.UTF16ToString(fsName[:]),
		total:   total,
		used:    total - free,
		free:    free,
		percent: float64(total-free) / float64(total) * 100,
	}, nil
}

// consoleUser is the user logged on at the physical console (not the service's account, nor a
// remote desktop user), as `DOMAIN\user`; "" when nobody is.
func consoleUser(context.Context) (string, error) {
	session := windows.WTSGetActiveConsoleSessionId()
	if session == noConsoleSession {
		return "", nil
	}
	user, err := sessionString(session, wtsUserName)
	if err != nil || user == "" {
		return "", err
	}
	domain, err := sessionString(session, wtsDomainName)
	if err != nil {
		return "", err
	}
	if domain == "" {
		return user, nil
	}
	return domain + `\` + user, nil
}

func sessionString(session uint32, class uintptr) (string, error) {
	if err := procWTSQuerySessionInformation.Find(); err != nil {
		return "", fmt.Errorf("current user: %w", err)
	}
	var buf *uint16
	var size uint32
	ok, _, err := procWTSQuerySessionInformation.Call(
		0, // WTS_CURRENT_SERVER_HANDLE: this PC
		uintptr(session), class, uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&size)))
	if ok == 0 {
		return "", fmt.Errorf("current user: WTSQuerySessionInformation: %w", err)
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(buf)))
	return windows.UTF16PtrToString(buf), nil
}

// processNames lists the executables' names (e.g. "chrome.exe") from a Toolhelp snapshot,
// which, unlike opening each process as gopsutil does, also names protected processes.
func processNames(context.Context) ([]string, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("processes: snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	entry := windows.ProcessEntry32{Size: uint32(unsafe.Sizeof(windows.ProcessEntry32{}))}
	var names []string
	for err = windows.Process32First(snap, &entry); err == nil; err = windows.Process32Next(snap, &entry) {
		if entry.ProcessID != 0 { // the idle pseudo-process, "[System Process]"
			names = append(names, windows.UTF16ToString(entry.ExeFile[:]))
		}
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return nil, fmt.Errorf("processes: walk snapshot: %w", err)
	}
	return names, nil
}
