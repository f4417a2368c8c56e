package main

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

type module struct{ name, path string }

// moduleOrder finds the wanted modules under dir and returns them with their
// dependencies, each after everything it depends on. A kernel package unpacked
// with dpkg -x has no modules.dep (depmod makes it at install), so the
// dependencies come from each module's .modinfo section.
func moduleOrder(dir string, wanted []string) ([]module, error) {
	paths := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".ko") {
			paths[canonical(strings.TrimSuffix(d.Name(), ".ko"))] = p
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var order []module
	done := map[string]bool{}
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		name = canonical(name)
		if done[name] {
			return nil
		}
		p, ok := paths[name]
		if !ok {
			return fmt.Errorf("module %s (needed by %s) is not in %s", name, strings.Join(chain, " <- "), dir)
		}
		deps, err := dependsOf(p)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, append(chain, name)); err != nil {
				return err
			}
		}
		done[name] = true
		order = append(order, module{name, p})
		return nil
	}
	for _, w := range wanted {
		if err := visit(w, []string{"-load"}); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Module names treat - and _ alike.
func canonical(name string) string { return strings.ReplaceAll(name, "-", "_") }

func dependsOf(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil {
		return nil, fmt.Errorf("%s has no .modinfo", path)
	}
	b, err := s.Data()
	if err != nil {
		return nil, err
	}
	for _, field := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(field, "depends="); ok && v != "" {
			return strings.Split(v, ","), nil
		}
	}
	return nil, nil
}
