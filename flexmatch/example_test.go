package flexmatch_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

func ExampleParse() {
	_, err := flexmatch.Parse([]byte(`{
	  "ruleLanguageVersion": "1.0",
	  "playerAttributes": [{"name": "skill", "type": "number"}],
	  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}],
	  "rules": [{"name": "Skill", "type": "distance",
	             "measurements": "teams[red].players.attributes[skill]",
	             "referenceValue": 10, "maxDistance": -1}],
	  "expansions": [{"target": "rules[Skil].maxDistance",
	                  "steps": [{"waitTimeSeconds": 5, "value": 20}]}]
	}`))
	var ve *flexmatch.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// rules[0].maxDistance: must be a number ≥ 0
	// expansions[0].target: no rule named "Skil"; did you mean "Skill"?
}

func ExampleEngine() {
	rs, err := flexmatch.Parse([]byte(`{
	  "ruleLanguageVersion": "1.0",
	  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
	  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1},
	            {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
	  "rules": [{"name": "FairSkill", "type": "distance",
	             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
	             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
	             "maxDistance": 20}],
	  "expansions": [{"target": "rules[FairSkill].maxDistance",
	                  "steps": [{"waitTimeSeconds": 15, "value": 50}]}]
	}`))
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := flexmatch.NewEngine(rs, flexmatch.Options{})
	for i, id := range []string{"ann", "bob"} {
		skill := 1000 + 30*float64(i)
		_ = e.Add(flexmatch.Ticket{ID: id, StartTime: start, Players: []flexmatch.Player{
			{ID: id, Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(skill)}}}})
	}
	fmt.Println(len(e.Cycle(start.Add(time.Second))), "matches at 1 s")
	x, _ := e.Explain("bob", start.Add(time.Second))
	fmt.Println(x.Candidates[0].Rejections[0].Detail)
	for _, m := range e.Cycle(start.Add(15 * time.Second)) {
		fmt.Println(m.TicketIDs, "at step", m.Step)
	}
	// Output:
	// 0 matches at 1 s
	// FairSkill: distance 30 > maxDistance 20 (step 0 of 1; 14 s to the next)
	// [ann bob] at step 1
}
