//! The job graph that `needs` draws: unknown jobs, cycles, and the order in
//! which jobs can run.

use crate::diagnostic::Diagnostic;
use crate::model::Workflow;

/// The job ids in file order, and a case-insensitive lookup of their index.
fn job_index(workflow: &Workflow) -> (Vec<&str>, impl Fn(&str) -> Option<usize>) {
    let ids: Vec<&str> = workflow.jobs.keys().map(String::as_str).collect();
    let by_name: std::collections::HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_ascii_lowercase(), i))
        .collect();
    (ids, move |name: &str| {
        by_name.get(&name.to_ascii_lowercase()).copied()
    })
}

/// Reports `needs` that name unknown jobs, edges that lie on a cycle, and a
/// workflow where every job waits for another.
pub(crate) fn check_needs(workflow: &Workflow, out: &mut Vec<Diagnostic>) {
    let (ids, index) = job_index(workflow);
    // Edges job -> needed job, with the span of the `needs` entry.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    for (i, job) in workflow.jobs.values().enumerate() {
        for need in &job.needs {
            match index(&need.value) {
                Some(j) => edges[i].push(j),
                None => {
                    let mut d = Diagnostic::error(
                        "unknown-job",
                        need.span,
                        format!(
                            "Job '{}' depends on unknown job '{}'.",
                            job.id.value, need.value
                        ),
                    );
                    if let Some(near) =
                        crate::diagnostic::did_you_mean(&need.value, ids.iter().copied())
                    {
                        d = d.with_hint(format!("did you mean `{near}`?"));
                    }
                    out.push(d);
                }
            }
        }
    }
    if !workflow.jobs.is_empty() && workflow.jobs.values().all(|j| !j.needs.is_empty()) {
        let span = workflow
            .jobs
            .values()
            .next()
            .map_or(workflow.jobs_span, |j| j.id.span);
        out.push(
            Diagnostic::error(
                "no-start-job",
                span,
                "The workflow must contain at least one job with no dependencies.",
            )
            .with_hint("every job here waits for another one, so none can start"),
        );
        return;
    }
    let components = strongly_connected(&edges);
    for (i, job) in workflow.jobs.values().enumerate() {
        for need in &job.needs {
            let Some(j) = index(&need.value) else {
                continue;
            };
            if components[i] == components[j] && (i != j || edges[i].contains(&i)) {
                out.push(
                    Diagnostic::error(
                        "needs-cycle",
                        need.span,
                        format!(
                            "Job '{}' depends on job '{}' which creates a cycle in the dependency graph.",
                            job.id.value, ids[j]
                        ),
                    )
                    .with_hint("remove one of the `needs` on the cycle"),
                );
            }
        }
    }
}

/// Tarjan's algorithm, iteratively: the component number of every node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to visit)
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if *edge == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// The jobs in an order where every job comes after the jobs it needs,
/// grouped by depth (the longest `needs` chain before it). Unknown needs are
/// ignored; `None` if there is a cycle. Linear in jobs plus edges.
pub fn levels(workflow: &Workflow) -> Option<Vec<Vec<String>>> {
    let (ids, index) = job_index(workflow);
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    let mut waiting = vec![0usize; ids.len()];
    for (i, job) in workflow.jobs.values().enumerate() {
        for need in &job.needs {
            if let Some(j) = index(&need.value) {
                dependents[j].push(i);
                waiting[i] += 1;
            }
        }
    }
    let mut depth = vec![0usize; ids.len()];
    let mut ready: std::collections::VecDeque<usize> =
        (0..ids.len()).filter(|&i| waiting[i] == 0).collect();
    let mut done = 0;
    while let Some(j) = ready.pop_front() {
        done += 1;
        for &i in &dependents[j] {
            depth[i] = depth[i].max(depth[j] + 1);
            waiting[i] -= 1;
            if waiting[i] == 0 {
                ready.push_back(i);
            }
        }
    }
    if done != ids.len() {
        return None;
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for (i, d) in depth.into_iter().enumerate() {
        if out.len() <= d {
            out.resize(d + 1, Vec::new());
        }
        out[d].push(ids[i].to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn finds_cycles_and_self_loops() {
        // 0 -> 1 -> 2 -> 1, 3 -> 3
        let edges = vec![vec![1], vec![2], vec![1], vec![3]];
        let c = strongly_connected(&edges);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[0], c[1]);
        assert_ne!(c[3], c[1]);
    }
}
