//! Applying an image's layers, in memory, without unpacking anything to disk.
//!
//! Each layer is read once, as a stream: gzip, zstd or plain tar, told apart by their magic
//! bytes. Entries are applied the way a container runtime applies them (containerd's
//! `archive.Apply`): paths are cleaned lexically and entries escaping the root are refused;
//! parent directories are resolved through the symlinks already in the set (never on the
//! host); `.wh.<name>` removes `<name>` from the lower layers and `.wh..wh..opq` hides a
//! directory's lower-layer contents, neither touching what the same layer adds; a non-directory
//! replaces a directory with everything under it; hard links copy their target's node.
//!
//! The result, a [`FileSet`], holds every path of the final filesystem and the contents of the
//! files a caller-provided predicate wants. Everything is bounded by [`Limits`]: decompressed
//! bytes per layer and per image (a decompression bomb is refused), bytes per wanted file and
//! in all (over the cap the content is skipped, with a warning), entries, path depth and
//! length, symlink hops, and the size of tar metadata records (PAX, GNU long names).

use std::collections::BTreeMap;
use std::error::Error as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use crate::error::ScanError;
use crate::tarstream::{RawEntry, RawKind, TarError, TarStream};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Bounds on what one analysis may read and keep. The defaults suit a registry scanning
/// images pushed by anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Decompressed bytes of one layer (default 8 GiB). Beyond: [`ScanError::LayerTooLarge`].
    pub max_layer_bytes: u64,
    /// Decompressed bytes of all layers together (default 8 GiB). Beyond:
    /// [`ScanError::ImageTooLarge`].
    pub max_image_bytes: u64,
    /// Content kept for one wanted file (default 256 MiB). A larger file is listed without
    /// content, with a warning.
    pub max_file_bytes: u64,
    /// Content kept for all wanted files together (default 2 GiB). Beyond: listed without
    /// content, with a warning.
    pub max_content_bytes: u64,
    /// Tar entries read across all layers, and paths in the set (default 2 million). Beyond:
    /// [`ScanError::TooManyEntries`].
    pub max_entries: u64,
    /// Components of one path (default 256). Deeper entries are skipped, with a warning.
    pub max_path_depth: usize,
    /// Bytes of one path (default 4096). Longer entries are skipped, with a warning.
    pub max_path_len: usize,
    /// Symlinks followed while resolving one path (default 40, as Linux).
    pub max_symlink_hops: usize,
    /// One PAX or GNU long-name record (default 1 MiB). Beyond: [`ScanError::Malformed`].
    pub max_metadata_bytes: u64,
    /// Warnings kept (default 1000); the rest are counted.
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_layer_bytes: 8 * GIB,
            max_image_bytes: 8 * GIB,
            max_file_bytes: 256 * MIB,
            max_content_bytes: 2 * GIB,
            max_entries: 2_000_000,
            max_path_depth: 256,
            max_path_len: 4096,
            max_symlink_hops: 40,
            max_metadata_bytes: MIB,
            max_warnings: 1000,
        }
    }
}

/// The kind of a path in the set. Hard links are [`EntryKind::File`]s (a copy of their
/// target's node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// Devices, FIFOs, sockets.
    Other,
}

/// What is known about an entry before its content is read; the `wanted` predicate decides on
/// this (it is asked about regular files only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    pub kind: EntryKind,
    /// Content size in bytes (0 for anything but files).
    pub size: u64,
    /// Permission bits (`0o7777`).
    pub mode: u32,
}

impl EntryMeta {
    /// A regular file with any execute bit.
    pub fn is_executable(&self) -> bool {
        self.kind == EntryKind::File && self.mode & 0o111 != 0
    }
}

/// One path of the final filesystem.
#[derive(Debug, Clone)]
pub struct Node {
    pub meta: EntryMeta,
    /// A symlink's target, as stored (relative to the link's directory, or absolute from the
    /// image root).
    pub link_target: Option<String>,
    content: Option<Arc<[u8]>>,
    /// The layer that put it there (whiteouts leave their own layer's paths alone).
    layer: u32,
}

impl Node {
    fn new(kind: EntryKind, size: u64, mode: u32) -> Node {
        Node {
            meta: EntryMeta { kind, size, mode },
            link_target: None,
            content: None,
            layer: 0,
        }
    }

    /// The file's bytes, when the predicate wanted them and they were within the limits.
    pub fn content(&self) -> Option<&[u8]> {
        self.content.as_deref()
    }

    fn kept(&self) -> u64 {
        self.content.as_ref().map_or(0, |c| c.len() as u64)
    }
}

/// The final filesystem of an image (or of a directory): every path, normalized (relative to
/// the root, `/`-separated, no `.`, `..` or empty components), with the contents of the wanted
/// files, and the warnings about entries that were skipped.
#[derive(Debug, Clone)]
pub struct FileSet {
    nodes: BTreeMap<String, Node>,
    kept: u64,
    warnings: Vec<String>,
    warnings_dropped: usize,
    limits: Limits,
    /// Bumped whenever a change may alter how a path resolves (a symlink appears, a node
    /// changes kind or is removed); guards `parent_cache`.
    generation: u64,
    parent_cache: Option<(String, String, u64)>,
    /// The layer being applied.
    layer: u32,
}

impl Default for FileSet {
    fn default() -> FileSet {
        FileSet::new(Limits::default())
    }
}

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathProblem {
    Empty,
    Escapes,
    TooDeep,
    TooLong,
}

impl PathProblem {
    fn describe(self) -> &'static str {
        match self {
            PathProblem::Empty => "empty path",
            PathProblem::Escapes => "path escapes the root",
            PathProblem::TooDeep => "path too deep",
            PathProblem::TooLong => "path too long",
        }
    }
}

/// Cleans `raw` lexically: leading `/` and `.` components dropped, `..` applied; a path that
/// climbs above the root is refused, as is one too long or too deep.
fn normalize(raw: &str, limits: &Limits) -> Result<String, PathProblem> {
    if raw.len() > limits.max_path_len {
        return Err(PathProblem::TooLong);
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathProblem::Escapes);
                }
            }
            c => {
                parts.push(c);
                if parts.len() > limits.max_path_depth {
                    return Err(PathProblem::TooDeep);
                }
            }
        }
    }
    if parts.is_empty() {
        return Err(PathProblem::Empty);
    }
    Ok(parts.join("/"))
}

/// An archive member's name, cleaned (`./x` → `x`); `None` if it escapes or is empty.
pub(crate) fn normalize_member(raw: &str) -> Option<String> {
    normalize(raw, &Limits::default()).ok()
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        let mut s = String::with_capacity(dir.len() + 1 + name.len());
        s.push_str(dir);
        s.push('/');
        s.push_str(name);
        s
    }
}

fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl FileSet {
    /// An empty set with the given limits (they bound symlink resolution, the warnings kept
    /// and, for [`insert_file`](Self::insert_file), paths).
    pub fn new(limits: Limits) -> FileSet {
        FileSet {
            nodes: BTreeMap::new(),
            kept: 0,
            warnings: Vec::new(),
            warnings_dropped: 0,
            limits,
            generation: 0,
            parent_cache: None,
            layer: 0,
        }
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All paths with their nodes, in byte order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// All paths, in byte order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// The files whose contents were kept, in path order.
    pub fn files_with_content(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.nodes
            .iter()
            .filter_map(|(k, v)| v.content().map(|c| (k.as_str(), c)))
    }

    /// The node at exactly `path` (a symlink is returned as such, not followed). A leading
    /// `/` is accepted.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// The direct children of directory `dir` (`""` is the root), without following symlinks.
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let dir = dir.trim_matches('/');
        let (prefix, end) = if dir.is_empty() {
            (String::new(), None)
        } else {
            (format!("{dir}/"), Some(format!("{dir}0")))
        };
        let plen = prefix.len();
        let range = match end {
            Some(end) => self.nodes.range(prefix..end),
            None => self.nodes.range(prefix..),
        };
        range
            .filter(move |(k, _)| !k[plen..].contains('/'))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Resolves `path` through the symlinks in the set — every component, the last one too —
    /// and returns the path of the node it names, if there is one. Symlinks resolve inside the
    /// set: absolute targets start at the image root and `..` stops at the root. `None` when
    /// nothing is there, a component is not a directory, or more than
    /// [`Limits::max_symlink_hops`] links are followed (a loop).
    pub fn resolve(&self, path: &str) -> Option<&str> {
        let resolved = self.resolve_path(path, true)?;
        self.nodes.get_key_value(&resolved).map(|(k, _)| k.as_str())
    }

    /// The kept content of the file `path` names, following symlinks (see
    /// [`resolve`](Self::resolve)).
    pub fn contents(&self, path: &str) -> Option<&[u8]> {
        self.get(self.resolve(path)?)?.content()
    }

    /// Entries skipped, contents not kept, other oddities met while building the set.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Warnings beyond [`Limits::max_warnings`] that were counted but not kept.
    pub fn warnings_dropped(&self) -> usize {
        self.warnings_dropped
    }

    /// Adds a regular file with `content` at `path` (normalized; parents created as
    /// directories). For building sets from other sources and in tests. Returns false when the
    /// path is refused.
    pub fn insert_file(&mut self, path: &str, mode: u32, content: impl Into<Vec<u8>>) -> bool {
        let content: Vec<u8> = content.into();
        let mut node = Node::new(EntryKind::File, content.len() as u64, mode & 0o7777);
        node.content = Some(Arc::from(content));
        self.insert_standalone(path, node)
    }

    /// Adds a symlink at `path` pointing at `target` (stored as given).
    pub fn insert_symlink(&mut self, path: &str, target: &str) -> bool {
        let mut node = Node::new(EntryKind::Symlink, 0, 0o777);
        node.link_target = Some(target.to_owned());
        self.insert_standalone(path, node)
    }

    fn insert_standalone(&mut self, path: &str, node: Node) -> bool {
        let Ok(path) = normalize(path, &self.limits) else {
            return false;
        };
        let (parent, _) = split_parent(&path);
        let parent = parent.to_owned();
        if self.ensure_dirs(&parent).is_err() {
            return false;
        }
        self.put(path, node).is_ok()
    }

    fn warn(&mut self, msg: String) {
        if self.warnings.len() < self.limits.max_warnings {
            self.warnings.push(msg);
        } else {
            self.warnings_dropped += 1;
        }
    }

    /// Resolves symlinks in `path` (see [`resolve`](Self::resolve)); `follow_last` decides
    /// whether the last component is resolved too. Components that do not exist are kept as
    /// they are; the result may name nothing.
    fn resolve_path(&self, path: &str, follow_last: bool) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let mut cur = String::new();
        let mut hops = 0usize;
        while let Some(comp) = pending.pop() {
            match comp.as_str() {
                "." => continue,
                ".." => {
                    let (parent, _) = split_parent(&cur);
                    cur.truncate(parent.len());
                    continue;
                }
                _ => {}
            }
            let candidate = join(&cur, &comp);
            let last = pending.is_empty();
            match self.nodes.get(&candidate) {
                Some(node) if node.meta.kind == EntryKind::Symlink && (!last || follow_last) => {
                    hops += 1;
                    if hops > self.limits.max_symlink_hops {
                        return None;
                    }
                    let target = node.link_target.as_deref().unwrap_or("");
                    if target.starts_with('/') {
                        cur.clear();
                    }
                    pending.extend(
                        target
                            .split('/')
                            .rev()
                            .filter(|c| !c.is_empty())
                            .map(str::to_owned),
                    );
                    if pending.len() > self.limits.max_path_depth * 4 {
                        return None;
                    }
                }
                Some(node) if !last && node.meta.kind != EntryKind::Dir => return None,
                _ => {
                    cur = candidate;
                    if cur.len() > self.limits.max_path_len {
                        return None;
                    }
                }
            }
        }
        Some(cur)
    }

    /// Resolves a parent directory path for placing an entry in it, creating the directories
    /// that are missing. `Err` (with the reason) when it cannot be a directory.
    fn place_in(&mut self, parent: &str) -> Result<String, &'static str> {
        if parent.is_empty() {
            return Ok(String::new());
        }
        if let Some((raw, resolved, generation)) = &self.parent_cache {
            if raw == parent && *generation == self.generation {
                return Ok(resolved.clone());
            }
        }
        let resolved = match self.plain_dirs(parent) {
            Some(true) => parent.to_owned(),
            Some(false) => {
                self.ensure_dirs(parent)?;
                parent.to_owned()
            }
            None => {
                let resolved = self
                    .resolve_path(parent, true)
                    .ok_or("parent is not a directory or a symlink loop")?;
                if resolved.split('/').count() > self.limits.max_path_depth {
                    return Err("path too deep");
                }
                self.ensure_dirs(&resolved)?;
                resolved
            }
        };
        self.parent_cache = Some((parent.to_owned(), resolved.clone(), self.generation));
        Ok(resolved)
    }

    /// For a normalized path `dir` whose existing prefixes are all directories (no symlink to
    /// follow: the common case, where resolving changes nothing): `Some(true)` if it exists,
    /// `Some(false)` if some of it is missing. `None` when a prefix is something else.
    fn plain_dirs(&self, dir: &str) -> Option<bool> {
        let mut end = 0;
        loop {
            let next = dir[end..].find('/').map(|i| end + i);
            match self.nodes.get(&dir[..next.unwrap_or(dir.len())]) {
                Some(n) if n.meta.kind == EntryKind::Dir => {}
                Some(_) => return None,
                None => return Some(false), // nothing below exists either
            }
            match next {
                Some(i) => end = i + 1,
                None => return Some(true),
            }
        }
    }

    /// Creates each missing directory of `dir` (already resolved).
    fn ensure_dirs(&mut self, dir: &str) -> Result<(), &'static str> {
        if dir.is_empty() {
            return Ok(());
        }
        let mut end = 0;
        loop {
            let next = dir[end..].find('/').map(|i| end + i);
            let prefix = &dir[..next.unwrap_or(dir.len())];
            match self.nodes.get(prefix) {
                Some(n) if n.meta.kind == EntryKind::Dir => {}
                Some(_) => return Err("parent is not a directory"),
                None => {
                    if self.nodes.len() as u64 >= self.limits.max_entries {
                        return Err(TOO_MANY);
                    }
                    let mut node = Node::new(EntryKind::Dir, 0, 0o755);
                    node.layer = self.layer;
                    self.nodes.insert(prefix.to_owned(), node);
                }
            }
            match next {
                Some(i) => end = i + 1,
                None => return Ok(()),
            }
        }
    }

    /// Puts `node` at `path` (whose parent exists): a directory over a directory keeps the
    /// children; anything else replaces what was there, and a non-directory replacing a
    /// directory removes everything under it.
    fn put(&mut self, path: String, mut node: Node) -> Result<(), &'static str> {
        node.layer = self.layer;
        match self.nodes.get_mut(&path) {
            Some(old) if old.meta.kind == EntryKind::Dir && node.meta.kind == EntryKind::Dir => {
                old.meta = node.meta;
                old.layer = node.layer;
            }
            Some(old) => {
                let old_kind = old.meta.kind;
                if old_kind != node.meta.kind || node.meta.kind == EntryKind::Symlink {
                    self.generation += 1;
                }
                self.kept = self.kept - old.kept() + node.kept();
                *old = node;
                if old_kind == EntryKind::Dir {
                    self.remove_under(&path, false);
                }
            }
            None => {
                if self.nodes.len() as u64 >= self.limits.max_entries {
                    return Err(TOO_MANY);
                }
                if node.meta.kind == EntryKind::Symlink {
                    self.generation += 1;
                }
                self.kept += node.kept();
                self.nodes.insert(path, node);
            }
        }
        Ok(())
    }

    /// Removes everything under directory `dir` (`""`: the root) — except, with
    /// `keep_current`, what the current layer put there.
    fn remove_under(&mut self, dir: &str, keep_current: bool) {
        let doomed: Vec<String> = {
            let range = if dir.is_empty() {
                self.nodes.range::<String, _>(..)
            } else {
                self.nodes.range(format!("{dir}/")..format!("{dir}0"))
            };
            range
                .filter(|(_, n)| !(keep_current && n.layer == self.layer))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for path in doomed {
            if let Some(old) = self.nodes.remove(&path) {
                self.kept -= old.kept();
                self.generation += 1;
            }
        }
    }

    /// Removes `path` and everything under it from the lower layers (what the current layer
    /// put there stays).
    fn whiteout(&mut self, path: &str) {
        let Some(n) = self.nodes.get(path) else {
            return;
        };
        let is_dir = n.meta.kind == EntryKind::Dir;
        // Re-created by this layer, it stays; only what the lower layers had under it goes.
        if n.layer != self.layer {
            if let Some(old) = self.nodes.remove(path) {
                self.kept -= old.kept();
                self.generation += 1;
            }
        }
        if is_dir {
            self.remove_under(path, true);
        }
    }

    /// Whether `size` more bytes of content may be kept; warns when not.
    fn may_keep(&mut self, path: &str, size: u64) -> bool {
        if size > self.limits.max_file_bytes {
            self.warn(format!(
                "{path}: content not kept: {size} bytes exceeds the per-file limit of {} bytes",
                self.limits.max_file_bytes
            ));
            return false;
        }
        if self.kept.saturating_add(size) > self.limits.max_content_bytes {
            self.warn(format!(
                "{path}: content not kept: the limit of {} bytes for all kept contents is reached",
                self.limits.max_content_bytes
            ));
            return false;
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Decompression and byte accounting.

/// Counts the bytes read and fails once more than `limit` were read.
pub(crate) struct Bounded<R> {
    inner: R,
    count: u64,
    limit: u64,
    exceeded: bool,
}

impl<R> Bounded<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Bounded<R> {
        Bounded {
            inner,
            count: 0,
            limit,
            exceeded: false,
        }
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::other("size limit exceeded"));
        }
        // Read at most one byte past the limit: enough to know it was crossed.
        let room = self.limit.saturating_sub(self.count).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.count += n as u64;
        if self.count > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("size limit exceeded"));
        }
        Ok(n)
    }
}

/// A layer's compression, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detects the compression from a stream's first bytes. `Err` names a recognized but
/// unsupported format.
pub fn detect_compression(head: &[u8]) -> Result<Compression, &'static str> {
    match head {
        [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
        // A skippable zstd frame (magic 0x184D2A5?, little-endian).
        [b, 0x2a, 0x4d, 0x18, ..] if b & 0xf0 == 0x50 => Ok(Compression::Zstd),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Err("xz"),
        [b'B', b'Z', b'h', ..] => Err("bzip2"),
        _ => Ok(Compression::None),
    }
}

type Head<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// A decompressing reader (or a pass-through), chosen by [`decompress`].
pub enum Decoder<R: Read> {
    Plain(BufReader<Head<R>>),
    Gzip(Box<flate2::read::MultiGzDecoder<Head<R>>>),
    Zstd(Box<ZstdReader<BufReader<Head<R>>>>),
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

/// Wraps `r` in the decompressor its magic bytes call for (gzip, possibly multi-member as
/// eStargz writes it; zstd, any number of frames; else plain). An `Unsupported` error names
/// a recognized but unsupported format (xz, bzip2).
pub fn decompress<R: Read>(mut r: R) -> io::Result<Decoder<R>> {
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kind = detect_compression(&head[..n]).map_err(|format| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!("unsupported compression ({format})"),
        )
    })?;
    let stream = io::Cursor::new(head[..n].to_vec()).chain(r);
    const BUF: usize = 64 * KIB as usize;
    Ok(match kind {
        Compression::Gzip => Decoder::Gzip(Box::new(flate2::read::MultiGzDecoder::new(stream))),
        Compression::Zstd => Decoder::Zstd(Box::new(ZstdReader::new(BufReader::with_capacity(
            BUF, stream,
        )))),
        Compression::None => Decoder::Plain(BufReader::with_capacity(BUF, stream)),
    })
}

/// A zstd decoder over any number of frames, skipping skippable frames (as zstd:chunked
/// writes them), verifying frame checksums. Window sizes are capped by ruzstd's default
/// (100 MiB), which bounds its memory.
pub struct ZstdReader<R: BufRead> {
    src: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdReader<R> {
    fn new(src: R) -> ZstdReader<R> {
        ZstdReader {
            src,
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
        }
    }
}

fn zstd_error(e: ruzstd::decoding::errors::FrameDecoderError) -> io::Error {
    // A read error underneath (truncation) keeps its kind.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::UnexpectedEof {
                return io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string());
            }
        }
        source = s.source();
    }
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        use ruzstd::decoding::BlockDecodingStrategy;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                    self.decoder
                        .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                        .map_err(zstd_error)?;
                }
                let n = self.decoder.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if let (Some(stored), Some(computed)) = (
                    self.decoder.get_checksum_from_data(),
                    self.decoder.get_calculated_checksum(),
                ) {
                    if stored != computed {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "zstd: frame checksum mismatch",
                        ));
                    }
                }
                self.in_frame = false;
                continue;
            }
            if self.src.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.decoder.reset(&mut self.src) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.src).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd: truncated skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(zstd_error(e)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Applying a layer.

/// How applying a layer failed: the tar stream, or a limit.
enum Fail {
    Tar(TarError),
    Scan(ScanError),
}

impl From<TarError> for Fail {
    fn from(e: TarError) -> Fail {
        Fail::Tar(e)
    }
}

/// Applies one layer's tar stream to `fs`.
struct LayerApplier<'f, 'w> {
    fs: &'f mut FileSet,
    wanted: &'w dyn Fn(&str, &EntryMeta) -> bool,
    limits: &'f Limits,
    layer: usize,
    entries: &'f mut u64,
}

impl LayerApplier<'_, '_> {
    fn too_many(&self) -> ScanError {
        ScanError::TooManyEntries {
            layer: self.layer,
            limit: self.limits.max_entries,
        }
    }

    fn run<R: Read>(&mut self, ts: &mut TarStream<R>) -> Result<(), Fail> {
        while let Some(entry) = ts.next_entry()? {
            *self.entries += 1;
            if *self.entries > self.limits.max_entries {
                return Err(Fail::Scan(self.too_many()));
            }
            self.entry(ts, entry)?;
        }
        Ok(ts.drain()?)
    }

    /// Applies one entry, reading its data when it is a wanted file.
    fn entry<R: Read>(&mut self, ts: &mut TarStream<R>, e: RawEntry) -> Result<(), Fail> {
        let layer = self.layer;
        let kind = match e.kind {
            RawKind::File => EntryKind::File,
            RawKind::Dir => EntryKind::Dir,
            RawKind::Symlink => EntryKind::Symlink,
            RawKind::HardLink | RawKind::Special => EntryKind::Other,
            RawKind::Unknown(t) => {
                self.fs.warn(format!(
                    "layer {layer}: {}: entry of type {:?} ignored",
                    shorten(&e.path),
                    t as char
                ));
                return Ok(());
            }
        };
        let path = match normalize(&e.path, self.limits) {
            Ok(p) => p,
            Err(PathProblem::Empty) => return Ok(()), // the root directory itself
            Err(problem) => {
                self.fs.warn(format!(
                    "layer {layer}: {}: entry skipped: {}",
                    shorten(&e.path),
                    problem.describe()
                ));
                return Ok(());
            }
        };
        let (parent, base) = split_parent(&path);
        if let Some(name) = base.strip_prefix(".wh.") {
            self.whiteout_entry(&path, parent, name);
            return Ok(());
        }
        let dir = match self.fs.place_in(parent) {
            Ok(d) => d,
            Err(TOO_MANY) => return Err(Fail::Scan(self.too_many())),
            Err(why) => {
                self.fs.warn(format!(
                    "layer {layer}: {}: entry skipped: {why}",
                    shorten(&path)
                ));
                return Ok(());
            }
        };
        // The path as written, when a symlinked parent moved it.
        let written = (dir != parent).then(|| path.clone());
        let path = join(&dir, base);
        if path.len() > self.limits.max_path_len {
            self.fs.warn(format!(
                "layer {layer}: {}: entry skipped: path too long",
                shorten(&path)
            ));
            return Ok(());
        }
        let node = if e.kind == RawKind::HardLink {
            match self.link_target_node(&path, e.link.as_deref().unwrap_or_default()) {
                Some(node) => node,
                None => return Ok(()),
            }
        } else {
            match kind {
                EntryKind::File => {
                    let mut node = Node::new(EntryKind::File, e.size, e.mode);
                    // Asked about the final path and, when a symlinked parent moved it (usrmerge
                    // `lib -> usr/lib`), about the path as written too.
                    let wanted = (self.wanted)(&path, &node.meta)
                        || written.is_some_and(|w| (self.wanted)(&w, &node.meta));
                    if wanted {
                        if e.sparse {
                            self.fs.warn(format!(
                                "layer {layer}: {path}: content not kept: sparse file"
                            ));
                        } else if self.fs.may_keep(&path, e.size) {
                            node.content = Some(Arc::from(ts.read_data()?));
                        }
                    }
                    node
                }
                EntryKind::Dir => Node::new(EntryKind::Dir, 0, e.mode),
                EntryKind::Symlink => {
                    let target = e.link.unwrap_or_default();
                    if target.len() > self.limits.max_path_len {
                        self.fs.warn(format!(
                            "layer {layer}: {path}: symlink skipped: target too long"
                        ));
                        return Ok(());
                    }
                    let mut node = Node::new(EntryKind::Symlink, 0, 0o777);
                    node.link_target = Some(target);
                    node
                }
                EntryKind::Other => Node::new(EntryKind::Other, 0, e.mode),
            }
        };
        match self.fs.put(path, node) {
            Ok(()) => Ok(()),
            Err(_) => Err(Fail::Scan(self.too_many())),
        }
    }

    /// `.wh.<name>` removes `<name>` (and what is under it) from the lower layers;
    /// `.wh..wh..opq` removes the lower layers' contents of its directory.
    fn whiteout_entry(&mut self, path: &str, parent: &str, name: &str) {
        let layer = self.layer;
        let dir = match self.fs.place_in(parent) {
            Ok(d) => d,
            Err(why) => {
                self.fs.warn(format!(
                    "layer {layer}: {}: whiteout skipped: {why}",
                    shorten(path)
                ));
                return;
            }
        };
        if name == ".wh..opq" {
            self.fs.remove_under(&dir, true);
            self.fs.generation += 1;
        } else if name.starts_with(".wh.") {
            // Other AUFS metadata (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the image.
        } else if name.is_empty() {
            self.fs.warn(format!(
                "layer {layer}: {}: malformed whiteout skipped",
                shorten(path)
            ));
        } else {
            let target = join(&dir, name);
            self.fs.whiteout(&target);
        }
    }

    /// The node a hard link at `path` copies; `None` (with a warning) when its target is
    /// missing or unusable.
    fn link_target_node(&mut self, path: &str, raw: &str) -> Option<Node> {
        let layer = self.layer;
        let target = match normalize(raw, self.limits) {
            Ok(t) => t,
            Err(problem) => {
                self.fs.warn(format!(
                    "layer {layer}: {path}: hard link skipped: target {}: {}",
                    shorten(raw),
                    problem.describe()
                ));
                return None;
            }
        };
        let (tparent, tbase) = split_parent(&target);
        let resolved = self.fs.resolve_path(tparent, true).map(|d| join(&d, tbase));
        let node = resolved
            .as_ref()
            .and_then(|t| self.fs.nodes.get(t))
            .cloned();
        let Some(mut node) = node else {
            self.fs.warn(format!(
                "layer {layer}: {path}: hard link skipped: target {target} not found"
            ));
            return None;
        };
        if node.meta.kind == EntryKind::Dir {
            self.fs.warn(format!(
                "layer {layer}: {path}: hard link skipped: target {target} is a directory"
            ));
            return None;
        }
        if node.meta.kind == EntryKind::File {
            if !(self.wanted)(path, &node.meta) {
                node.content = None;
            } else if node.content.is_none() {
                self.fs.warn(format!(
                    "layer {layer}: {path}: content not kept: hard link to {target}, whose content was not kept"
                ));
            } else if !self.fs.may_keep(path, node.meta.size) {
                node.content = None;
            }
        }
        Some(node)
    }
}

const TOO_MANY: &str = "too many entries";

/// A path shortened for a message.
fn shorten(p: &str) -> String {
    if p.len() <= 200 {
        p.to_owned()
    } else {
        let mut end = 200;
        while !p.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &p[..end], p.len())
    }
}

/// Applies an image's layers in order (base layer first) and returns the final filesystem,
/// keeping the contents of the regular files for which `wanted(path, meta)` is true (`path`
/// is the normalized path inside the image, without a leading `/`).
///
/// Each layer is a tar stream, plain or gzip- or zstd-compressed (detected from its first
/// bytes), read once. A hostile layer is refused with an error — more decompressed bytes or
/// entries than `limits` allow, a truncated or malformed stream — or, for a single bad entry
/// (a path escaping the root, too deep or too long, a dangling hard link), skipped with a
/// warning in the result. Nothing is written to disk and no symlink is followed on the host.
pub fn analyze<R: Read>(
    layers: impl IntoIterator<Item = R>,
    wanted: &dyn Fn(&str, &EntryMeta) -> bool,
    limits: &Limits,
) -> Result<FileSet, ScanError> {
    let mut fs = FileSet::new(limits.clone());
    let mut image_bytes = 0u64;
    let mut entries = 0u64;
    for (layer, reader) in layers.into_iter().enumerate() {
        fs.layer = u32::try_from(layer).unwrap_or(u32::MAX);
        let remaining = limits.max_image_bytes.saturating_sub(image_bytes);
        let (budget, layer_bound) = if limits.max_layer_bytes <= remaining {
            (limits.max_layer_bytes, true)
        } else {
            (remaining, false)
        };
        let too_large = || {
            if layer_bound {
                ScanError::LayerTooLarge {
                    layer,
                    limit: limits.max_layer_bytes,
                }
            } else {
                ScanError::ImageTooLarge {
                    layer,
                    limit: limits.max_image_bytes,
                }
            }
        };
        let classify = |e: io::Error| match e.kind() {
            io::ErrorKind::UnexpectedEof => ScanError::Truncated { layer },
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => ScanError::Malformed {
                layer,
                reason: e.to_string(),
            },
            io::ErrorKind::Unsupported => ScanError::UnsupportedCompression {
                layer,
                format: if e.to_string().contains("xz") {
                    "xz"
                } else {
                    "bzip2"
                },
            },
            _ => ScanError::Io { layer, source: e },
        };
        let stream = decompress(reader).map_err(classify)?;
        let mut src = Bounded::new(stream, budget);
        let result = LayerApplier {
            fs: &mut fs,
            wanted,
            limits,
            layer,
            entries: &mut entries,
        }
        .run(&mut TarStream::new(&mut src, limits.max_metadata_bytes));
        if src.exceeded {
            return Err(too_large());
        }
        match result {
            Ok(()) => {}
            Err(Fail::Scan(e)) => return Err(e),
            Err(Fail::Tar(TarError::Io(e))) => return Err(classify(e)),
            Err(Fail::Tar(TarError::Truncated)) => return Err(ScanError::Truncated { layer }),
            Err(Fail::Tar(TarError::Malformed(reason))) => {
                return Err(ScanError::Malformed { layer, reason })
            }
        }
        image_bytes += src.count;
        fs.parent_cache = None;
    }
    Ok(fs)
}

// ---------------------------------------------------------------------------------------------
// A root filesystem on disk.

impl FileSet {
    /// Reads the directory tree at `root` as a root filesystem (what `berth scan PATH` sees),
    /// keeping the contents of the regular files `wanted` asks for. Symlinks are recorded,
    /// never followed (nor are they while reading: files are opened with `O_NOFOLLOW`, and
    /// FIFOs and devices are never opened). Bounded like [`analyze`]: entries, path depth and
    /// length, bytes per kept file and in all; unreadable directories and files are warnings.
    pub fn from_dir(
        root: impl AsRef<Path>,
        wanted: &dyn Fn(&str, &EntryMeta) -> bool,
        limits: &Limits,
    ) -> Result<FileSet, ScanError> {
        let root = root.as_ref();
        let host = |e: io::Error| ScanError::Host {
            path: root.display().to_string(),
            source: e,
        };
        let meta = fs::metadata(root).map_err(host)?;
        if !meta.is_dir() {
            return Err(host(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a directory",
            )));
        }
        let mut set = FileSet::new(limits.clone());
        // (host directory, its path in the set, depth)
        let mut stack: Vec<(std::path::PathBuf, String, usize)> =
            vec![(root.to_path_buf(), String::new(), 0)];
        let mut entries = 0u64;
        while let Some((dir, rel_dir, depth)) = stack.pop() {
            let read = match fs::read_dir(&dir) {
                Ok(r) => r,
                Err(e) => {
                    set.warn(format!(
                        "{}: directory not read: {e}",
                        display_rel(&rel_dir)
                    ));
                    continue;
                }
            };
            for item in read {
                let item = match item {
                    Ok(i) => i,
                    Err(e) => {
                        set.warn(format!("{}: listing cut short: {e}", display_rel(&rel_dir)));
                        break;
                    }
                };
                entries += 1;
                if entries > limits.max_entries {
                    return Err(ScanError::DirTooLarge {
                        path: root.display().to_string(),
                        limit: limits.max_entries,
                    });
                }
                let name = item.file_name();
                let name = name.to_string_lossy();
                let rel = join(&rel_dir, &name);
                if rel.len() > limits.max_path_len || depth + 1 > limits.max_path_depth {
                    set.warn(format!(
                        "{}: skipped: path too long or too deep",
                        shorten(&rel)
                    ));
                    continue;
                }
                let Ok(lmeta) = item.path().symlink_metadata() else {
                    set.warn(format!("{rel}: skipped: cannot stat"));
                    continue;
                };
                let ft = lmeta.file_type();
                let mode = unix_mode(&lmeta);
                let node = if ft.is_dir() {
                    stack.push((item.path(), rel.clone(), depth + 1));
                    Node::new(EntryKind::Dir, 0, mode)
                } else if ft.is_symlink() {
                    let target = fs::read_link(item.path())
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let mut node = Node::new(EntryKind::Symlink, 0, 0o777);
                    node.link_target = Some(target);
                    node
                } else if ft.is_file() {
                    let mut node = Node::new(EntryKind::File, lmeta.len(), mode);
                    if wanted(&rel, &node.meta) && set.may_keep(&rel, lmeta.len()) {
                        match read_host_file(&item.path(), limits.max_file_bytes) {
                            Ok(Some(bytes)) => {
                                node.meta.size = bytes.len() as u64;
                                node.content = Some(Arc::from(bytes));
                            }
                            Ok(None) => set.warn(format!(
                                "{rel}: content not kept: it grew beyond the per-file limit or is no longer a regular file"
                            )),
                            Err(e) => set.warn(format!("{rel}: content not read: {e}")),
                        }
                    }
                    node
                } else {
                    Node::new(EntryKind::Other, 0, mode)
                };
                if set.nodes.len() as u64 >= limits.max_entries {
                    return Err(ScanError::DirTooLarge {
                        path: root.display().to_string(),
                        limit: limits.max_entries,
                    });
                }
                let _ = set.put(rel, node);
            }
        }
        Ok(set)
    }
}

fn display_rel(rel: &str) -> &str {
    if rel.is_empty() {
        "/"
    } else {
        rel
    }
}

#[cfg(unix)]
fn unix_mode(m: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn unix_mode(m: &fs::Metadata) -> u32 {
    if m.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

/// Reads a regular file without following a symlink and without blocking on a FIFO swapped in
/// since it was listed. `Ok(None)` when it is not a regular file or larger than `max`.
fn read_host_file(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        let l = Limits::default();
        assert_eq!(normalize("./a/b/", &l), Ok("a/b".into()));
        assert_eq!(normalize("/abs/path", &l), Ok("abs/path".into()));
        assert_eq!(normalize("a/../b", &l), Ok("b".into()));
        assert_eq!(normalize("a/./../../b", &l), Err(PathProblem::Escapes));
        assert_eq!(normalize("../../etc/passwd", &l), Err(PathProblem::Escapes));
        assert_eq!(normalize("./", &l), Err(PathProblem::Empty));
        let deep = vec!["d"; 257].join("/");
        assert_eq!(normalize(&deep, &l), Err(PathProblem::TooDeep));
        assert_eq!(normalize(&"x".repeat(5000), &l), Err(PathProblem::TooLong));
    }

    #[test]
    fn resolve_follows_links_inside_the_set() {
        let mut fs = FileSet::default();
        assert!(fs.insert_file("usr/lib/os-release", 0o644, b"ID=x\n".to_vec()));
        assert!(fs.insert_symlink("etc/os-release", "../usr/lib/os-release"));
        assert!(fs.insert_symlink("lib", "/usr/lib"));
        assert!(fs.insert_symlink("up", "../../../../.."));
        assert_eq!(fs.resolve("etc/os-release"), Some("usr/lib/os-release"));
        assert_eq!(fs.resolve("/lib/os-release"), Some("usr/lib/os-release"));
        assert_eq!(
            fs.resolve("up/usr/lib/os-release"),
            Some("usr/lib/os-release")
        );
        assert_eq!(fs.contents("etc/os-release"), Some(&b"ID=x\n"[..]));
        assert!(fs.insert_symlink("loop/a", "b"));
        assert!(fs.insert_symlink("loop/b", "a"));
        assert_eq!(fs.resolve("loop/a"), None);
        assert_eq!(
            fs.get("etc/os-release").unwrap().meta.kind,
            EntryKind::Symlink
        );
        let kids: Vec<_> = fs.children("usr").map(|(p, _)| p).collect();
        assert_eq!(kids, ["usr/lib"]);
        let top: Vec<_> = fs.children("").map(|(p, _)| p).collect();
        assert_eq!(top, ["etc", "lib", "loop", "up", "usr"]);
    }
}
