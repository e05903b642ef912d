package identity

import (
	"sync"
	"time"
)

// logRepeatWindow is how long a repeated failure stays out of the log after
// it was logged once. An outage of Applivery's API fails every sign-in and
// every refresh the same way, and one line per window and kind reports it.
const logRepeatWindow = 10 * time.Second

// logLimiter lets the first event of a kind through, then holds back repeats
// within logRepeatWindow and counts them for the next line that goes out.
type logLimiter struct {
	mu     sync.Mutex
	events map[string]*limitedEvent
}

type limitedEvent struct {
	logged     time.Time
	suppressed int
}

// allow reports whether an event of kind may be logged at now, and how many
// events of that kind it held back since the last one logged.
func (l *logLimiter) allow(kind string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.events == nil {
		l.events = map[string]*limitedEvent{}
	}

	event, seen := l.events[kind]
	if seen && now.Sub(event.logged) < logRepeatWindow {
		event.suppressed++
		return false, 0
	}

	for k, old := range l.events {
		if now.Sub(old.logged) >= logRepeatWindow && old.suppressed == 0 {
			delete(l.events, k)
		}
	}

	suppressed := 0
	if seen {
		suppressed = event.suppressed
	}

	l.events[kind] = &limitedEvent{logged: now}

	return true, suppressed
}
