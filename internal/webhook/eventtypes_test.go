package webhook_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/webhook"
)

func TestEventTypes(t *testing.T) {
	t.Run("every FlexMatch and placement event type may be filtered on", func(t *testing.T) {
		for _, typ := range []string{
			matchmaking.EventSearching, matchmaking.EventPotentialMatch, matchmaking.EventAcceptMatch,
			matchmaking.EventAcceptMatchCompleted, matchmaking.EventSucceeded, matchmaking.EventTimedOut,
			matchmaking.EventCancelled, matchmaking.EventFailed,
			placement.EventPlacementFulfilled, placement.EventPlacementCancelled,
			placement.EventPlacementTimedOut, placement.EventPlacementFailed,
		} {
			if !slices.Contains(webhook.EventTypes, typ) {
				t.Errorf("%s is delivered but not in webhook.EventTypes", typ)
			}
		}
	})
	t.Run("every fleet event code Muster records may be filtered on", func(t *testing.T) {
		// Fleet event codes are written as literals where the event is
		// recorded (fleet.Service.AddEvent): read them from the sources, so
		// a new code cannot be left out of the filter's list.
		call := regexp.MustCompile(`\.AddEvent\(`)
		code := regexp.MustCompile(`\.AddEvent\([^"\n]*?"([A-Z][A-Z0-9_]*)"`)
		found := 0
		err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(src), "\n") {
				if !call.MatchString(line) {
					continue
				}
				m := code.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("%s: a fleet event whose code is not a literal: %s", path, strings.TrimSpace(line))
					continue
				}
				found++
				if !slices.Contains(webhook.EventTypes, m[1]) {
					t.Errorf("%s: fleet event code %s is recorded but not in webhook.EventTypes", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if found == 0 {
			t.Fatal("no fleet event was found in the sources: the scan is broken")
		}
	})
}
