package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/openivr/ivr/tts"
)

// ErrNotInstalled reports a missing synthesizer program.
var ErrNotInstalled = errors.New("tts/embedded: synthesizer program not installed")

// lookPath finds a program once per path and explains how to install it.
func lookPath(prog, pkg string) (string, error) {
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("%w: %s (apt-get install %s)", ErrNotInstalled, prog, pkg)
	}
	return p, nil
}

// job is one synthesis that runs a program per chunk of text, one after
// another, and pipes each program's WAV output into a stream as it comes.
type job struct {
	ctx    context.Context
	cancel context.CancelFunc
	pipe   *tts.Pipe
}

// newJob returns a job whose stream is at rate Hz; closing the stream
// cancels the job and kills its running program.
func newJob(ctx context.Context, rate int) *job {
	ctx, cancel := context.WithCancel(ctx)
	return &job{ctx: ctx, cancel: cancel, pipe: tts.NewPipe(rate, cancel)}
}

// run executes argv for each chunk (argv(chunk) builds the command line),
// copying its output into the stream, and finishes the stream. It is
// meant to run in its own goroutine.
func (j *job) run(chunks []string, argv func(chunk string) []string, stdin bool) {
	defer j.cancel()
	for _, c := range chunks {
		if err := j.runOne(argv(c), c, stdin); err != nil {
			if errors.Is(err, tts.ErrClosed) {
				err = nil
			} else if j.ctx.Err() != nil {
				err = j.ctx.Err()
			}
			j.pipe.Finish(err)
			return
		}
	}
	j.pipe.Finish(nil)
}

// stderrLimit bounds the error text kept from a failing program.
const stderrLimit = 512

func (j *job) runOne(args []string, text string, stdin bool) error {
	cmd := exec.CommandContext(j.ctx, args[0], args[1:]...)
	if stdin {
		cmd.Stdin = strings.NewReader(text)
	}
	var stderr limitedBuffer
	stderr.limit = stderrLimit
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	copyErr := tts.CopyWAV(j.pipe, out)
	if copyErr != nil {
		// Drain so the program is not stuck writing, then reap it.
		_, _ = io.Copy(io.Discard, out)
	}
	waitErr := cmd.Wait()
	switch {
	case copyErr != nil && !errors.Is(copyErr, tts.ErrBadWAV):
		return copyErr
	case waitErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return fmt.Errorf("%s: %w: %s", args[0], waitErr, msg)
		}
		return fmt.Errorf("%s: %w", args[0], waitErr)
	case copyErr != nil:
		return fmt.Errorf("%s: %w", args[0], copyErr)
	}
	return nil
}

// limitedBuffer keeps the first limit bytes written to it.
type limitedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
