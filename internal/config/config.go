// Package config resolves flag values from their sources, lowest precedence first: the
// defaults registered in code, a YAML file, DOUYIN_* environment variables, and the command
// line. Every setting is a flag, so one flat name ("db.driver") works in all four places.
package config

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileFlag names the flag that points at the YAML config file.
const FileFlag = "config.file"

// EnvPrefix starts the environment variable of every flag: db.max-open-conns → DOUYIN_DB_MAX_OPEN_CONNS.
const EnvPrefix = "DOUYIN_"

// EnvName returns the environment variable that sets the flag called name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

// Load parses args into fs and fills every flag not given on the command line from the
// environment, then from the file named by -config.file. Keys of the file that match no flag
// are rejected, and so are secrets (names in secrets) anywhere but the environment.
func Load(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool), secrets []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	for name := range explicit {
		if slices.Contains(secrets, name) {
			return fmt.Errorf("-%s is a secret: set it through %s, not the command line", name, EnvName(name))
		}
	}

	fromFile := map[string]string{}
	if f := fs.Lookup(FileFlag); f != nil {
		if path := valueOf(f, explicit, lookupEnv); path != "" {
			var err error
			if fromFile, err = readFile(path); err != nil {
				return err
			}
		}
	}
	for key := range fromFile {
		if fs.Lookup(key) == nil {
			return fmt.Errorf("config file: unknown key %q", key)
		}
		if slices.Contains(secrets, key) {
			return fmt.Errorf("config file: %q is a secret: set it through %s", key, EnvName(key))
		}
	}

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || explicit[f.Name] {
			return
		}
		if v, ok := lookupEnv(EnvName(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s: %w", EnvName(f.Name), setErr)
			}
			return
		}
		if v, ok := fromFile[f.Name]; ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("config file %s: %w", f.Name, setErr)
			}
		}
	})
	return err
}

func valueOf(f *flag.Flag, explicit map[string]bool, lookupEnv func(string) (string, bool)) string {
	if !explicit[f.Name] {
		if v, ok := lookupEnv(EnvName(f.Name)); ok {
			return v
		}
	}
	return f.Value.String()
}

// readFile flattens a YAML document into dotted keys: {db: {driver: mysql}} → db.driver=mysql.
func readFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse config file %s: %w", path, err)
	}
	out := map[string]string{}
	flatten("", doc, out)
	return out, nil
}

func flatten(prefix string, node any, out map[string]string) {
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, child, out)
		}
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			parts[i] = fmt.Sprint(item)
		}
		out[prefix] = strings.Join(parts, ",")
	case nil:
		out[prefix] = ""
	default:
		out[prefix] = fmt.Sprint(v)
	}
}

// Print writes the effective value of every flag as a flat YAML document that Load accepts
// back as a config file. Secrets are never printed: they appear as comments naming the
// environment variable that sets them.
func Print(fs *flag.FlagSet, secrets []string) string {
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == FileFlag {
			return
		}
		if slices.Contains(secrets, f.Name) {
			state := "unset"
			if f.Value.String() != "" {
				state = "set"
			}
			lines = append(lines, fmt.Sprintf("# %s: secret (%s), only from $%s  # %s", f.Name, state, EnvName(f.Name), f.Usage))
			return
		}
		lines = append(lines, fmt.Sprintf("%s: %q  # %s", f.Name, f.Value.String(), f.Usage))
	})
	sort.Slice(lines, func(i, j int) bool { return strings.TrimPrefix(lines[i], "# ") < strings.TrimPrefix(lines[j], "# ") })
	return strings.Join(lines, "\n") + "\n"
}
