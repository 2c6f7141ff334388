//go:build !js && !wasip1

package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/coder/websocket"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Config says how to run a guest.
type Config struct {
	// Bridge is the bridge URL the guest's default Dialer uses; the guest
	// sees it as WASMNET_BRIDGE.
	Bridge string

	// Args are the guest's arguments after its name.
	Args []string

	// Env is the guest's environment, besides WASMNET_PIPE and
	// WASMNET_BRIDGE.
	Env map[string]string

	// Output receives what the guest prints on stdout and stderr. Nil
	// discards it.
	Output io.Writer

	// Dirs mounts host directories into the guest, guest path to host
	// path.
	Dirs map[string]string

	// DialOptions are used for every WebSocket to a bridge, for example to
	// send an Origin header. Subprotocols are the guest's to choose.
	DialOptions *websocket.DialOptions
}

// ExitError reports a guest that exited with a non-zero status.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("guest exited with status %d", e.Code) }

// Module is a compiled guest, ready to run any number of times.
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

// Compile compiles a wasip1 module, using the on-disk compilation cache in
// cacheDir; an empty cacheDir means a wasmnet directory under
// os.UserCacheDir.
func Compile(ctx context.Context, wasm []byte, cacheDir string) (*Module, error) {
	cache, err := compilationCache(cacheDir)
	if err != nil {
		return nil, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return &Module{rt: rt, compiled: compiled}, nil
}

// Close frees the compiled module.
func (m *Module) Close(ctx context.Context) error { return m.rt.Close(ctx) }

// Run runs the guest until it exits or ctx is done. A guest that exits
// with a non-zero status returns an *ExitError.
func (m *Module) Run(ctx context.Context, cfg Config) error {
	output := cfg.Output
	if output == nil {
		output = io.Discard
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdinR.Close()
	outR, outW := io.Pipe()

	r := newRelay(stdinW, cfg.DialOptions)
	relayDone := make(chan struct{})
	go func() {
		r.serve(outR)
		close(relayDone)
	}()

	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(append([]string{"guest"}, cfg.Args...)...).
		WithStdin(stdinR).
		WithStdout(outW).
		WithStderr(output).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithEnv("WASMNET_PIPE", "1")
	if cfg.Bridge != "" {
		mc = mc.WithEnv("WASMNET_BRIDGE", cfg.Bridge)
	}
	for k, v := range cfg.Env {
		mc = mc.WithEnv(k, v)
	}
	if len(cfg.Dirs) > 0 {
		fsc := wazero.NewFSConfig()
		for guest, hostDir := range cfg.Dirs {
			fsc = fsc.WithDirMount(hostDir, guest)
		}
		mc = mc.WithFSConfig(fsc)
	}

	// An idle guest waits in poll_oneoff for stdin or its next timer,
	// where wazero cannot see ctx end; closing stdin wakes it.
	stopWake := context.AfterFunc(ctx, func() { stdinW.Close() })
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, mc)
	stopWake()
	if mod != nil {
		mod.Close(ctx)
	}
	outW.Close()
	r.close()
	stdinW.Close()
	<-relayDone

	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ExitError{Code: exit.ExitCode()}
	}
	return err
}

// Run compiles wasm and runs it once. See Module.Run.
func Run(ctx context.Context, wasm []byte, cfg Config) error {
	m, err := Compile(ctx, wasm, "")
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	return m.Run(ctx, cfg)
}

var (
	cacheMu sync.Mutex
	caches  = map[string]wazero.CompilationCache{}
)

// compilationCache returns the process-wide cache for dir.
func compilationCache(dir string) (wazero.CompilationCache, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "wasmnet", "wazero")
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := caches[dir]; ok {
		return c, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, err
	}
	caches[dir] = c
	return c, nil
}
