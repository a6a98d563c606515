//! The dependency graph: edges come from `${name.attribute}` references, never from file
//! order. Independent resources share a level and can be created concurrently.

use crate::spec::{Diagnostic, Resource};
use indexmap::IndexMap;

/// Resources grouped in dependency levels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    levels: Vec<Vec<String>>,
}

impl Graph {
    /// Builds the graph; a cycle is reported (as its path) and its members left out of the
    /// levels.
    pub fn new(resources: &IndexMap<String, Resource>, diagnostics: &mut Vec<Diagnostic>) -> Graph {
        for cycle in find_cycles(resources) {
            let first = &resources[&cycle[0]];
            let path = cycle
                .iter()
                .chain(std::iter::once(&cycle[0]))
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" -> ");
            diagnostics.push(
                Diagnostic::at(first.span.start, format!("dependency cycle: {path}")).hint(
                    "a resource cannot depend on itself, directly or through others; remove one reference",
                ),
            );
        }
        // Kahn's algorithm by levels; file order within a level keeps output stable.
        let mut placed: IndexMap<&str, usize> = IndexMap::new();
        let mut levels: Vec<Vec<String>> = Vec::new();
        loop {
            let level: Vec<&str> = resources
                .values()
                .filter(|r| !placed.contains_key(r.logical.as_str()))
                .filter(|r| {
                    r.depends_on
                        .iter()
                        .all(|d| placed.contains_key(d.as_str()) || !resources.contains_key(d))
                })
                .map(|r| r.logical.as_str())
                .collect();
            if level.is_empty() {
                break;
            }
            for name in &level {
                placed.insert(name, levels.len());
            }
            levels.push(level.into_iter().map(str::to_owned).collect());
        }
        Graph { levels }
    }

    /// The levels: each depends only on earlier ones.
    pub fn levels(&self) -> &[Vec<String>] {
        &self.levels
    }

    /// Every resource in a valid creation order.
    pub fn order(&self) -> impl Iterator<Item = &str> {
        self.levels.iter().flatten().map(String::as_str)
    }
}

/// Every elementary cycle found by a depth-first search, each reported once, starting at
/// its first member in file order.
fn find_cycles(resources: &IndexMap<String, Resource>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        name: &str,
        resources: &IndexMap<String, Resource>,
        marks: &mut IndexMap<String, Mark>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<Vec<String>>,
    ) {
        marks.insert(name.to_owned(), Mark::Active);
        stack.push(name.to_owned());
        if let Some(r) = resources.get(name) {
            for dep in &r.depends_on {
                match marks.get(dep.as_str()).copied() {
                    Some(Mark::New) => visit(dep, resources, marks, stack, cycles),
                    Some(Mark::Active) => {
                        let start = stack.iter().position(|s| s == dep).unwrap_or(0);
                        let mut cycle = stack[start..].to_vec();
                        let first = (0..cycle.len())
                            .min_by_key(|i| resources.get_index_of(&cycle[*i]))
                            .unwrap_or(0);
                        cycle.rotate_left(first);
                        if !cycles.contains(&cycle) {
                            cycles.push(cycle);
                        }
                    }
                    _ => {}
                }
            }
        }
        stack.pop();
        marks.insert(name.to_owned(), Mark::Done);
    }
    let mut marks: IndexMap<String, Mark> = resources.keys().map(|k| (k.clone(), Mark::New)).collect();
    let mut cycles = Vec::new();
    for name in resources.keys() {
        if marks.get(name.as_str()) == Some(&Mark::New) {
            visit(name, resources, &mut marks, &mut Vec::new(), &mut cycles);
        }
    }
    cycles
}
