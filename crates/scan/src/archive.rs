//! Image archives on disk: what `docker save` writes (`manifest.json` naming each layer's
//! tar) and OCI image layouts (`index.json` → manifest → layer blobs), either as a tar file
//! (plain, gzip or zstd) or as a directory.
//!
//! Layers are not extracted: [`ImageArchive::layers`] returns readers that open lazily and
//! stream their layer — from a plain tar by seeking to the member, from a compressed tar by
//! decompressing up to it (one pass per layer), from a directory by opening the file. Small
//! members (manifests, configs) are kept in memory from the first pass.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::error::ScanError;
use crate::layers::{analyze, decompress, detect_compression, normalize_member, Bounded, Limits};
use crate::tarstream::{RawKind, TarError, TarStream};

/// Members up to this size are kept in memory by the first pass.
const SMALL_MEMBER: u64 = 1 << 20;
/// And at most this much of them in all.
const SMALL_TOTAL: u64 = 64 << 20;
/// Manifests, indexes and configs larger than this are refused.
const MAX_JSON: u64 = 4 << 20;
/// Nested indexes followed at most.
const MAX_INDEX_DEPTH: usize = 4;

/// The layout an archive uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `docker save`: `manifest.json` lists the layer members.
    DockerSave,
    /// An OCI image layout: `index.json` and `blobs/<alg>/<hex>`.
    OciLayout,
}

#[derive(Debug, Clone)]
struct Member {
    kind: RawKind,
    data_pos: u64,
    size: u64,
    link: Option<String>,
}

#[derive(Debug)]
enum Store {
    Dir(PathBuf),
    Tar {
        path: PathBuf,
        compressed: bool,
        members: HashMap<String, Member>,
        small: HashMap<String, Arc<[u8]>>,
        /// Bound on the decompressed bytes read from a compressed archive per pass.
        max_bytes: u64,
        max_metadata: u64,
    },
}

/// An image archive, opened: its format, its config and its layers, base layer first.
#[derive(Debug)]
pub struct ImageArchive {
    path: PathBuf,
    store: Store,
    pub format: ImageFormat,
    /// The image config (JSON), when the archive has it.
    pub config: Option<Vec<u8>>,
    /// The members (paths inside the archive) of the layers, base layer first.
    pub layer_paths: Vec<String>,
    /// The image manifest's digest, when the archive names it: an OCI layout's descriptor
    /// of the chosen manifest (a `docker save` archive has none).
    pub manifest_digest: Option<String>,
}

impl ImageArchive {
    /// Opens a `docker save` tar or OCI layout (tar or directory). Reads the archive's index
    /// once; the layers are read later, by [`layers`](Self::layers). `limits` bound the
    /// archive's entries and, for a compressed archive, the bytes decompressed per pass (twice
    /// [`Limits::max_image_bytes`]).
    pub fn open(path: impl AsRef<Path>, limits: &Limits) -> Result<ImageArchive, ScanError> {
        let path = path.as_ref().to_path_buf();
        let meta = std::fs::metadata(&path).map_err(|e| host(&path, e))?;
        let store = if meta.is_dir() {
            Store::Dir(path.clone())
        } else {
            index_tar(&path, limits)?
        };
        let mut archive = ImageArchive {
            path,
            store,
            format: ImageFormat::DockerSave,
            config: None,
            layer_paths: Vec::new(),
            manifest_digest: None,
        };
        if archive.exists("manifest.json") {
            archive.read_docker_manifest()?;
        } else if archive.exists("index.json") {
            archive.format = ImageFormat::OciLayout;
            archive.read_oci_index()?;
        } else {
            return Err(archive
                .err("neither manifest.json (docker save) nor index.json (OCI layout) found"));
        }
        Ok(archive)
    }

    /// Readers of the layers, base layer first, for [`analyze`]. Each opens its source on its
    /// first read; an error opening it surfaces as that layer's I/O error.
    pub fn layers(&self) -> Vec<LayerSource> {
        self.layer_paths
            .iter()
            .map(|member| LayerSource {
                plan: self.plan(member),
                open: None,
            })
            .collect()
    }

    fn err(&self, reason: impl Into<String>) -> ScanError {
        ScanError::Image {
            path: self.path.display().to_string(),
            reason: reason.into(),
        }
    }

    /// The member `name` resolves to through symlinks (old `docker save` links duplicate
    /// layers to the first copy).
    fn resolve(&self, name: &str) -> Option<String> {
        let mut name = normalize_member(name)?;
        match &self.store {
            Store::Dir(_) => Some(name),
            Store::Tar { members, .. } => {
                for _ in 0..40 {
                    let m = members.get(&name)?;
                    if m.kind != RawKind::Symlink && m.kind != RawKind::HardLink {
                        return Some(name);
                    }
                    let target = m.link.as_deref().unwrap_or("");
                    let joined = if m.kind == RawKind::Symlink && !target.starts_with('/') {
                        match name.rsplit_once('/') {
                            Some((dir, _)) => format!("{dir}/{target}"),
                            None => target.to_owned(),
                        }
                    } else {
                        target.to_owned()
                    };
                    name = normalize_member(&joined)?;
                }
                None
            }
        }
    }

    fn exists(&self, name: &str) -> bool {
        match &self.store {
            Store::Dir(root) => normalize_member(name).is_some_and(|n| root.join(n).is_file()),
            Store::Tar { .. } => self.resolve(name).is_some(),
        }
    }

    /// A small member's bytes (a manifest, an index, a config).
    fn read_small(&self, name: &str) -> Result<Vec<u8>, ScanError> {
        let resolved = self
            .resolve(name)
            .ok_or_else(|| self.err(format!("{name}: not in the archive")))?;
        let mut out = Vec::new();
        let mut src = LayerSource {
            plan: self.plan(&resolved),
            open: None,
        };
        (&mut src)
            .take(MAX_JSON + 1)
            .read_to_end(&mut out)
            .map_err(|e| self.err(format!("{name}: {e}")))?;
        if out.len() as u64 > MAX_JSON {
            return Err(self.err(format!("{name}: larger than {MAX_JSON} bytes")));
        }
        Ok(out)
    }

    fn read_json(&self, name: &str) -> Result<Value, ScanError> {
        let bytes = self.read_small(name)?;
        serde_json::from_slice(&bytes).map_err(|e| self.err(format!("{name}: bad JSON: {e}")))
    }

    fn plan(&self, member: &str) -> Plan {
        let resolved = self.resolve(member).unwrap_or_else(|| member.to_owned());
        match &self.store {
            Store::Dir(root) => Plan::File(root.join(&resolved)),
            Store::Tar {
                path,
                compressed,
                members,
                small,
                max_bytes,
                max_metadata,
            } => {
                if let Some(bytes) = small.get(&resolved) {
                    return Plan::Bytes(bytes.clone());
                }
                match members.get(&resolved) {
                    None => Plan::Missing(resolved),
                    Some(m) if !*compressed => Plan::Range {
                        path: path.clone(),
                        offset: m.data_pos,
                        size: m.size,
                    },
                    Some(_) => Plan::Stream {
                        path: path.clone(),
                        member: resolved,
                        max_bytes: *max_bytes,
                        max_metadata: *max_metadata,
                    },
                }
            }
        }
    }

    fn read_docker_manifest(&mut self) -> Result<(), ScanError> {
        let manifest = self.read_json("manifest.json")?;
        let image = manifest
            .as_array()
            .and_then(|a| a.first())
            .ok_or_else(|| self.err("manifest.json: no image"))?;
        let layers = image
            .get("Layers")
            .and_then(Value::as_array)
            .ok_or_else(|| self.err("manifest.json: no Layers"))?;
        let mut paths = Vec::new();
        for l in layers {
            let p = l
                .as_str()
                .and_then(normalize_member)
                .ok_or_else(|| self.err("manifest.json: bad layer path"))?;
            if !self.exists(&p) {
                return Err(self.err(format!("manifest.json: layer {p} not in the archive")));
            }
            paths.push(p);
        }
        self.config = match image.get("Config").and_then(Value::as_str) {
            Some(c) if self.exists(c) => Some(self.read_small(c)?),
            _ => None,
        };
        self.layer_paths = paths;
        Ok(())
    }

    fn read_oci_index(&mut self) -> Result<(), ScanError> {
        let mut doc = self.read_json("index.json")?;
        for _ in 0..MAX_INDEX_DEPTH {
            if doc.get("layers").is_some() {
                return self.read_oci_manifest(&doc);
            }
            let manifests = doc
                .get("manifests")
                .and_then(Value::as_array)
                .filter(|m| !m.is_empty())
                .ok_or_else(|| self.err("index: no manifests"))?;
            let chosen = pick_manifest(manifests);
            let blob = blob_path(chosen).ok_or_else(|| self.err("index: bad descriptor"))?;
            self.manifest_digest = chosen
                .get("digest")
                .and_then(Value::as_str)
                .map(str::to_owned);
            doc = self.read_json(&blob)?;
        }
        Err(self.err("index: nested too deeply"))
    }

    fn read_oci_manifest(&mut self, manifest: &Value) -> Result<(), ScanError> {
        let layers = manifest
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| self.err("manifest: no layers"))?;
        let mut paths = Vec::new();
        for l in layers {
            let media = l.get("mediaType").and_then(Value::as_str).unwrap_or("");
            if !(media.is_empty() || media.contains("tar") || media.contains("layer")) {
                continue; // not a filesystem layer (an artifact's blob)
            }
            let p = blob_path(l).ok_or_else(|| self.err("manifest: bad layer descriptor"))?;
            if !self.exists(&p) {
                return Err(self.err(format!("manifest: layer {p} not in the layout")));
            }
            paths.push(p);
        }
        if paths.is_empty() {
            return Err(self.err("manifest: no filesystem layers (not an image?)"));
        }
        self.config = match manifest.get("config").and_then(blob_path) {
            Some(c) if self.exists(&c) => Some(self.read_small(&c)?),
            _ => None,
        };
        self.layer_paths = paths;
        Ok(())
    }
}

/// Of an index's manifests: linux/amd64 if listed, else the first.
fn pick_manifest(manifests: &[Value]) -> &Value {
    manifests
        .iter()
        .find(|m| {
            let p = m.get("platform");
            p.and_then(|p| p.get("os")).and_then(Value::as_str) == Some("linux")
                && p.and_then(|p| p.get("architecture"))
                    .and_then(Value::as_str)
                    == Some("amd64")
        })
        .unwrap_or(&manifests[0])
}

/// `blobs/<alg>/<encoded>` for a descriptor, if its digest is well-formed (so it cannot
/// name a path outside `blobs/`).
fn blob_path(descriptor: &Value) -> Option<String> {
    let digest = descriptor.get("digest")?.as_str()?;
    let (alg, enc) = digest.split_once(':')?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let enc_ok = !enc.is_empty()
        && enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    (alg_ok && enc_ok && !alg.starts_with('.')).then(|| format!("blobs/{alg}/{enc}"))
}

fn host(path: &Path, e: io::Error) -> ScanError {
    ScanError::Host {
        path: path.display().to_string(),
        source: e,
    }
}

/// One pass over a tar archive: its members, and the small ones' bytes.
fn index_tar(path: &Path, limits: &Limits) -> Result<Store, ScanError> {
    let err = |reason: String| ScanError::Image {
        path: path.display().to_string(),
        reason,
    };
    let mut file = File::open(path).map_err(|e| host(path, e))?;
    let mut head = [0u8; 6];
    let n = file.read(&mut head).map_err(|e| host(path, e))?;
    let compressed = match detect_compression(&head[..n]) {
        Ok(c) => c != crate::layers::Compression::None,
        Err(format) => return Err(err(format!("unsupported compression ({format})"))),
    };
    file.seek(SeekFrom::Start(0)).map_err(|e| host(path, e))?;
    let max_bytes = limits.max_image_bytes.saturating_mul(2);
    let stream = decompress(BufReader::new(file)).map_err(|e| host(path, e))?;
    let mut bounded = Bounded::new(stream, max_bytes);
    let mut ts = TarStream::new(&mut bounded, limits.max_metadata_bytes);
    let mut members = HashMap::new();
    let mut small = HashMap::new();
    let mut small_total = 0u64;
    let tar_err = |e: TarError| match e {
        TarError::Io(e) => err(format!("reading the archive: {e}")),
        TarError::Truncated => err("truncated archive".into()),
        TarError::Malformed(m) => err(format!("malformed archive: {m}")),
    };
    loop {
        let entry = match ts.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                if bounded.exceeded() {
                    return Err(err(format!("larger than {max_bytes} bytes decompressed")));
                }
                return Err(tar_err(e));
            }
        };
        if members.len() as u64 >= limits.max_entries {
            return Err(err(format!("more than {} entries", limits.max_entries)));
        }
        let Some(name) = normalize_member(&entry.path) else {
            continue;
        };
        if entry.kind == RawKind::File
            && entry.size <= SMALL_MEMBER
            && small_total + entry.size <= SMALL_TOTAL
            && !entry.sparse
        {
            let bytes = ts.read_data().map_err(tar_err)?;
            small_total += entry.size;
            small.insert(name.clone(), Arc::from(bytes));
        }
        members.insert(
            name,
            Member {
                kind: entry.kind,
                data_pos: entry.data_pos,
                size: entry.size,
                link: entry.link,
            },
        );
    }
    Ok(Store::Tar {
        path: path.to_path_buf(),
        compressed,
        members,
        small,
        max_bytes,
        max_metadata: limits.max_metadata_bytes,
    })
}

/// How a layer's bytes are reached.
#[derive(Debug, Clone)]
enum Plan {
    Bytes(Arc<[u8]>),
    File(PathBuf),
    Range {
        path: PathBuf,
        offset: u64,
        size: u64,
    },
    Stream {
        path: PathBuf,
        member: String,
        max_bytes: u64,
        max_metadata: u64,
    },
    Missing(String),
}

/// A layer of an [`ImageArchive`]: a reader that opens its source on the first read.
pub struct LayerSource {
    plan: Plan,
    open: Option<Box<dyn Read + Send>>,
}

impl std::fmt::Debug for LayerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerSource")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// A shared byte buffer as a reader.
struct ArcCursor {
    bytes: Arc<[u8]>,
    pos: usize,
}

impl Read for ArcCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl LayerSource {
    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match &self.plan {
            Plan::Bytes(b) => Box::new(ArcCursor {
                bytes: b.clone(),
                pos: 0,
            }),
            Plan::File(p) => Box::new(File::open(p)?),
            Plan::Range { path, offset, size } => {
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(*offset))?;
                Box::new(BufReader::new(f).take(*size))
            }
            Plan::Stream {
                path,
                member,
                max_bytes,
                max_metadata,
            } => {
                let stream = decompress(BufReader::new(File::open(path)?))?;
                let mut ts = TarStream::new(Bounded::new(stream, *max_bytes), *max_metadata);
                loop {
                    match ts.next_entry() {
                        Ok(Some(e)) if normalize_member(&e.path).as_deref() == Some(member) => {
                            return Ok(Box::new(ts.into_data()));
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            return Err(io::Error::new(
                                io::ErrorKind::NotFound,
                                format!("{member}: not in the archive"),
                            ))
                        }
                        Err(TarError::Io(e)) => return Err(e),
                        Err(TarError::Truncated) => {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "truncated archive",
                            ))
                        }
                        Err(TarError::Malformed(m)) => {
                            return Err(io::Error::new(io::ErrorKind::InvalidData, m))
                        }
                    }
                }
            }
            Plan::Missing(m) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{m}: not in the archive"),
                ))
            }
        })
    }
}

impl Read for LayerSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.open.is_none() {
            self.open = Some(self.open()?);
        }
        self.open.as_mut().expect("opened above").read(buf)
    }
}

/// The layers of a `docker save` archive (or OCI layout), base layer first, as lazy readers.
pub fn docker_save_layers(
    path: impl AsRef<Path>,
    limits: &Limits,
) -> Result<Vec<LayerSource>, ScanError> {
    Ok(ImageArchive::open(path, limits)?.layers())
}

/// Opens an image archive and applies its layers (see [`analyze`]).
pub fn analyze_archive(
    path: impl AsRef<Path>,
    wanted: &dyn Fn(&str, &crate::layers::EntryMeta) -> bool,
    limits: &Limits,
) -> Result<crate::layers::FileSet, ScanError> {
    let archive = ImageArchive::open(path, limits)?;
    analyze(archive.layers(), wanted, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blob_paths_are_confined() {
        assert_eq!(
            blob_path(&json!({"digest": "sha256:abcDEF012"})).as_deref(),
            Some("blobs/sha256/abcDEF012")
        );
        for bad in [
            "sha256:../../etc",
            "sha256:a/b",
            "..:x",
            "sha256:",
            "nocolon",
        ] {
            assert_eq!(blob_path(&json!({ "digest": bad })), None, "{bad}");
        }
    }

    #[test]
    fn platform_choice() {
        let ms = [
            json!({"digest": "sha256:a", "platform": {"os": "linux", "architecture": "arm64"}}),
            json!({"digest": "sha256:b", "platform": {"os": "linux", "architecture": "amd64"}}),
        ];
        assert_eq!(pick_manifest(&ms)["digest"], "sha256:b");
        assert_eq!(pick_manifest(&ms[..1])["digest"], "sha256:a");
    }
}
