// Command guestcode derives, from gVisor's source, which functions of the KVM platform run in
// guest mode and which run only in the host's signal handler, and writes
// adapter/bluepill/guestCode.generated.ts (or, with -json, a fixture of facts). Run it through
// tools/gen-guest-code.sh.
//
// How: a call graph of pkg/sentry/platform/kvm, pkg/ring0 and pkg/ring0/pagetables (Go calls
// resolved with go/types, interface calls to their implementations in these packages, branches
// the compiler folds away skipped; CALL/BL/B/JMP in their assembly), with a mode set per function
// propagated along the edges from where code is entered:
//   - guest mode: ring0 code entered by address (vectors, syscall and exception entries, start:
//     ADDR_OF_FUNC, MOVD $·f(SB), reflect.ValueOf(ring0.Start)) or ring0 assembly nothing calls;
//     and every call after a `bluepill(...)` statement in the same block (bluepill has switched
//     the thread into the guest: e.g. addressSpace.mapLocked, the page-table updates);
//   - host signal handler: kvm code entered by address (sighandler, sigsysHandler, dieTrampoline,
//     bluepillUserHandler: signal handlers, signal frames, sigreturn targets);
//   - host: exported Go functions and package initialisation (the rest of the Sentry calls them).
//
// An entry by address counts only when the function handing the address out is itself reached.
// gVisor's +checkescape and //go:nosplit annotations are recorded next to each reason but decide
// nothing: they mark code that must not allocate or split its stack, which holds for guest code
// and for the signal handler alike (tools/checkescape/checkescape.go in gVisor's repository).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

const (
	modGuest  = 1 << iota // runs with the thread in guest mode
	modSignal             // runs in the host's signal handler
	modHost               // runs as ordinary host code
)

var tolerant bool

var analysed = []string{
	"gvisor.dev/gvisor/pkg/sentry/platform/kvm",
	"gvisor.dev/gvisor/pkg/ring0",
	"gvisor.dev/gvisor/pkg/ring0/pagetables",
}

type fn struct {
	name        string // symbol name as in the binary, package path shortened to its last element
	pkg         string
	asm         bool
	byAddress   string // the assembly function that hands out its address
	goDecl      bool   // declared in Go (an assembly body has a body-less Go declaration)
	annotations []string
	modes       int
	guestWhy    string
	signalWhy   string
	hostWhy     string
	callers     int
}

type edge struct {
	from, to  string
	guestSite string // set when the call follows bluepill(): "file:line"
	entry     int    // set when from hands out to's address: the mode to is entered in
}

type graph struct {
	fns   map[string]*fn
	edges []edge
}

func (g *graph) get(name, pkg string) *fn {
	f := g.fns[name]
	if f == nil {
		f = &fn{name: name, pkg: pkg}
		g.fns[name] = f
	}
	return f
}

func main() {
	dir := flag.String("dir", "", "a Go module that requires gvisor.dev/gvisor at the version to read")
	version := flag.String("version", "", "the gVisor version, recorded in the output")
	out := flag.String("out", "", "the TypeScript file to write")
	asJSON := flag.Bool("json", false, "write the facts as JSON (for test/fixtures) instead of TypeScript")
	flag.BoolVar(&tolerant, "tolerant", false, "go on past type errors (old gVisor sources whose build tags exclude files under today's Go)")
	flag.Parse()
	if *dir == "" || *version == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: guestcode -dir MODULE_DIR -version VERSION -out FILE.ts (see tools/gen-guest-code.sh)")
		os.Exit(2)
	}
	perArch := map[string]map[string]*fn{}
	for _, arch := range []string{"amd64", "arm64"} {
		g, err := analyse(*dir, arch)
		if err != nil {
			fmt.Fprintf(os.Stderr, "guestcode: %s: %v\n", arch, err)
			os.Exit(1)
		}
		perArch[arch] = g.fns
	}
	text := render(*version, perArch)
	if *asJSON {
		text = renderJSON(*version, perArch)
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "guestcode:", err)
		os.Exit(1)
	}
}

func analyse(dir, arch string) (*graph, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Dir: dir,
		Env: append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0"),
	}
	pkgs, err := packages.Load(cfg, analysed...)
	if err != nil {
		return nil, err
	}
	if tolerant {
		n := 0
		packages.Visit(pkgs, nil, func(p *packages.Package) { n += len(p.Errors) })
		fmt.Fprintf(os.Stderr, "guestcode: %s: going on past %d load/type errors (-tolerant)\n", arch, n)
	} else if packages.PrintErrors(pkgs) > 0 {
		return nil, fmt.Errorf("the packages did not load")
	}
	g := &graph{fns: map[string]*fn{}}
	impls := implementations(pkgs)
	for _, p := range pkgs { // assembly first: readGo needs to know which functions are assembly
		for _, file := range p.OtherFiles {
			if strings.HasSuffix(file, ".s") {
				if err := readAsm(g, p.PkgPath, file); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, p := range pkgs {
		readGo(g, p, impls)
	}
	propagate(g)
	return g, nil
}

func short(pkgPath string) string { return pkgPath[strings.LastIndex(pkgPath, "/")+1:] }

// symbolOf names a function as the Go linker does: pkg.Func, pkg.(*T).M, pkg.T.M.
func symbolOf(f *types.Func) string {
	pkg := ""
	if f.Pkg() != nil {
		pkg = short(f.Pkg().Path())
	}
	sig := f.Type().(*types.Signature)
	if recv := sig.Recv(); recv != nil {
		t := recv.Type()
		ptr := false
		if p, ok := t.(*types.Pointer); ok {
			t, ptr = p.Elem(), true
		}
		named, ok := t.(*types.Named)
		if !ok {
			return pkg + "." + f.Name()
		}
		if ptr {
			return fmt.Sprintf("%s.(*%s).%s", pkg, named.Obj().Name(), f.Name())
		}
		return fmt.Sprintf("%s.%s.%s", pkg, named.Obj().Name(), f.Name())
	}
	return pkg + "." + f.Name()
}

// implementations maps an interface method (by name) to the concrete methods of the analysed
// packages that implement it.
func implementations(pkgs []*packages.Package) map[string][]*types.Func {
	var named []*types.Named
	for _, p := range pkgs {
		scope := p.Types.Scope()
		for _, n := range scope.Names() {
			if tn, ok := scope.Lookup(n).(*types.TypeName); ok {
				if nt, ok := tn.Type().(*types.Named); ok && !types.IsInterface(nt) {
					named = append(named, nt)
				}
			}
		}
	}
	out := map[string][]*types.Func{}
	for _, p := range pkgs {
		scope := p.Types.Scope()
		for _, n := range scope.Names() {
			tn, ok := scope.Lookup(n).(*types.TypeName)
			if !ok || !types.IsInterface(tn.Type()) {
				continue
			}
			iface := tn.Type().Underlying().(*types.Interface)
			for _, nt := range named {
				var t types.Type = nt
				if !types.Implements(t, iface) {
					t = types.NewPointer(nt)
					if !types.Implements(t, iface) {
						continue
					}
				}
				for i := 0; i < iface.NumMethods(); i++ {
					m := iface.Method(i)
					obj, _, _ := types.LookupFieldOrMethod(t, true, nt.Obj().Pkg(), m.Name())
					if cf, ok := obj.(*types.Func); ok {
						out[m.FullName()] = append(out[m.FullName()], cf)
					}
				}
			}
		}
	}
	return out
}

var linknameRe = regexp.MustCompile(`^//go:linkname\s+(\S+)\s+(\S+)`)

func readGo(g *graph, p *packages.Package, impls map[string][]*types.Func) {
	linknames := map[string]string{}
	for _, file := range p.Syntax {
		for _, cg := range file.Comments {
			for _, c := range cg.List {
				if m := linknameRe.FindStringSubmatch(c.Text); m != nil {
					linknames[m[1]] = short(m[2][:max(strings.LastIndex(m[2], "."), 0)]) + m[2][strings.LastIndex(m[2], "."):]
				}
			}
		}
	}
	nameOf := func(f *types.Func) string {
		if f.Pkg() != nil && f.Pkg().Path() == p.PkgPath {
			if target, ok := linknames[f.Name()]; ok {
				return target
			}
		}
		return symbolOf(f)
	}
	// Package-level variables are initialised by the package's init, on the host.
	initName := short(p.PkgPath) + ".init"
	g.get(initName, p.PkgPath).goDecl = true
	for _, file := range p.Syntax {
		for _, decl := range file.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				w := &walker{g: g, p: p, caller: initName, impls: impls, nameOf: nameOf, called: map[*ast.Ident]bool{}}
				w.node(gd, "")
			}
			fd, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			obj, ok := p.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			caller := g.get(nameOf(obj), p.PkgPath)
			caller.annotations = annotations(fd.Doc)
			caller.goDecl = true
			if fd.Body == nil {
				continue
			}
			w := &walker{g: g, p: p, caller: caller.name, impls: impls, nameOf: nameOf, called: map[*ast.Ident]bool{}}
			w.block(fd.Body.List, "")
		}
	}
}

func annotations(doc *ast.CommentGroup) []string {
	var out []string
	if doc == nil {
		return out
	}
	for _, c := range doc.List {
		t := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		if t == "go:nosplit" || strings.HasPrefix(c.Text, "// +checkescape") {
			out = append(out, strings.TrimPrefix(t, "go:"))
		}
	}
	return out
}

type walker struct {
	g      *graph
	p      *packages.Package
	caller string
	impls  map[string][]*types.Func
	nameOf func(*types.Func) string
	called map[*ast.Ident]bool
}

// block walks a statement list; once a statement calls bluepill, every call in the statements
// after it (at any depth) is a guest-mode call site.
func (w *walker) block(stmts []ast.Stmt, guestSite string) {
	for _, s := range stmts {
		w.node(s, guestSite)
		if guestSite == "" && w.callsBluepill(s) {
			pos := w.p.Fset.Position(s.Pos())
			guestSite = fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)
		}
	}
}

func (w *walker) callsBluepill(s ast.Stmt) bool {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == "bluepill" && w.p.PkgPath == analysed[0]
}

func (w *walker) node(n ast.Node, guestSite string) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BlockStmt:
			w.block(n.List, guestSite)
			return false
		case *ast.CaseClause:
			for _, e := range n.List {
				w.node(e, guestSite)
			}
			w.block(n.Body, guestSite)
			return false
		case *ast.CommClause:
			w.block(n.Body, guestSite)
			return false
		case *ast.IfStmt:
			// A branch the compiler removes (if mapEntireAddressSpaceDefault, a constant per
			// architecture) calls nothing in the binary.
			if n.Init != nil {
				w.node(n.Init, guestSite)
			}
			w.node(n.Cond, guestSite)
			value, known := w.constBool(n.Cond)
			if !known || value {
				w.block(n.Body.List, guestSite)
			}
			if n.Else != nil && (!known || !value) {
				w.node(n.Else, guestSite)
			}
			return false
		case *ast.CallExpr:
			w.called[calleeIdent(n.Fun)] = true
		case *ast.Ident:
			// Calls and references alike: a function whose value is taken may be called anywhere;
			// but an assembly function whose value is taken (reflect.ValueOf(ring0.Start).Pointer())
			// is an entry point handed to the CPU or the kernel, not a call (see readAsm's addrRe).
			if f, ok := w.p.TypesInfo.Uses[n].(*types.Func); ok {
				if !w.called[n] && w.g.fns[w.nameOf(f)] != nil && w.g.fns[w.nameOf(f)].asm {
					w.g.fns[w.nameOf(f)].byAddress = w.caller
					return true
				}
				w.edge(f, guestSite)
			}
		}
		return true
	})
}

// constBool evaluates a condition the compiler folds: a constant, or ||/&&/! over them
// (true || x is true even when x is a variable).
func (w *walker) constBool(e ast.Expr) (value, known bool) {
	e = ast.Unparen(e)
	if tv, ok := w.p.TypesInfo.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.Bool {
		return constant.BoolVal(tv.Value), true
	}
	switch e := e.(type) {
	case *ast.UnaryExpr:
		if v, ok := w.constBool(e.X); ok && e.Op == token.NOT {
			return !v, true
		}
	case *ast.BinaryExpr:
		l, lok := w.constBool(e.X)
		r, rok := w.constBool(e.Y)
		switch e.Op {
		case token.LOR:
			if (lok && l) || (rok && r) {
				return true, true
			}
			if lok && rok {
				return false, true
			}
		case token.LAND:
			if (lok && !l) || (rok && !r) {
				return false, true
			}
			if lok && rok {
				return true, true
			}
		}
	}
	return false, false
}

// calleeIdent is the identifier that names a call's function: f in f(), M in x.M().
func calleeIdent(fun ast.Expr) *ast.Ident {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return f
	case *ast.SelectorExpr:
		return f.Sel
	case *ast.IndexExpr:
		return calleeIdent(f.X)
	}
	return nil
}

func (w *walker) edge(f *types.Func, guestSite string) {
	targets := []*types.Func{f}
	if sig, ok := f.Type().(*types.Signature); ok && sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
		targets = w.impls[f.FullName()]
	}
	for _, t := range targets {
		pkg := ""
		if t.Pkg() != nil {
			pkg = t.Pkg().Path()
		}
		if !strings.HasPrefix(pkg, "gvisor.dev/") && pkg != "runtime" {
			continue // the standard library: runs everywhere, not what a breakpoint here is about
		}
		name := w.nameOf(t)
		w.g.get(name, pkg)
		w.g.edges = append(w.g.edges, edge{from: w.caller, to: name, guestSite: guestSite})
	}
}

var (
	textRe   = regexp.MustCompile(`^TEXT\s+·([A-Za-z0-9_]+)(?:<[^>]*>)?\(SB\)`)
	branchRe = regexp.MustCompile(`^\s*(?:CALL|BL|B|JMP)\s+·([A-Za-z0-9_]+)\(SB\)`)
	// amd64 ring0 defines its exception stubs with a macro: EXCEPTION_WITH(OUT)_ERROR(v, ·stub(SB), ...)
	stubRe = regexp.MustCompile(`^EXCEPTION_WITH(?:OUT)?_ERROR\([^,]+,\s*·([A-Za-z0-9_]+)\(SB\),\s*·([A-Za-z0-9_]+)\(SB\)`)
	// ADDR_OF_FUNC(·addrOfF(SB), ·f(SB)) defines addrOfF, which returns f's address.
	addrOfRe = regexp.MustCompile(`^ADDR_OF_FUNC\(·([A-Za-z0-9_]+)\(SB\),\s*·([A-Za-z0-9_]+)\(SB\)`)
	// MOVD/MOVQ/LEAQ $·f(SB): the function's address is handed out (a signal handler, a signal
	// frame's or sigreturn's target, a vector): it is entered by address.
	addrRe = regexp.MustCompile(`\$·([A-Za-z0-9_]+)\(SB\)`)
)

func readAsm(g *graph, pkgPath, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	pkg := short(pkgPath)
	current := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := textRe.FindStringSubmatch(line); m != nil {
			current = pkg + "." + m[1]
			g.get(current, pkgPath).asm = true
		} else if m := stubRe.FindStringSubmatch(line); m != nil {
			stub := pkg + "." + m[1]
			g.get(stub, pkgPath).asm = true
			g.fns[stub].byAddress = pkg + "." + m[2]
			g.get(pkg+".exception", pkgPath)
			g.edges = append(g.edges, edge{from: stub, to: pkg + ".exception"})
		} else if m := addrOfRe.FindStringSubmatch(line); m != nil {
			g.get(pkg+"."+m[2], pkgPath).byAddress = pkg + "." + m[1]
		} else if m := addrRe.FindStringSubmatch(line); m != nil && current != "" {
			g.get(pkg+"."+m[1], pkgPath).byAddress = current
		} else if m := branchRe.FindStringSubmatch(line); m != nil && current != "" {
			callee := pkg + "." + m[1]
			g.get(callee, pkgPath)
			g.edges = append(g.edges, edge{from: current, to: callee})
		}
	}
	return sc.Err()
}

// propagate computes every function's modes from the roots along the edges.
func propagate(g *graph) {
	// A function whose address is handed out is entered there, in the mode its package runs
	// such entries in: kvm's on the host (signal handlers, sigreturn targets), ring0's in guest mode.
	for _, f := range g.fns {
		if f.byAddress != "" {
			mode := modGuest
			if f.pkg == analysed[0] {
				mode = modSignal
			}
			g.edges = append(g.edges, edge{from: f.byAddress, to: f.name, entry: mode})
		}
	}
	for _, e := range g.edges {
		if e.from != e.to {
			g.fns[e.to].callers++
		}
	}
	for _, f := range g.fns {
		if f.callers > 0 || !isAnalysed(f.pkg) {
			continue
		}
		switch {
		case f.asm && !f.goDecl && f.pkg != analysed[0]:
			// ring0 assembly with no Go declaration that nothing calls: a vector or entry label.
			f.modes, f.guestWhy = modGuest, "ring0 assembly entered by the CPU (vector, trap or start entry): runs in guest mode"
		case f.goDecl && !f.asm && exported(f.name):
			f.modes, f.hostWhy = modHost, "called from outside kvm/ring0 (host code)"
		}
		// Otherwise unused here (unexported, or assembly declared for Go): dead in runsc, unknown.
	}
	for changed := true; changed; {
		changed = false
		for _, e := range g.edges {
			from, to := g.fns[e.from], g.fns[e.to]
			if from.modes == 0 {
				continue // not reached (yet)
			}
			modes := from.modes
			if e.guestSite != "" {
				modes = modGuest
			}
			if e.entry != 0 {
				modes = e.entry
			}
			add := modes &^ to.modes
			if add == 0 {
				continue
			}
			to.modes |= add
			changed = true
			switch {
			case e.entry == modSignal:
				to.signalWhy = "entered by address on the host (its address comes from " + e.from + ": a signal handler, signal frame or sigreturn target)"
			case e.entry == modGuest:
				to.guestWhy = "ring0 code entered by address (from " + e.from + "): a vector or entry point, runs in guest mode"
			}
			if e.entry == 0 && add&modGuest != 0 {
				if e.guestSite != "" {
					to.guestWhy = fmt.Sprintf("called after bluepill() in %s (%s)", e.from, e.guestSite)
				} else {
					to.guestWhy = "called in guest mode from " + e.from
				}
			}
			if e.entry == 0 && add&modSignal != 0 {
				to.signalWhy = "called in the host's signal handler from " + e.from
			}
			if add&modHost != 0 {
				to.hostWhy = "called on the host from " + e.from
			}
		}
	}
	// A function that calls bluepill itself starts on the host and continues in guest mode.
	for _, e := range g.edges {
		if f := g.fns[e.from]; e.to == "kvm.bluepill" && e.from != e.to && isAnalysed(f.pkg) && f.modes != 0 {
			if f.modes&modGuest == 0 {
				f.guestWhy = "calls bluepill(): guest mode after that call"
			}
			f.modes |= modGuest
		}
	}
}

// exported reports whether a symbol name (pkg.F, pkg.(*T).M, pkg.T.M) can be called from other packages.
func exported(name string) bool {
	last := name[strings.LastIndex(name, ".")+1:]
	return last == "init" || ast.IsExported(last)
}

func isAnalysed(pkg string) bool {
	for _, a := range analysed {
		if a == pkg {
			return true
		}
	}
	return false
}

type entry struct {
	Verdict string
	Reason  string
}

func verdictOf(f *fn) (entry, bool) {
	ann := ""
	if len(f.annotations) > 0 {
		ann = " [" + strings.Join(f.annotations, ", ") + "]"
	}
	switch {
	case f.modes&modGuest != 0 && f.modes&(modHost|modSignal) != 0:
		host := f.hostWhy
		if f.modes&modSignal != 0 {
			host = f.signalWhy
		}
		return entry{"both", f.guestWhy + "; also " + host + ann}, true
	case f.modes&modGuest != 0:
		return entry{"guest", f.guestWhy + ann}, true
	case f.modes == modSignal:
		return entry{"host-only", f.signalWhy + ann}, true
	}
	return entry{}, false
}

type row struct {
	name, arch string
	e          entry
}

// rows merges the two architectures: one row when both agree, else one per architecture.
func rows(perArch map[string]map[string]*fn) []row {
	byName := map[string]map[string]entry{}
	for arch, fns := range perArch {
		for name, f := range fns {
			if e, ok := verdictOf(f); ok {
				if byName[name] == nil {
					byName[name] = map[string]entry{}
				}
				byName[name][arch] = e
			}
		}
	}
	var out []row
	for name, archs := range byName {
		a, okA := archs["amd64"]
		b, okB := archs["arm64"]
		if okA && okB && a == b {
			out = append(out, row{name, "", a})
			continue
		}
		if okA {
			out = append(out, row{name, "amd64", a})
		}
		if okB {
			out = append(out, row{name, "arm64", b})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].arch < out[j].arch
	})
	return out
}

func (r row) tuple() []string {
	t := []string{r.name, r.e.Verdict, r.e.Reason}
	if r.arch != "" {
		t = append(t, r.arch)
	}
	return t
}

func render(version string, perArch map[string]map[string]*fn) string {
	var b strings.Builder
	b.WriteString("// GENERATED by tools/gen-guest-code.sh (tools/guestcode) from gVisor's source: do not edit.\n")
	b.WriteString("// Where each function of gVisor's KVM platform runs, derived from the call graph of\n")
	b.WriteString("// pkg/sentry/platform/kvm, pkg/ring0 and pkg/ring0/pagetables (see tools/guestcode/main.go).\n")
	b.WriteString("import type { GuestCodeTable } from './guestCodeTypes';\n\n")
	fmt.Fprintf(&b, "export const GUEST_CODE: GuestCodeTable = {\n  gvisorVersion: %q,\n  functions: [\n", version)
	for _, r := range rows(perArch) {
		t, _ := json.Marshal(r.tuple())
		fmt.Fprintf(&b, "    %s,\n", strings.ReplaceAll(string(t), `","`, `", "`))
	}
	b.WriteString("  ],\n};\n")
	return b.String()
}

func renderJSON(version string, perArch map[string]map[string]*fn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"gvisorVersion\": %q,\n  \"functions\": [\n", version)
	rs := rows(perArch)
	for i, r := range rs {
		t, _ := json.Marshal(r.tuple())
		sep := ","
		if i == len(rs)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s%s\n", t, sep)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}
