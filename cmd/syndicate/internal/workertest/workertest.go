// Package workertest runs the program as worker processes for the tests
// that need real processes (replicas killed mid-send, a soak measured from
// outside): it builds the binary, starts, kills and watches the workers,
// and counts the posts the platform fakes received.
package workertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Package is the import path of the program the workers run.
const Package = "github.com/syndicate-bot/syndicate/cmd/syndicate"

// Build compiles the program into dir with the caller's environment (so
// its GOFLAGS) and returns the binary's path. Tests build it without
// -race: the workers must run as fast as production builds, which the
// rate limits and timings of the tests assume.
func Build(dir string) (string, error) {
	path := filepath.Join(dir, "syndicate")
	cmd := exec.Command("go", "build", "-o", path, Package)
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", Package, err, out)
	}
	return path, nil
}

// Worker is one `syndicate run` process, restarted under the same id after
// a kill; its output is appended to one log file over all its starts. It
// is safe for concurrent use.
type Worker struct {
	ID string
	// Bin is the program, Config its config file, Log the file its output
	// goes to and Env its whole environment.
	Bin    string
	Config string
	Log    string
	Env    []string

	mu     sync.Mutex
	starts int
	cmd    *exec.Cmd
	done   chan struct{}
	killed bool
	exit   error
}

// Start runs the worker's process; it fails while the process still runs.
func (w *Worker) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != nil {
		select {
		case <-w.done:
		default:
			return fmt.Errorf("worker %s is still running", w.ID)
		}
	}
	w.starts++
	f, err := os.OpenFile(w.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("worker %s log: %w", w.ID, err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== test: start %d of %s at %s ===\n", w.starts, w.ID, time.Now().Format("15:04:05.000"))
	cmd := exec.Command(w.Bin, "run", "--config", w.Config)
	cmd.Env = w.Env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %s: %w", w.ID, err)
	}
	done := make(chan struct{})
	w.cmd, w.done, w.killed, w.exit = cmd, done, false, nil
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		w.exit = err
		w.mu.Unlock()
		close(done)
	}()
	return nil
}

// Kill ends the process with SIGKILL and waits until it is gone.
func (w *Worker) Kill() {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.killed = true
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// PID is the process id of the latest start (0 before the first).
func (w *Worker) PID() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// Starts counts the times the process was started.
func (w *Worker) Starts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.starts
}

// Running reports whether the process is alive.
func (w *Worker) Running() bool {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Died returns an error when the process ended without being killed, the
// one failure every test of workers checks for all along.
func (w *Worker) Died() error {
	w.mu.Lock()
	done, killed, exit := w.done, w.killed, w.exit
	w.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		if !killed {
			return fmt.Errorf("worker %s exited by itself: %v", w.ID, exit)
		}
	default:
	}
	return nil
}

// LogLines counts the lines of the worker's log that contain s.
func (w *Worker) LogLines(s string) int {
	b, err := os.ReadFile(w.Log)
	if err != nil {
		return 0
	}
	n := 0
	for l := range strings.Lines(string(b)) {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// Tail returns the last n lines of a file, or the error reading it.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
