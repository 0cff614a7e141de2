//! The rpm header blob every database stores: `il` index entries and `dl` bytes of data.
//!
//! Layout (big-endian): `il: u32`, `dl: u32`, then `il` entries of
//! `{tag: i32, type: u32, offset: i32, count: u32}`, then the data store. The blob in a
//! database has no lead or header magic (those belong to `.rpm` files). Installed headers
//! start with a region tag (63) whose trailer we do not need: every tag we read is in the
//! index either way. A tag that appears twice (a "dribble" entry added after install)
//! overrides the earlier one, as in rpm.

use super::{Error, RpmPackage};

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_VENDOR: i32 = 1011;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_OLDFILENAMES: i32 = 1027;
const TAG_SOURCERPM: i32 = 1044;
const TAG_DIRINDEXES: i32 = 1116;
const TAG_BASENAMES: i32 = 1117;
const TAG_DIRNAMES: i32 = 1118;
const TAG_MODULARITYLABEL: i32 = 5096;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (`hdrchkTags`, `hdrchkData`).
const MAX_TAGS: usize = 0xffff;
const MAX_DATA: usize = 0x0fff_ffff;
/// An installed header never names more files than this.
const MAX_FILES: usize = 1 << 20;
/// Joined file paths are at most this many times the header's size (real headers: < 3).
pub const MAX_FILES_FACTOR: usize = 16;

#[derive(Clone, Copy)]
struct Entry {
    tag: i32,
    ty: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: the index and the data store it points into.
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Result<u32, Error> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Error::Truncated("rpm header"))
}

impl<'a> Header<'a> {
    /// Checks the blob's bounds; entries pointing outside the data store are errors.
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let il = be32(blob, 0)? as usize;
        let dl = be32(blob, 4)? as usize;
        if il == 0 || il > MAX_TAGS {
            return Err(Error::Malformed(format!("rpm header with {il} tags")));
        }
        if dl > MAX_DATA {
            return Err(Error::Malformed(format!("rpm header with {dl} data bytes")));
        }
        let data_start = 8 + il * 16;
        let data = blob
            .get(data_start..data_start + dl)
            .ok_or(Error::Truncated("rpm header data"))?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let tag = be32(blob, at)? as i32;
            let ty = be32(blob, at + 4)?;
            let offset = be32(blob, at + 8)? as i32;
            let count = be32(blob, at + 12)? as usize;
            if offset < 0 || offset as usize > dl {
                return Err(Error::Malformed(format!(
                    "rpm header tag {tag} at offset {offset} outside {dl} bytes"
                )));
            }
            entries.push(Entry {
                tag,
                ty,
                offset: offset as usize,
                count,
            });
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: i32) -> Option<Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    /// `count` NUL-terminated strings starting at `offset`.
    fn strings_at(&self, e: Entry) -> Result<Vec<&'a str>, Error> {
        if e.count > self.data.len() {
            return Err(Error::Malformed(format!(
                "rpm tag {} claims {} strings",
                e.tag, e.count
            )));
        }
        let mut out = Vec::with_capacity(e.count);
        let mut at = e.offset;
        for _ in 0..e.count {
            let rest = self.data.get(at..).ok_or(Error::Truncated("rpm string"))?;
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(Error::Truncated("rpm string"))?;
            let s = std::str::from_utf8(&rest[..end])
                .map_err(|_| Error::Malformed(format!("rpm tag {} is not UTF-8", e.tag)))?;
            out.push(s);
            at += end + 1;
        }
        Ok(out)
    }

    /// A string tag (STRING, or the first of an I18NSTRING / STRING_ARRAY).
    pub fn string(&self, tag: i32) -> Result<Option<&'a str>, Error> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY if e.count >= 1 => {
                let one = Entry { count: 1, ..e };
                Ok(self.strings_at(one)?.into_iter().next())
            }
            _ => Err(Error::Malformed(format!(
                "rpm tag {tag} has type {} count {}",
                e.ty, e.count
            ))),
        }
    }

    pub fn string_array(&self, tag: i32) -> Result<Vec<&'a str>, Error> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.ty != TYPE_STRING_ARRAY {
            return Err(Error::Malformed(format!("rpm tag {tag} has type {}", e.ty)));
        }
        self.strings_at(e)
    }

    pub fn int32_array(&self, tag: i32) -> Result<Vec<i32>, Error> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.ty != TYPE_INT32 {
            return Err(Error::Malformed(format!("rpm tag {tag} has type {}", e.ty)));
        }
        let len = e
            .count
            .checked_mul(4)
            .ok_or(Error::Truncated("rpm int32 array"))?;
        let bytes = self
            .data
            .get(e.offset..e.offset.saturating_add(len))
            .ok_or(Error::Truncated("rpm int32 array"))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub fn int32(&self, tag: i32) -> Result<Option<i32>, Error> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.count == 0 {
            return Err(Error::Malformed(format!("rpm tag {tag} is empty")));
        }
        Ok(self.int32_array(tag)?.into_iter().next())
    }

    /// Installed file paths: DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or the old
    /// OLDFILENAMES list. The joined paths may not exceed [`MAX_FILES_FACTOR`] times the
    /// header's size (a short header naming one long directory a million times would
    /// otherwise expand without bound).
    pub fn files(&self) -> Result<Vec<String>, Error> {
        let base = self.string_array(TAG_BASENAMES)?;
        if base.is_empty() {
            return Ok(self
                .string_array(TAG_OLDFILENAMES)?
                .into_iter()
                .map(str::to_owned)
                .collect());
        }
        if base.len() > MAX_FILES {
            return Err(Error::Malformed(format!(
                "rpm header lists {} files",
                base.len()
            )));
        }
        let dirs = self.string_array(TAG_DIRNAMES)?;
        let idx = self.int32_array(TAG_DIRINDEXES)?;
        if idx.len() != base.len() {
            return Err(Error::Malformed(format!(
                "rpm header has {} base names but {} dir indexes",
                base.len(),
                idx.len()
            )));
        }
        let budget = MAX_FILES_FACTOR * (self.data.len() + 16 * self.entries.len()) + 4096;
        let mut used = 0usize;
        base.iter()
            .zip(idx)
            .map(|(b, i)| {
                let dir = usize::try_from(i)
                    .ok()
                    .and_then(|i| dirs.get(i))
                    .ok_or_else(|| Error::Malformed(format!("rpm dir index {i} out of range")))?;
                used += dir.len() + b.len();
                if used > budget {
                    return Err(Error::Malformed(
                        "rpm file list expands past its bound".into(),
                    ));
                }
                Ok(format!("{dir}{b}"))
            })
            .collect()
    }
}

/// The installed file paths a header blob lists (see [`Header::files`]).
pub fn installed_files(blob: &[u8]) -> Result<Vec<String>, Error> {
    Header::parse(blob)?.files()
}

/// Parses one header blob into the fields a scanner needs.
pub fn package(blob: &[u8]) -> Result<RpmPackage, Error> {
    let h = Header::parse(blob)?;
    let required = |tag: i32, what: &'static str| -> Result<String, Error> {
        h.string(tag)?
            .map(str::to_owned)
            .ok_or(Error::Malformed(format!("rpm header without {what}")))
    };
    let optional = |tag: i32| -> Result<Option<String>, Error> {
        Ok(h.string(tag)?.filter(|s| !s.is_empty()).map(str::to_owned))
    };
    Ok(RpmPackage {
        name: required(TAG_NAME, "NAME")?,
        epoch: h.int32(TAG_EPOCH)?,
        version: required(TAG_VERSION, "VERSION")?,
        release: required(TAG_RELEASE, "RELEASE")?,
        arch: optional(TAG_ARCH)?,
        source_rpm: optional(TAG_SOURCERPM)?,
        vendor: optional(TAG_VENDOR)?,
        license: optional(TAG_LICENSE)?,
        modularity_label: optional(TAG_MODULARITYLABEL)?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, count, data) entries.
    pub(crate) fn blob(entries: &[(i32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, count, bytes) in entries {
            if *ty == TYPE_INT32 {
                data.resize(data.len().next_multiple_of(4), 0);
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    pub(crate) fn s(v: &str) -> (u32, u32, Vec<u8>) {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        (TYPE_STRING, 1, b)
    }

    pub(crate) fn minimal(name: &str, version: &str, release: &str) -> Vec<u8> {
        let e = |tag: i32, (ty, c, b): (u32, u32, Vec<u8>)| (tag, ty, c, b);
        blob(&[
            e(TAG_NAME, s(name)),
            e(TAG_VERSION, s(version)),
            e(TAG_RELEASE, s(release)),
            (TAG_EPOCH, TYPE_INT32, 1, 7i32.to_be_bytes().to_vec()),
            e(TAG_ARCH, s("x86_64")),
            e(
                TAG_SOURCERPM,
                s(&format!("{name}-{version}-{release}.src.rpm")),
            ),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, 2, b"a\0b\0".to_vec()),
            (
                TAG_DIRNAMES,
                TYPE_STRING_ARRAY,
                2,
                b"/usr/\0/etc/\0".to_vec(),
            ),
            (
                TAG_DIRINDEXES,
                TYPE_INT32,
                2,
                [0u8, 0, 0, 1, 0, 0, 0, 0].to_vec(),
            ),
        ])
    }

    #[test]
    fn rpm_header_parses_a_constructed_blob() {
        let p = package(&minimal("zlib", "1.2.11", "3.el9")).unwrap();
        assert_eq!(p.name, "zlib");
        assert_eq!(p.epoch, Some(7));
        assert_eq!(p.evr(), "7:1.2.11-3.el9");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            installed_files(&minimal("zlib", "1.2.11", "3.el9")).unwrap(),
            vec!["/etc/a", "/usr/b"]
        );
        assert_eq!(
            p.source(),
            Some(("zlib".to_owned(), "1.2.11".to_owned(), "3.el9".to_owned()))
        );
    }

    #[test]
    fn rpm_header_hostile_blobs_are_errors() {
        let good = minimal("zlib", "1.2.11", "3.el9");
        // Every truncation.
        for n in 0..good.len() {
            assert!(package(&good[..n]).is_err(), "truncated at {n}");
        }
        // Huge counts and offsets.
        let mut huge_il = good.clone();
        huge_il[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(package(&huge_il).is_err());
        let mut huge_dl = good.clone();
        huge_dl[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(package(&huge_dl).is_err());
        for field in [8usize, 12] {
            for entry in 0..9 {
                let mut bad = good.clone();
                let at = 8 + entry * 16 + field;
                bad[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
                let _ = package(&bad); // must not panic
            }
        }
        // Bit flips anywhere never panic.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            let _ = package(&bad);
        }
    }
}
