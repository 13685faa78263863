package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EnvName is the environment variable for a flag: data-dir → MUSTER_DATA_DIR.
func EnvName(flagName string) string {
	return "MUSTER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Layer fills every flag of fs that was not given on the command line from
// the environment, then from the config file named by the "config" flag (if
// fs has one and it is set by any layer). getenv is os.Getenv in production.
func Layer(fs *flag.FlagSet, getenv func(string) string) error {
	setOnCLI := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setOnCLI[f.Name] = true })
	fromEnv := map[string]bool{}
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if setOnCLI[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if err := setFrom(fs, f, EnvName(f.Name), v); err != nil {
				errs = append(errs, err.Error())
			}
			fromEnv[f.Name] = true
		}
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	cfgFlag := fs.Lookup("config")
	if cfgFlag == nil || cfgFlag.Value.String() == "" {
		return nil
	}
	path := cfgFlag.Value.String()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var values map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("config file %s: not a JSON object: %w", path, err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		f := fs.Lookup(key)
		if f == nil || key == "config" {
			errs = append(errs, fmt.Sprintf("%s: unknown key %q (keys are flag names, e.g. \"data-dir\")", path, key))
			continue
		}
		if setOnCLI[key] || fromEnv[key] {
			continue
		}
		var s string
		raw := values[key]
		if err := json.Unmarshal(raw, &s); err != nil {
			s = string(bytes.TrimSpace(raw)) // numbers and booleans as written
		}
		if err := setFrom(fs, f, path+": "+key, s); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// setFrom sets flag f to v, which came from the layer named from (an
// environment variable, or "FILE: key"), and tells a sourced flag so. A
// value the flag refuses is named with what the flag takes, as
// `from: value: reason`.
func setFrom(fs *flag.FlagSet, f *flag.Flag, from, v string) error {
	if err := fs.Set(f.Name, v); err != nil {
		return fmt.Errorf("%s: %s: %s", from, v, badValueReason(f, v, err))
	}
	if s, ok := f.Value.(sourced); ok {
		s.setSource(from)
	}
	return nil
}

// badValueReason says what f takes when it refused v: the flag package's
// own errors for numbers, durations and booleans are a bare "parse error".
// A flag of Muster's own type explains itself.
func badValueReason(f *flag.Flag, v string, err error) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case int, int64:
		if _, perr := strconv.ParseInt(v, 0, 64); errors.Is(perr, strconv.ErrRange) {
			return "out of range"
		}
		return "must be a whole number"
	case uint, uint64:
		if _, perr := strconv.ParseUint(v, 0, 64); errors.Is(perr, strconv.ErrRange) {
			return "out of range"
		}
		return "must be a whole number ≥ 0"
	case float64:
		return "must be a number"
	case time.Duration:
		return "must be a duration such as 30s or 5m"
	case bool:
		return "must be true or false"
	}
	return err.Error()
}
