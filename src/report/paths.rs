//! How reports name source files in dependencies. A file of its own, with
//! no other dependency, because `cargo lockgraph` includes it too (its
//! class reports and `lockgraph.toml` name the same files the same way).

/// Names a dependency's source files by crate and version: a path into
/// cargo's registry (`.../registry/src/index.crates.io-…/dashmap-6.1.0/src/
/// lib.rs`) or into a copy `cargo lockgraph --instrument` made
/// (`.../lockgraph/instrument/dashmap-6.1.0/src/lib.rs`) reads `dashmap
/// 6.1.0 src/lib.rs`.
pub fn dependency_paths(text: &str) -> String {
    const MARKS: [(&str, bool); 2] = [("/lockgraph/instrument/", false), ("/registry/src/", true)];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: loop {
        let next = MARKS
            .iter()
            .filter_map(|&(mark, index_dir)| rest.find(mark).map(|at| (at, mark, index_dir)))
            .min_by_key(|&(at, ..)| at);
        let Some((at, mark, index_dir)) = next else {
            break;
        };
        // The path starts after the last space, quote or parenthesis.
        let start = rest[..at]
            .rfind(|c: char| c.is_whitespace() || "\"'(`".contains(c))
            .map_or(0, |i| i + 1);
        let mut tail = &rest[at + mark.len()..];
        if index_dir {
            // `index.crates.io-<hash>/`
            match tail.find('/') {
                Some(slash) => tail = &tail[slash + 1..],
                None => {
                    out.push_str(&rest[..at + mark.len()]);
                    rest = &rest[at + mark.len()..];
                    continue 'scan;
                }
            }
        }
        let crate_dir = tail.split('/').next().unwrap_or("");
        let split = crate_dir.char_indices().find(|&(i, c)| {
            c == '-' && {
                let version = &crate_dir[i + 1..];
                let mut parts = version.split('.');
                parts
                    .next()
                    .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    && parts
                        .next()
                        .is_some_and(|p| p.bytes().next().is_some_and(|b| b.is_ascii_digit()))
            }
        });
        match split {
            Some((i, _)) if tail.len() > crate_dir.len() => {
                out.push_str(&rest[..start]);
                out.push_str(&crate_dir[..i]);
                out.push(' ');
                out.push_str(&crate_dir[i + 1..]);
                out.push(' ');
                rest = &tail[crate_dir.len() + 1..];
            }
            _ => {
                out.push_str(&rest[..at + mark.len()]);
                rest = &rest[at + mark.len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `file` is in a dependency's sources: cargo's registry or git
/// checkouts, or a copy `cargo lockgraph --instrument` made.
pub fn in_dependency(file: &str) -> bool {
    let file = file.replace('\\', "/");
    file.contains("/registry/src/")
        || file.contains("/git/checkouts/")
        || file.contains("/lockgraph/instrument/")
}

#[cfg(test)]
mod dependency_path_tests {
    use super::dependency_paths;

    #[test]
    fn dependency_sources_are_told_from_the_programs_own() {
        assert!(super::in_dependency(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dashmap-6.1.0/src/lib.rs"
        ));
        assert!(super::in_dependency(
            "/w/target/lockgraph/instrument/crossbeam-utils-0.8.21/src/lib.rs"
        ));
        assert!(!super::in_dependency("src/lib.rs"));
        assert!(!super::in_dependency("/home/me/app/tests/cache.rs"));
    }

    #[test]
    fn dependency_sources_are_named_by_crate_and_version() {
        let text = "RwLock<()>#1 created at /w/target/lockgraph/instrument/crossbeam-utils-0.8.21/src/sync/sharded_lock.rs:107:31\n  \
                    at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dashmap-6.1.0/src/lib.rs:12 (x)\n  \
                    at src/lib.rs:3 and /elsewhere/registry/src/odd";
        assert_eq!(
            dependency_paths(text),
            "RwLock<()>#1 created at crossbeam-utils 0.8.21 src/sync/sharded_lock.rs:107:31\n  \
             at dashmap 6.1.0 src/lib.rs:12 (x)\n  \
             at src/lib.rs:3 and /elsewhere/registry/src/odd"
        );
    }
}
