package execute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// osRunner runs real processes. How a process tree is started and killed is per OS (startTree,
// exitCode in exec_windows.go and exec_linux.go).
type osRunner struct {
	maxOutput int
	waitDelay time.Duration
}

func (r osRunner) Run(ctx context.Context, p Process) ([]byte, int, error) {
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	if len(p.Env) > 0 {
		cmd.Env = append(os.Environ(), p.Env...)
	}
	if p.Stdin != "" {
		cmd.Stdin = strings.NewReader(p.Stdin)
	}
	out := &capWriter{max: r.maxOutput}
	// One comparable writer for both: exec then never calls Write concurrently.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = r.waitDelay

	release, err := startTree(cmd, p)
	if err != nil {
		return nil, -1, fmt.Errorf("start %s: %w", programName(p.Path), err)
	}
	defer release()
	err = cmd.Wait()
	code := exitCode(cmd.ProcessState)
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out.bytes(), code, ctx.Err()
	case errors.Is(err, exec.ErrWaitDelay):
		// The process exited, but something it left running still holds the output pipe.
		return append(out.bytes(), "\n[stopped reading: a background process still holds the output]"...), code, nil
	case errors.As(err, &exitErr):
		return out.bytes(), code, nil
	case err != nil:
		return out.bytes(), code, fmt.Errorf("wait %s: %w", programName(p.Path), err)
	}
	return out.bytes(), code, nil
}

// programName is the file name of path, whether its separators are Windows' or Linux'.
func programName(path string) string {
	return path[strings.LastIndexAny(path, `/\`)+1:]
}

// procs runs processes through a Runner and turns what happened into a Result.
type procs struct {
	runner   Runner
	codepage uint32 // what non-UTF-8 output is decoded from
}

// run runs p; the result is a success only when p exits with code 0.
func (s procs) run(ctx context.Context, p Process) Result {
	out, code, err := s.runner.Run(ctx, p)
	res := Result{Status: wire.ResultSuccess, Output: decode(out, s.codepage)}
	if code != -1 {
		res.ExitCode = &code
	}
	name := programName(p.Path)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		res.Status = wire.ResultTimeout
		res.ErrorMessage = name + " was killed with the processes it started"
	case err != nil:
		res.Status, res.ErrorMessage = wire.ResultError, err.Error()
	case code != 0:
		res.Status, res.ErrorMessage = wire.ResultError, fmt.Sprintf("%s exited with code %d", name, code)
	}
	return res
}

// check runs p and returns an error, with p's output, unless it succeeded.
func (s procs) check(ctx context.Context, p Process) error {
	res := s.run(ctx, p)
	if res.ok() {
		return nil
	}
	msg := res.ErrorMessage
	if out := strings.TrimSpace(res.Output); out != "" {
		msg += ": " + out
	}
	if res.Status == wire.ResultTimeout {
		return fmt.Errorf("%s: %w", msg, context.DeadlineExceeded)
	}
	return errors.New(msg)
}
