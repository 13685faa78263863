package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
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
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", EnvName(f.Name), err))
			}
			fromEnv[f.Name] = true
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("environment: %s", strings.Join(errs, "; "))
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
		if err := fs.Set(key, s); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s: %v", path, key, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
