package repl

import (
	"context"
	"os"
	"os/signal"
	"sync"
)

// interrupter turns Ctrl-C (SIGINT) into cancelling the running command's context. It never ends
// the session itself: with nothing running, a Ctrl-C caught here does nothing, like cdb at its
// prompt (q quits).
type interrupter struct {
	mu      sync.Mutex
	cancel  context.CancelFunc // the running command's; nil when idle
	fired   bool               // the running command was interrupted
	signals chan os.Signal
	done    chan struct{}
}

// catch starts relaying SIGINT to the running command until stop is called. While nothing
// catches SIGINT the process keeps Go's default (Ctrl-C ends it), which is what a batch reading
// a pipe wants between commands: there is no prompt to type q at.
func (i *interrupter) catch() (stop func()) {
	i.signals = make(chan os.Signal, 1)
	i.done = make(chan struct{})
	signal.Notify(i.signals, os.Interrupt)
	go func(signals chan os.Signal, done chan struct{}) {
		for {
			select {
			case <-signals:
				i.interrupt()
			case <-done:
				return
			}
		}
	}(i.signals, i.done)
	return func() {
		signal.Stop(i.signals)
		close(i.done)
	}
}

// begin derives the context of one command; end must be called when the command returns and
// reports whether it was interrupted.
func (i *interrupter) begin(parent context.Context) (context.Context, func() (interrupted bool)) {
	ctx, cancel := context.WithCancel(parent)
	i.mu.Lock()
	i.cancel, i.fired = cancel, false
	i.mu.Unlock()
	return ctx, func() bool {
		i.mu.Lock()
		fired := i.fired
		i.cancel, i.fired = nil, false
		i.mu.Unlock()
		cancel()
		return fired
	}
}

// interrupted reports whether Ctrl-C stopped the running command.
func (i *interrupter) interrupted() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fired
}

// interrupt cancels the running command, if any.
func (i *interrupter) interrupt() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cancel != nil {
		i.fired = true
		i.cancel()
	}
}
