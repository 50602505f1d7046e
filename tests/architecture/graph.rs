//! The module graph of one crate, read from its source with `syn`: the
//! modules (files and inline `mod`s), the paths each one names, and where
//! those paths lead once re-exports are followed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type Segments = Vec<String>;

pub struct Module {
    /// `["lock", "spin"]` for `crate::lock::spin`.
    path: Segments,
    file: PathBuf,
    parent: Option<usize>,
    children: HashMap<String, usize>,
    /// Every name a `use` binds here: name → the path it stands for.
    imports: HashMap<String, Segments>,
    /// Every path the module names (its `use`s and the paths in its code),
    /// with the line it stands on.
    pub paths: Vec<(Segments, usize)>,
}

pub struct CrateGraph {
    pub modules: Vec<Module>,
}

impl CrateGraph {
    pub fn read(root: &Path) -> Self {
        let mut graph = CrateGraph {
            modules: Vec::new(),
        };
        graph.read_file(root, Vec::new(), None);
        graph
    }

    fn read_file(&mut self, file: &Path, path: Segments, parent: Option<usize>) -> usize {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|error| panic!("parsing {}: {error}", file.display()));
        // `mod x;` in `a/mod.rs` or `lib.rs` is `a/x.rs`; in `a/b.rs` it is `a/b/x.rs`.
        let stem = file.file_stem().unwrap().to_string_lossy();
        let dir = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
            file.parent().unwrap().to_path_buf()
        } else {
            file.parent().unwrap().join(stem.as_ref())
        };
        self.read_items(&parsed.items, file, &dir, path, parent)
    }

    fn read_items(
        &mut self,
        items: &[syn::Item],
        file: &Path,
        dir: &Path,
        path: Segments,
        parent: Option<usize>,
    ) -> usize {
        let id = self.modules.len();
        self.modules.push(Module {
            path: path.clone(),
            file: file.to_path_buf(),
            parent,
            children: HashMap::new(),
            imports: HashMap::new(),
            paths: Vec::new(),
        });
        let mut collector = PathCollector::default();
        for item in items {
            if let syn::Item::Mod(child) = item {
                let name = child.ident.to_string();
                let mut child_path = path.clone();
                child_path.push(name.clone());
                let child_id = match &child.content {
                    Some((_, inner)) => {
                        self.read_items(inner, file, &dir.join(&name), child_path, Some(id))
                    }
                    None => {
                        let flat = dir.join(format!("{name}.rs"));
                        let nested = dir.join(&name).join("mod.rs");
                        let found = if flat.exists() { flat } else { nested };
                        self.read_file(&found, child_path, Some(id))
                    }
                };
                self.modules[id].children.insert(name, child_id);
            } else {
                collector.visit_item(item);
            }
        }
        let module = &mut self.modules[id];
        module.imports = collector.imports;
        module.paths = collector.paths;
        id
    }

    fn is_ancestor(&self, ancestor: usize, mut of: usize) -> bool {
        while let Some(parent) = self.modules[of].parent {
            if parent == ancestor {
                return true;
            }
            of = parent;
        }
        false
    }

    /// The module that defines what `path` (as written in module `from`)
    /// names, and whether the path names that module itself; `None` for
    /// anything outside the crate.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<(usize, bool)> {
        let (first, rest) = path.split_first()?;
        if depth > 16 {
            return None;
        }
        let mut current = match first.as_str() {
            "crate" => 0,
            "super" => self.modules[from].parent?,
            "self" => from,
            name => match self.modules[from].children.get(name) {
                Some(&child) => child,
                None => {
                    let imported = self.modules[from].imports.get(name)?;
                    if imported.as_slice() == path {
                        return None;
                    }
                    let (target, is_module) = self.resolve(from, imported, depth + 1)?;
                    if !is_module {
                        return Some((target, false));
                    }
                    target
                }
            },
        };
        for segment in rest {
            if segment == "super" {
                current = self.modules[current].parent?;
            } else if let Some(&child) = self.modules[current].children.get(segment) {
                current = child;
            } else if let Some(imported) = self.modules[current].imports.get(segment) {
                // Re-exported (or imported) here: follow it to where it is defined.
                return self
                    .resolve(current, imported, depth + 1)
                    .map(|(target, _)| (target, false))
                    .or(Some((current, false)));
            } else {
                return Some((current, false));
            }
        }
        Some((current, true))
    }

    /// Every edge between two modules that do not contain one another.
    fn edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for (from, module) in self.modules.iter().enumerate() {
            for (path, line) in &module.paths {
                let Some((to, _)) = self.resolve(from, path, 0) else {
                    continue;
                };
                if to == from || self.is_ancestor(to, from) || self.is_ancestor(from, to) {
                    continue;
                }
                edges.push(Edge {
                    from,
                    to,
                    line: *line,
                    path: path.join("::"),
                });
            }
        }
        edges
    }

    /// One sentence per circle: the siblings in it, and the uses that make it.
    pub fn circles(&self) -> Vec<String> {
        // Lift each edge to the two children of the closest common ancestor.
        let mut lifted: BTreeMap<usize, BTreeMap<(usize, usize), Vec<Edge>>> = BTreeMap::new();
        for edge in self.edges() {
            let (from_side, to_side) = self.sides(edge.from, edge.to);
            let parent = self.modules[from_side].parent.expect("a side has a parent");
            lifted
                .entry(parent)
                .or_default()
                .entry((from_side, to_side))
                .or_default()
                .push(edge);
        }
        let mut circles = Vec::new();
        for (parent, edges) in lifted {
            let nodes: BTreeSet<usize> = edges.keys().flat_map(|&(a, b)| [a, b]).collect();
            for component in strongly_connected(&nodes, edges.keys()) {
                if component.len() < 2 {
                    continue;
                }
                let names: Vec<String> = component
                    .iter()
                    .map(|&m| format!("`{}`", self.modules[m].path.last().unwrap()))
                    .collect();
                let mut text = format!(
                    "inside `crate{}`: {} depend on each other:\n",
                    self.modules[parent]
                        .path
                        .iter()
                        .map(|s| format!("::{s}"))
                        .collect::<String>(),
                    names.join(", ")
                );
                let _ = writeln!(
                    text,
                    "    (a shortest circle: {})",
                    self.shortest_circle(&component, &edges)
                );
                for ((a, b), uses) in &edges {
                    if component.contains(a) && component.contains(b) {
                        let edge = &uses[0];
                        let _ = writeln!(
                            text,
                            "    {} → {}: {} use(s), e.g. {}:{} uses {} (defined in {})",
                            self.modules[*a].path.last().unwrap(),
                            self.modules[*b].path.last().unwrap(),
                            uses.len(),
                            self.modules[edge.from].file.display(),
                            edge.line,
                            edge.path,
                            self.modules[edge.to].file.display(),
                        );
                    }
                }
                circles.push(text);
            }
        }
        circles
    }

    /// The fewest siblings of `component` that lead back to where they began.
    fn shortest_circle(
        &self,
        component: &[usize],
        edges: &BTreeMap<(usize, usize), Vec<Edge>>,
    ) -> String {
        let mut best: Option<Vec<usize>> = None;
        for &start in component {
            // Breadth first from `start` until it comes back.
            let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            'search: while let Some(at) = queue.pop_front() {
                for &(a, b) in edges.keys() {
                    if a != at || !component.contains(&b) {
                        continue;
                    }
                    if b == start {
                        let mut circle = vec![at];
                        while let Some(&before) = came_from.get(circle.last().unwrap()) {
                            circle.push(before);
                        }
                        circle.reverse();
                        if best.as_ref().is_none_or(|best| circle.len() < best.len()) {
                            best = Some(circle);
                        }
                        break 'search;
                    }
                    if b != start && !came_from.contains_key(&b) {
                        came_from.insert(b, at);
                        queue.push_back(b);
                    }
                }
            }
        }
        let circle = best.unwrap_or_default();
        let mut names: Vec<&str> = circle
            .iter()
            .map(|&m| self.modules[m].path.last().unwrap().as_str())
            .collect();
        names.extend(names.first().copied());
        names.join(" → ")
    }

    /// The ancestors of `a` and `b` that are siblings (children of their
    /// closest common ancestor).
    fn sides(&self, a: usize, b: usize) -> (usize, usize) {
        let chain = |mut m: usize| {
            let mut chain = vec![m];
            while let Some(parent) = self.modules[m].parent {
                chain.push(parent);
                m = parent;
            }
            chain.reverse();
            chain
        };
        let (a_chain, b_chain) = (chain(a), chain(b));
        let common = a_chain
            .iter()
            .zip(&b_chain)
            .take_while(|(x, y)| x == y)
            .count();
        (a_chain[common], b_chain[common])
    }
}

#[derive(Debug)]
struct Edge {
    from: usize,
    to: usize,
    line: usize,
    path: String,
}

/// Tarjan's strongly connected components.
fn strongly_connected<'a>(
    nodes: &BTreeSet<usize>,
    edges: impl Iterator<Item = &'a (usize, usize)>,
) -> Vec<Vec<usize>> {
    let mut next: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    struct State<'g> {
        next: &'g BTreeMap<usize, Vec<usize>>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State, node: usize) {
        let index = state.index.len();
        state.index.insert(node, index);
        state.low.insert(node, index);
        state.stack.push(node);
        state.on_stack.insert(node);
        for &to in state.next.get(&node).map(Vec::as_slice).unwrap_or(&[]) {
            if !state.index.contains_key(&to) {
                visit(state, to);
                let low = state.low[&node].min(state.low[&to]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(&to) {
                let low = state.low[&node].min(state.index[&to]);
                state.low.insert(node, low);
            }
        }
        if state.low[&node] == state.index[&node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(&top);
                component.push(top);
                if top == node {
                    break;
                }
            }
            component.sort();
            state.components.push(component);
        }
    }
    let mut state = State {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in nodes {
        if !state.index.contains_key(&node) {
            visit(&mut state, node);
        }
    }
    state.components
}

/// The `use`s and paths of one module's own items (not its inline
/// submodules, which are modules of their own).
#[derive(Default)]
struct PathCollector {
    imports: HashMap<String, Segments>,
    paths: Vec<(Segments, usize)>,
}

impl PathCollector {
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Segments, line: usize) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(&path.tree, prefix, line);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.bind(prefix, &name.ident, &name.ident, line),
            syn::UseTree::Rename(rename) => self.bind(prefix, &rename.ident, &rename.rename, line),
            syn::UseTree::Glob(_) => self.paths.push((prefix.clone(), line)),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(tree, prefix, line);
                }
            }
        }
    }

    fn bind(&mut self, prefix: &[String], ident: &syn::Ident, name: &syn::Ident, line: usize) {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_string());
        }
        // `use a::b::{self}` binds `b`; a rename binds its new name.
        let bound = if name == "self" {
            path.last().cloned().unwrap_or_default()
        } else {
            name.to_string()
        };
        if bound != "_" {
            self.imports.insert(bound, path.clone());
        }
        self.paths.push((path, line));
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // A module inside a function body is rare enough to leave out.
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let line = item.use_token.span.start().line;
        let mut prefix = Vec::new();
        if item.leading_colon.is_some() {
            return;
        }
        self.use_tree(&item.tree, &mut prefix, line);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path.segments[0].ident.span().start().line;
            self.paths.push((segments, line));
        }
        syn::visit::visit_path(self, path);
    }
}
