package execute

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// New returns the Windows executor.
func New(o Options) Executor {
	o = o.withDefaults()
	system32, err := windows.GetSystemDirectory()
	if err != nil {
		system32 = `C:\Windows\System32`
	}
	p := procs{runner: o.Runner, codepage: consoleCodePage()}
	if o.Messenger == nil {
		o.Messenger = msgExe{procs: p, system32: system32}
	}
	return newExecutor(o, p, winSystem{
		procs:      p,
		system32:   system32,
		findChoco:  findChoco,
		usersGroup: usersGroupName(),
	})
}

// consoleCodePage is the code page console programs write in: our console's when we have one,
// else the OEM code page, which Windows gives the consoles of a service's children (949 on
// Korean Windows).
func consoleCodePage() uint32 {
	if cp, err := windows.GetConsoleOutputCP(); err == nil && cp != 0 {
		return cp
	}
	// x/sys/windows has no GetOEMCP.
	cp, _, _ := windows.NewLazySystemDLL("kernel32.dll").NewProc("GetOEMCP").Call()
	if cp != 0 {
		return uint32(cp)
	}
	return windows.GetACP()
}

// findChoco finds choco.exe on PATH or where Chocolatey installs it; the service's PATH does not
// change when Chocolatey is installed after the agent started.
func findChoco() (string, bool) {
	if path, err := exec.LookPath("choco.exe"); err == nil {
		return path, true
	}
	dir := os.Getenv("ProgramData")
	if dir == "" {
		dir = `C:\ProgramData`
	}
	path := filepath.Join(dir, "chocolatey", "bin", "choco.exe")
	if _, err := os.Stat(path); err != nil {
		return "", false
	}
	return path, true
}

// usersGroupName is the local name of the built-in Users group (S-1-5-32-545).
func usersGroupName() string {
	sid, err := windows.CreateWellKnownSid(windows.WinBuiltinUsersSid)
	if err == nil {
		if name, _, _, err := sid.LookupAccount(""); err == nil {
			return name
		}
	}
	return "Users"
}

// startTree starts cmd inside a job object, so that at the deadline every process it started
// dies with it, even those whose parent has already exited. The process starts suspended and
// runs only once it is in the job, so nothing it starts can escape.
func startTree(cmd *exec.Cmd, p Process) (func(), error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("create job object: %w", err)
	}
	release := func() { windows.CloseHandle(job) }
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: p.CmdLine, CreationFlags: windows.CREATE_SUSPENDED}
	// Exit code 1 for the killed processes, as taskkill /F gives them.
	cmd.Cancel = func() error { return windows.TerminateJobObject(job, 1) }
	if err := cmd.Start(); err != nil {
		release()
		return nil, err
	}
	if err := joinAndResume(job, uint32(cmd.Process.Pid)); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		release()
		return nil, err
	}
	return release, nil
}

// joinAndResume puts the suspended process pid into job, then resumes its threads.
func joinAndResume(job windows.Handle, pid uint32) error {
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return fmt.Errorf("open process: %w", err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		return fmt.Errorf("assign to job object: %w", err)
	}

	// Go keeps no handle to the main thread, so find the process's threads in a snapshot.
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("thread snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	resumed := 0
	te := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != pid {
			continue
		}
		t, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return fmt.Errorf("open thread: %w", err)
		}
		_, err = windows.ResumeThread(t)
		windows.CloseHandle(t)
		if err != nil {
			return fmt.Errorf("resume thread: %w", err)
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return fmt.Errorf("list threads: %w", err)
	}
	if resumed == 0 {
		return errors.New("resume: the process has no threads")
	}
	return nil
}

// exitCode is the process's exit code.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	return ps.ExitCode()
}
