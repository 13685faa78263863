package flagorder

import (
	"flag"
	"strings"
)

// Reorder returns args for fs.Parse: every flag, and the value of a flag
// that takes one, in front, then "--", then the positional arguments, each
// in their order, so fs.Args() is exactly the positional ones. Everything
// after "--" in args is positional, as is a lone "-". A flag fs does not
// define stays among the flags for fs.Parse to report.
func Reorder(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 == len(args) {
				return flags // fs.Parse reports the flag's missing value
			}
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), positional...)
}
