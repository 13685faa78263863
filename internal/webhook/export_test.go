package webhook

import "time"

// OnSleep lets tests hear when a worker waits between attempts, and until
// when, so they advance the fake clock exactly there.
func OnSleep(s *Service, f func(until time.Time)) { s.onSleep = f }
