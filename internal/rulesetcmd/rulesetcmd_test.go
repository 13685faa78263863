package rulesetcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runVerb(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	var code int
	switch name {
	case "validate":
		code = Validate(context.Background(), args, &out, &errb)
	case "explain":
		code = Explain(context.Background(), args, &out, &errb)
	case "simulate":
		code = Simulate(context.Background(), args, &out, &errb)
	}
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		lacks    []string
	}{
		{"a valid file exits 0 and says ok", []string{"testdata/fiveonfive.json"}, 0,
			[]string{"testdata/fiveonfive.json: ok (2 teams, 2 rules, up to 10 players, small match)"}, nil},
		{"an invalid file prints FILE: PATH: reason per problem and exits 1", []string{"testdata/fiveonfive.json", "testdata/broken.json"}, 1,
			[]string{"testdata/broken.json: rules[0].maxDistance: must be a number ≥ 0\n",
				"testdata/broken.json: expansions[0].target: no rule named \"Skil\"; did you mean \"Skill\"?\n"}, nil},
		{"a flag after the file is honoured", []string{"testdata/fiveonfive.json", "--timeout", "20"}, 1,
			[]string{"expansions[0].steps[2].waitTimeSeconds: step at 30 s starts after the request timeout of 20 s"}, nil},
		{"the timeout may be a duration", []string{"--timeout", "20s", "testdata/fiveonfive.json"}, 1,
			[]string{"step at 30 s starts after the request timeout of 20 s"}, nil},
		{"a timeout that is neither seconds nor a duration is a usage error", []string{"--timeout", "soon", "testdata/fiveonfive.json"}, 2, nil, nil},
		{"quiet prints nothing for valid files", []string{"-quiet", "testdata/fiveonfive.json"}, 0, nil, []string{"ok"}},
		{"a missing file fails", []string{"testdata/nope.json"}, 1, []string{"testdata/nope.json: open"}, nil},
		{"no file is a usage error", nil, 2, nil, nil},
		{"an unknown flag is a usage error", []string{"--bogus", "testdata/fiveonfive.json"}, 2, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runVerb(t, "validate", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			for _, c := range tc.contains {
				if !strings.Contains(out, c) {
					t.Errorf("stdout lacks %q:\n%s", c, out)
				}
			}
			for _, c := range tc.lacks {
				if strings.Contains(out, c) {
					t.Errorf("stdout has %q:\n%s", c, out)
				}
			}
		})
	}
}

func TestValidateUsageNamesEveryFlag(t *testing.T) {
	_, _, errs := runVerb(t, "validate")
	for _, f := range []string{"-timeout", "-quiet"} {
		if !strings.Contains(errs, f) {
			t.Errorf("usage lacks %s:\n%s", f, errs)
		}
	}
}

func TestExplain(t *testing.T) {
	t.Run("text names the blocking rule, its bound and the step", func(t *testing.T) {
		code, out, errs := runVerb(t, "explain", "testdata/fiveonfive.json", "--tickets", "testdata/tickets.json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{
			"0 match(es), 3 ticket(s) waiting",
			"high rejected: FairSkill: distance 30 > maxDistance 10 (step 0 of 3; 7 s to the next)",
			"never matches: the ticket reports no latency",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("a later --now forms the match once the skill rule has expanded", func(t *testing.T) {
		code, out, errs := runVerb(t, "explain", "--now", "2026-01-01T00:00:40Z", "--json", "testdata/duel.json", "--tickets", "testdata/tickets.json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got explainOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Waiting) != 3 || len(got.Matches) != 0 {
			t.Fatalf("duel has no expansion: want 3 waiting, got %+v", got)
		}
	})
	t.Run("missing --tickets is a usage error", func(t *testing.T) {
		if code, _, _ := runVerb(t, "explain", "testdata/fiveonfive.json"); code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
	t.Run("an invalid rule set fails", func(t *testing.T) {
		if code, _, _ := runVerb(t, "explain", "testdata/broken.json", "--tickets", "testdata/tickets.json"); code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
	})
}

func TestSimulate(t *testing.T) {
	args := []string{"testdata/fiveonfive.json", "--players", "2000", "--rate", "40", "--duration", "90s", "--seed", "7", "--json"}
	code, out, errs := runVerb(t, "simulate", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep simReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	t.Run("every generated player is matched, waiting or timed out", func(t *testing.T) {
		if rep.PlayersMatched+rep.UnmatchedAtEnd+rep.TimedOut != rep.Players {
			t.Fatalf("%d matched + %d waiting + %d timed out != %d players", rep.PlayersMatched, rep.UnmatchedAtEnd, rep.TimedOut, rep.Players)
		}
		if rep.Matches == 0 || rep.PlayersMatched != rep.Matches*10 {
			t.Fatalf("matches %d with %d players; 5v5 matches hold 10", rep.Matches, rep.PlayersMatched)
		}
	})
	t.Run("the spread never exceeds the loosest expansion", func(t *testing.T) {
		if rep.SpreadWorst > 50 || rep.SpreadAttribute != "skill" {
			t.Fatalf("spread of %s worst %v > 50", rep.SpreadAttribute, rep.SpreadWorst)
		}
		if rep.LatencyWorstMs > 150 {
			t.Fatalf("worst latency %d > maxLatency 150", rep.LatencyWorstMs)
		}
		if rep.WaitP50 > rep.WaitP90 || rep.WaitP90 > rep.WaitP99 {
			t.Fatalf("percentiles out of order: %v %v %v", rep.WaitP50, rep.WaitP90, rep.WaitP99)
		}
	})
	t.Run("the same seed gives the same report", func(t *testing.T) {
		_, again, _ := runVerb(t, "simulate", args...)
		var rep2 simReport
		if err := json.Unmarshal([]byte(again), &rep2); err != nil {
			t.Fatal(err)
		}
		rep.EngineUsPerTicket, rep2.EngineUsPerTicket = 0, 0 // wall time differs
		a, _ := json.Marshal(rep)
		b, _ := json.Marshal(rep2)
		if string(a) != string(b) {
			t.Fatalf("reports differ:\n%s\n%s", a, b)
		}
	})
	t.Run("the text report has a wait-time histogram", func(t *testing.T) {
		code, out, _ := runVerb(t, "simulate", "testdata/fiveonfive.json", "--players", "500", "--seed", "2", "--duration", "1m", "--population", "testdata/population.json", "--party", "1:0.8,2:0.2")
		if code != 0 || !strings.Contains(out, "wait time histogram") || !strings.Contains(out, "rules blocking most") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("attribute and location flags shape the population", func(t *testing.T) {
		code, out, errs := runVerb(t, "simulate", "testdata/duel.json", "--attr", "skill=uniform:0:5", "--location", "eu=30:5", "--players", "200", "--duration", "30s", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r simReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.SpreadWorst > 5 || r.LatencyWorstMs > 100 || r.Matches == 0 {
			t.Fatalf("unexpected report: %+v", r)
		}
	})
	t.Run("--same-start makes a pass's tickets of equal age: one matched on arrival waited nothing", func(t *testing.T) {
		code, out, errs := runVerb(t, "simulate", "testdata/duel.json", "--attr", "skill=uniform:0:5", "--location", "eu=30:5", "--rate", "200", "--players", "2000", "--duration", "30s", "--same-start", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r simReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Matches == 0 || r.WaitP50 != 0 || r.PlayersMatched+r.UnmatchedAtEnd+r.TimedOut != r.Players {
			t.Fatalf("unexpected report: %+v", r)
		}
	})
	for _, bad := range [][]string{
		{"testdata/fiveonfive.json", "--duration", "soon"},
		{"testdata/fiveonfive.json", "--attr", "skill=gauss:1:2"},
		{"testdata/fiveonfive.json", "--party", "0:1"},
		{"testdata/fiveonfive.json", "--spread", "nope"},
		{},
	} {
		t.Run("bad arguments "+strings.Join(bad, " ")+" are a usage error", func(t *testing.T) {
			if code, _, _ := runVerb(t, "simulate", bad...); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
		})
	}
}

func TestHelpTextsAreOneLine(t *testing.T) {
	for _, h := range []string{ValidateHelp, SimulateHelp, ExplainHelp} {
		if h == "" || strings.Contains(h, "\n") {
			t.Errorf("help %q must be one non-empty line", h)
		}
	}
}
