//go:build unix

package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/process"
)

func cpuModel(ctx context.Context) (string, error) {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("cpu info: %w", err)
	}
	if len(infos) == 0 {
		return "", errors.New("cpu info: no processor reported")
	}
	return strings.TrimSpace(infos[0].ModelName), nil
}

// processNames lists the running processes' names; processes that exit meanwhile are skipped.
func processNames(ctx context.Context) ([]string, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("processes: %w", err)
	}
	names := make([]string, 0, len(procs))
	for _, p := range procs {
		if name, err := p.NameWithContext(ctx); err == nil {
			names = append(names, name)
		}
	}
	return names, ctx.Err()
}
