package main

import (
	"runtime"
	"runtime/debug"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; empty: the module's version.
var version string

// buildInfo is what failoverd knows of its own build.
type buildInfo struct {
	version  string // the release, the module version, or "(devel)"
	revision string // the VCS revision, with "+modified" when the tree was; empty when unknown
	goVer    string
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: version, goVer: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.version == "" {
			b.version = "(unknown)"
		}
		return b
	}
	if b.version == "" {
		b.version = info.Main.Version
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if b.revision != "" && modified {
		b.revision += "+modified"
	}
	return b
}

// String is the line `failoverd version` prints.
func (b buildInfo) String() string {
	s := "failoverd " + b.version
	if b.revision != "" {
		s += " (" + b.revision + ")"
	}
	return s + " " + b.goVer
}
