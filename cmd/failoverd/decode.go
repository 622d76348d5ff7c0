package main

import (
	"cmp"
	"context"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The configuration file is decoded into the library's own types (Config,
// Zone, Record, Endpoint, Policy, the checks of package check, …) by
// reflection: every exported field is a YAML key, its Go name in
// snake_case (FailoverTTL is failover_ttl), so a field added to the library
// is a field of the file without any change here. Types that YAML cannot
// write directly (a certificate pool, an interface) have a hook in
// typeHooks; fields that are not configuration, or that need another name
// or a secret's indirection, are listed in fieldRules.

// problem is one thing wrong with the file, at a line and column.
type problem struct {
	line, col int
	path      string // the YAML path, such as zones[0].records[1].policy.ttl
	msg       string
	warning   bool
	// aside is set when the value decoded is as the file gives it despite
	// the problem (an unknown key beside it): the library's findings
	// about it still stand and are reported too.
	aside bool
}

// position is where a field's value is in the file.
type position struct {
	line, col int
	path      string // YAML path
}

// loc is the path of the value being decoded, both as the file writes it
// and as the library names it in a ConfigError (Zones[0].Records[1].Policy.TTL).
type loc struct{ yaml, gopath string }

func join(base, name string) string {
	if base == "" || name == "" {
		return base + name
	}
	return base + "." + name
}

func (l loc) field(key, goName string) loc {
	return loc{join(l.yaml, key), join(l.gopath, goName)}
}

func (l loc) index(i int) loc {
	s := "[" + strconv.Itoa(i) + "]"
	return loc{l.yaml + s, l.gopath + s}
}

// hook decodes n into v, which has a type YAML cannot write directly.
type hook func(d *decoder, n *yaml.Node, v reflect.Value, l loc)

// rule changes how one field of a struct is written in the file.
type rule struct {
	key      string // the YAML key; empty means the field's name in snake_case
	deny     bool   // not configuration: not settable from the file
	secret   bool   // a credential, read from KEY_env or KEY_file, not written in the file
	inline   bool   // a secret that may also be written in the file, as KEY
	required bool   // the file must give it
	decode   hook   // decodes the value instead of its type's decoding
}

// decoder holds what decoding one file has found so far.
type decoder struct {
	strict   bool // unset secrets are errors, not warnings
	problems []problem
	dropped  int                 // problems beyond maxProblems; decoding stops at the first
	at       map[string]position // by Go path
	// alias maps the Go path of a value written elsewhere in the file (a
	// record's default policy or check, a check named under checks:) to
	// the Go path where it is written: a problem with it is placed there.
	alias map[string]string

	ctx     context.Context // for what a provider loads (the AWS configuration)
	file    *fileConfig
	named   map[string]namedCheck
	zone    *zoneState // the zone being decoded
	records map[recordKey]string
	labels  [][]string // provider names, per zone
	// defaultPolicy and defaultCheck fingerprint the defaults (the check
	// with the named checks it uses); uses collects the fingerprints of
	// the named checks the value being decoded uses.
	defaultPolicy, defaultCheck string
	uses                        []string
}

// maxProblems bounds the problems one file can report, so that a file of
// a million mistakes is not a million lines.
const maxProblems = 100

// errors counts the problems that are not warnings.
func (d *decoder) errors() int {
	n := d.dropped
	for _, p := range d.problems {
		if !p.warning {
			n++
		}
	}
	return n
}

func (d *decoder) report(p problem) {
	if len(d.problems) >= maxProblems {
		d.dropped++
		return
	}
	d.problems = append(d.problems, p)
}

// fail reports a problem with node n, at path l.
func (d *decoder) fail(n *yaml.Node, l loc, format string, args ...any) {
	d.report(problem{line: n.Line, col: n.Column, path: l.yaml, msg: fmt.Sprintf(format, args...)})
}

// warn reports a problem that does not stop `failoverd check` unless
// -strict (a production secret missing in CI).
func (d *decoder) warn(n *yaml.Node, l loc, format string, args ...any) {
	d.report(problem{line: n.Line, col: n.Column, path: l.yaml, msg: fmt.Sprintf(format, args...), warning: !d.strict})
}

// failAt reports a problem with the field at gopath, placed at the nearest
// field the file gives (the field itself, or the struct holding it).
func (d *decoder) failAt(gopath, msg string) {
	p := d.nearest(gopath)
	p.msg = msg
	d.report(p)
}

// nearest is where the field at gopath is in the file, or the nearest
// struct holding it that the file gives.
func (d *decoder) nearest(gopath string) problem {
	for p := gopath; ; {
		if pos, ok := d.lookup(p); ok {
			path := pos.path
			if rest := strings.TrimPrefix(strings.TrimPrefix(gopath, p), "."); rest != "" {
				path = join(path, snakePath(rest))
			}
			return problem{line: pos.line, col: pos.col, path: path}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return problem{line: 1, col: 1, path: snakePath(gopath)}
		}
		p = p[:i]
	}
}

// lookup is the position of the field at gopath: where the file writes
// it, or, for a field of a value written elsewhere (a default, a named
// check), where that value writes it. Each alias followed is an earlier
// one (a name refers to a check above it), so the walk ends; the bound is
// for safety only.
func (d *decoder) lookup(gopath string) (position, bool) {
	for range len(d.alias) + 1 {
		if pos, ok := d.at[gopath]; ok {
			return pos, true
		}
		target, ok := d.aliased(gopath)
		if !ok {
			return position{}, false
		}
		gopath = target
	}
	return position{}, false
}

// aliased translates gopath through the alias of its longest aliased
// prefix (itself included).
func (d *decoder) aliased(gopath string) (string, bool) {
	for p := gopath; ; {
		if t, ok := d.alias[p]; ok {
			return t + gopath[len(p):], true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// decode sets v from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, l loc) {
	d.at[l.gopath] = position{n.Line, n.Column, l.yaml}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.fail(n, l, "anchors and aliases are not supported: name a check under checks:, set a policy under defaults:")
		return
	}
	if h := typeHooks[v.Type()]; h != nil {
		h(d, n, v, l)
		return
	}
	if u, ok := textUnmarshaler(v); ok {
		if d.scalar(n, l) {
			if err := u.UnmarshalText([]byte(n.Value)); err != nil {
				d.fail(n, l, "%s", err)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		d.pointer(n, v, l)
	case reflect.Struct:
		d.structure(n, v, l)
	case reflect.Slice:
		if null(n) {
			v.SetZero()
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, l, "want a list, not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.decode(e, s.Index(i), l.index(i))
		}
		v.Set(s)
	case reflect.Map:
		d.mapping(n, v, l)
	case reflect.String:
		if d.scalar(n, l) {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.scalar(n, l) {
			return
		}
		switch strings.ToLower(n.Value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(n, l, "%s is not true or false", quote(n.Value))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, l) {
			return
		}
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, l, "%s is not a whole number%s", quote(n.Value), outOfRange(err))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !d.scalar(n, l) {
			return
		}
		i, err := strconv.ParseUint(n.Value, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, l, "%s is not a whole number from 0%s", quote(n.Value), outOfRange(err))
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, l) {
			return
		}
		f, err := strconv.ParseFloat(n.Value, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, l, "%s is not a number", quote(n.Value))
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, l, "%s cannot be set from a configuration file", v.Type())
	}
}

func outOfRange(err error) string {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return " in range"
	}
	return ""
}

// pointer decodes n into the value v points to, allocating it. A struct
// behind a pointer may also be given as true (its zero value: "tls: true")
// or false (nil).
func (d *decoder) pointer(n *yaml.Node, v reflect.Value, l loc) {
	if null(n) {
		v.SetZero()
		return
	}
	elem := v.Type().Elem()
	if _, text := textUnmarshaler(reflect.New(elem).Elem()); !text && elem.Kind() == reflect.Struct && n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v.SetZero()
		if strings.EqualFold(n.Value, "true") {
			v.Set(reflect.New(elem))
		}
		return
	}
	if v.IsNil() {
		v.Set(reflect.New(elem))
	}
	d.decode(n, v.Elem(), l)
}

// mapping decodes a YAML mapping into a Go map with string keys.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, l loc) {
	if null(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, l, "want a mapping, not %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, l, "%s cannot be set from a configuration file", v.Type())
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.pairs(n, l, func(k, val *yaml.Node) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, l.field(k.Value, k.Value))
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	})
	v.Set(m)
}

// pairs calls f for each key and value of mapping n, reporting keys that
// are not plain scalars or are given twice.
func (d *decoder) pairs(n *yaml.Node, l loc, f func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && d.dropped == 0; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			d.fail(k, l, "a key must be a plain word, not %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(k, l.field(k.Value, ""), "given twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		f(k, v)
	}
}

// field is one settable field of a struct, as the file names it.
type field struct {
	key    string
	gopath string // empty for an inline struct's own path
	index  []int
	rule   rule
}

// structure decodes mapping n into struct v: every key must be a field of
// v's type; secrets and required fields are checked once all are read. A
// null (an empty list entry, "~") is the zero value, and then a required
// field is missing.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.MappingNode && !null(n) {
		d.fail(n, l, "want a mapping, not %s", describe(n))
		return
	}
	fields := schema(v.Type())
	given := map[string]*yaml.Node{}
	d.pairs(n, l, func(k, val *yaml.Node) {
		f, ok := fields[k.Value]
		if !ok {
			d.report(problem{line: k.Line, col: k.Column, path: join(l.yaml, k.Value), aside: true,
				msg: "unknown field; want one of " + strings.Join(keys(fields), ", ")})
			return
		}
		given[k.Value] = val
		if f.rule.secret {
			return // read below, once both KEY_env and KEY_file are known
		}
		fv, fl := v.FieldByIndex(f.index), l.field(k.Value, f.gopath)
		before := d.errors()
		if f.rule.decode != nil {
			d.at[fl.gopath] = position{val.Line, val.Column, fl.yaml}
			f.rule.decode(d, val, fv, fl)
		} else {
			d.decode(val, fv, fl)
		}
		// Every port of every check and provider: 1-65535 when given.
		if f.gopath == "Port" && fv.CanInt() && before == d.errors() {
			if p := fv.Int(); p < 1 || p > 65535 {
				d.fail(val, fl, "%d is not a port (1-65535)", p)
			}
		}
	})
	for _, key := range keys(fields) {
		switch f := fields[key]; {
		case f.rule.secret && strings.HasSuffix(f.key, "_env"):
			base := strings.TrimSuffix(f.key, "_env")
			src := secretSource{env: given[base+"_env"], file: given[base+"_file"], inlineOK: f.rule.inline}
			if f.rule.inline {
				src.inline = given[base]
			}
			d.secret(n, v.FieldByIndex(f.index), l, base, f.gopath, src, f.rule.required)
		case f.rule.required && !f.rule.secret && given[f.key] == nil:
			d.fail(n, l.field(f.key, f.gopath), "missing")
		}
	}
}

// schemas caches schema by type.
var schemas sync.Map // reflect.Type -> map[string]field

// schema returns the settable fields of struct type t by YAML key.
func schema(t reflect.Type) map[string]field {
	if s, ok := schemas.Load(t); ok {
		return s.(map[string]field)
	}
	s := map[string]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		r := fieldRules[t][sf.Name]
		if r.deny {
			continue
		}
		tag, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if opts == "inline" {
			for k, f := range schema(sf.Type) {
				f.index = append([]int{i}, f.index...)
				s[k] = f
			}
			continue
		}
		key := cmp.Or(r.key, tag, snake(sf.Name))
		if r.secret {
			suffixes := []string{"_env", "_file"}
			if r.inline {
				suffixes = append(suffixes, "")
			}
			for _, suffix := range suffixes {
				s[key+suffix] = field{key: key + suffix, gopath: sf.Name, index: []int{i}, rule: r}
			}
			continue
		}
		s[key] = field{key: key, gopath: sf.Name, index: []int{i}, rule: r}
	}
	schemas.Store(t, s)
	return s
}

func keys(fields map[string]field) []string {
	var out []string
	for k := range fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// snake turns a Go name into snake_case: FailoverTTL is failover_ttl,
// HostedZoneIDs hosted_zone_ids.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			plural := i+1 < len(r) && r[i+1] == 's' && (i+2 == len(r) || unicode.IsUpper(r[i+2]))
			if prevLower || (nextLower && !plural) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// snakePath turns a Go field path (Policy.FailoverTTL) into the file's
// (policy.failover_ttl).
func snakePath(p string) string {
	parts := strings.Split(p, ".")
	for i, part := range parts {
		name, index, _ := strings.Cut(part, "[")
		parts[i] = snake(name)
		if index != "" {
			parts[i] += "[" + index
		}
	}
	return strings.Join(parts, ".")
}

func textUnmarshaler(v reflect.Value) (encoding.TextUnmarshaler, bool) {
	if !v.CanAddr() {
		return nil, false
	}
	u, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return u, ok
}

// scalar reports whether n is a single value, reporting it when not.
func (d *decoder) scalar(n *yaml.Node, l loc) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, l, "want a single value, not %s", describe(n))
		return false
	}
	return true
}

func null(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a document"
	}
}

// quote returns s quoted, cut short when it is long: the file's values are
// echoed in messages, and a 10 MB name must not be echoed whole.
func quote(s string) string { return strconv.Quote(clip(s, 64)) }

// clip cuts s to at most n bytes, at a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
