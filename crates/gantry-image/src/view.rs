//! The files an image's layers leave, in memory: each path with the layer
//! that wrote it last, and bytes only for the files cataloguers read.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::binary::BinaryInfo;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    /// A symbolic link and its target as written.
    Symlink(String),
    /// A device, FIFO or socket: never read.
    Other,
}

/// What is kept of a file.
#[derive(Debug, Clone)]
pub enum Content {
    /// Nothing: no cataloguer reads it.
    None,
    /// The file's bytes.
    Bytes(Arc<[u8]>),
    /// What an executable's build information says (Go modules, `cargo
    /// auditable` dependencies); the bytes themselves are not kept.
    Binary(Arc<BinaryInfo>),
}

/// One path of the image.
#[derive(Debug, Clone)]
pub struct Node {
    /// Index of the layer that wrote it (0 is the base).
    pub layer: usize,
    pub kind: NodeKind,
    pub size: u64,
    pub mode: u32,
    pub content: Content,
}

/// Every path the image's layers leave.
#[derive(Debug, Default)]
pub struct FileView {
    nodes: BTreeMap<String, Node>,
    /// The digest of each layer, by index.
    pub(crate) layer_digests: Vec<String>,
}

/// Most links followed resolving one path (the kernel's limit).
const MAX_LINKS: usize = 40;

impl FileView {
    /// The node at `path` itself (links not followed).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every path, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The digest of the layer at `index`.
    pub fn layer_digest(&self, index: usize) -> &str {
        self.layer_digests.get(index).map_or("", String::as_str)
    }

    /// `path` with every symbolic link on the way followed inside the
    /// image (an absolute target starts at the image's root, `..` stops
    /// at it); `None` for a loop or too many links.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .rev()
            .map(str::to_string)
            .collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            done.push(part);
            let here = done.join("/");
            if let Some(Node {
                kind: NodeKind::Symlink(target),
                ..
            }) = self.nodes.get(&here)
            {
                hops += 1;
                if hops > MAX_LINKS {
                    return None;
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                for p in target.split('/').rev() {
                    if !p.is_empty() && p != "." {
                        pending.push(p.to_string());
                    }
                }
            }
        }
        Some(done.join("/"))
    }

    /// The bytes of the file at `path` (links followed), if kept.
    pub fn bytes(&self, path: &str) -> Option<(&str, &Node, &[u8])> {
        let real = self.resolve(path)?;
        let (key, node) = self.nodes.get_key_value(&real)?;
        match &node.content {
            Content::Bytes(b) => Some((key.as_str(), node, b)),
            _ => None,
        }
    }

    /// Paths directly or indirectly under `dir`.
    pub fn under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Removes `path` and everything under it.
    pub(crate) fn remove_tree(&mut self, path: &str) {
        self.remove_children(path);
        self.nodes.remove(path);
    }

    /// Removes everything under `dir` (an opaque whiteout).
    pub(crate) fn remove_children(&mut self, dir: &str) {
        let keys: Vec<String> = self.under(dir).map(|(k, _)| k.to_string()).collect();
        for k in keys {
            self.nodes.remove(&k);
        }
    }

    pub(crate) fn insert(&mut self, path: String, node: Node) {
        if node.kind != NodeKind::Dir {
            // A file replacing a folder replaces what was in it.
            self.remove_children(&path);
        }
        self.nodes.insert(path, node);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn node(kind: NodeKind) -> Node {
        Node {
            layer: 0,
            kind,
            size: 0,
            mode: 0o644,
            content: Content::None,
        }
    }

    #[test]
    fn links_resolve_inside_the_image_only() {
        let mut v = FileView::default();
        v.insert("etc".into(), node(NodeKind::Dir));
        v.insert("usr/lib/os-release".into(), node(NodeKind::File));
        v.insert(
            "etc/os-release".into(),
            node(NodeKind::Symlink("../usr/lib/os-release".into())),
        );
        v.insert(
            "etc/escape".into(),
            node(NodeKind::Symlink("../../../../etc/shadow".into())),
        );
        v.insert(
            "etc/abs".into(),
            node(NodeKind::Symlink("/usr/lib/os-release".into())),
        );
        v.insert("a".into(), node(NodeKind::Symlink("b".into())));
        v.insert("b".into(), node(NodeKind::Symlink("a".into())));
        assert_eq!(v.resolve("etc/os-release").unwrap(), "usr/lib/os-release");
        assert_eq!(v.resolve("etc/abs").unwrap(), "usr/lib/os-release");
        assert_eq!(v.resolve("etc/escape").unwrap(), "etc/shadow");
        assert_eq!(v.resolve("a"), None);
    }
}
