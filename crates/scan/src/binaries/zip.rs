//! A small read-only zip reader for Java archives: the central directory (with ZIP64 and
//! archives that carry a prefix, such as launcher scripts in front of executable jars),
//! and entries that are stored or deflated. Every count, size and offset is checked
//! against the archive, and inflating stops at the caller's limit (zip bombs).

use std::borrow::Cow;
use std::io::Read;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a zip archive (no end of central directory)")]
    NotZip,
    #[error("truncated zip {0}")]
    Truncated(&'static str),
    #[error("zip entry {0}: {1}")]
    Entry(String, String),
    #[error("zip entry {0} is larger than {1} bytes")]
    TooLarge(String, u64),
}

const EOCD: &[u8] = b"PK\x05\x06";
const EOCD64_LOCATOR: &[u8] = b"PK\x06\x07";
const EOCD64: &[u8] = b"PK\x06\x06";
const CENTRAL: &[u8] = b"PK\x01\x02";
const LOCAL: &[u8] = b"PK\x03\x04";

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    method: u16,
    flags: u16,
    compressed: u64,
    pub size: u64,
    offset: u64,
}

pub struct Archive<'a> {
    data: &'a [u8],
    /// Bytes in front of the archive proper (offsets in the archive are relative to it).
    base: u64,
    pub entries: Vec<Entry>,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Archive<'a> {
    pub fn open(data: &'a [u8]) -> Result<Self, Error> {
        // The end record is in the last 22 + 65535 (comment) bytes.
        let from = data.len().saturating_sub(22 + 0xffff);
        let eocd = (from..data.len().saturating_sub(21))
            .rev()
            .find(|&i| data[i..].starts_with(EOCD))
            .ok_or(Error::NotZip)?;
        let t = Error::Truncated("end of central directory");
        let mut count = le16(data, eocd + 10).ok_or(t)? as u64;
        let mut cd_size = le32(data, eocd + 12).ok_or(Error::Truncated("eocd"))? as u64;
        let mut cd_offset = le32(data, eocd + 16).ok_or(Error::Truncated("eocd"))? as u64;
        let mut end = eocd as u64;
        if count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
            if let Some(loc) = eocd
                .checked_sub(20)
                .filter(|&l| data[l..].starts_with(EOCD64_LOCATOR))
            {
                let rec = le64(data, loc + 8).ok_or(Error::Truncated("zip64 locator"))?;
                // The record's offset is relative to the archive, which may have a prefix:
                // find it just before the locator instead (it is at least 56 bytes).
                let at = loc
                    .checked_sub(56)
                    .filter(|&a| data[a..].starts_with(EOCD64))
                    .or_else(|| {
                        usize::try_from(rec)
                            .ok()
                            .filter(|&a| data.get(a..).is_some_and(|d| d.starts_with(EOCD64)))
                    })
                    .ok_or(Error::Truncated("zip64 end of central directory"))?;
                count = le64(data, at + 32).ok_or(Error::Truncated("zip64 eocd"))?;
                cd_size = le64(data, at + 40).ok_or(Error::Truncated("zip64 eocd"))?;
                cd_offset = le64(data, at + 48).ok_or(Error::Truncated("zip64 eocd"))?;
                end = at as u64;
            }
        }
        // Where the directory really starts tells how long a prefix there is.
        let cd_start = end
            .checked_sub(cd_size)
            .ok_or(Error::Truncated("central directory"))?;
        let base = cd_start
            .checked_sub(cd_offset)
            .ok_or(Error::Truncated("central directory"))?;
        // Each directory record is at least 46 bytes.
        let count = count.min(cd_size / 46);
        let mut entries = Vec::with_capacity(count as usize);
        let mut at = cd_start as usize;
        let cd_end = end as usize;
        for _ in 0..count {
            let rec = data
                .get(at..cd_end)
                .filter(|r| r.len() >= 46 && r.starts_with(CENTRAL))
                .ok_or(Error::Truncated("central directory record"))?;
            let flags = le16(rec, 8).unwrap_or(0);
            let method = le16(rec, 10).unwrap_or(0);
            let mut compressed = le32(rec, 20).unwrap_or(0) as u64;
            let mut size = le32(rec, 24).unwrap_or(0) as u64;
            let n = le16(rec, 28).unwrap_or(0) as usize;
            let x = le16(rec, 30).unwrap_or(0) as usize;
            let c = le16(rec, 32).unwrap_or(0) as usize;
            let mut offset = le32(rec, 42).unwrap_or(0) as u64;
            let name = rec
                .get(46..46 + n)
                .ok_or(Error::Truncated("central directory name"))?;
            let extra = rec
                .get(46 + n..46 + n + x)
                .ok_or(Error::Truncated("central directory extra"))?;
            // ZIP64 extended information: the 64-bit values of the fields that are
            // saturated, in this order.
            let mut e = 0;
            while e + 4 <= extra.len() {
                let id = le16(extra, e).unwrap_or(0);
                let len = le16(extra, e + 2).unwrap_or(0) as usize;
                let body = extra.get(e + 4..e + 4 + len).unwrap_or(&[]);
                if id == 1 {
                    let mut f = 0;
                    for field in [&mut size, &mut compressed, &mut offset] {
                        if *field == 0xffff_ffff {
                            if let Some(v) = le64(body, f) {
                                *field = v;
                                f += 8;
                            }
                        }
                    }
                }
                e += 4 + len;
            }
            entries.push(Entry {
                name: String::from_utf8_lossy(name).into_owned(),
                method,
                flags,
                compressed,
                size,
                offset,
            });
            at += 46 + n + x + c;
        }
        Ok(Archive {
            data,
            base,
            entries,
        })
    }

    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entry's bytes, refusing more than `limit` uncompressed. Stored entries are
    /// borrowed from the archive.
    pub fn read(&self, e: &Entry, limit: u64) -> Result<Cow<'a, [u8]>, Error> {
        let fail = |why: &str| Error::Entry(e.name.clone(), why.to_owned());
        if e.flags & 1 != 0 {
            return Err(fail("encrypted"));
        }
        if e.size > limit {
            return Err(Error::TooLarge(e.name.clone(), limit));
        }
        let local = self
            .base
            .checked_add(e.offset)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| fail("offset out of range"))?;
        let hdr = self
            .data
            .get(local..local.saturating_add(30))
            .filter(|h| h.starts_with(LOCAL))
            .ok_or_else(|| fail("no local header"))?;
        let n = le16(hdr, 26).unwrap_or(0) as usize;
        let x = le16(hdr, 28).unwrap_or(0) as usize;
        let start = local + 30 + n + x;
        let raw = usize::try_from(e.compressed)
            .ok()
            .and_then(|c| self.data.get(start..start.checked_add(c)?))
            .ok_or_else(|| fail("data past the end of the archive"))?;
        match e.method {
            0 => {
                if raw.len() as u64 > limit {
                    return Err(Error::TooLarge(e.name.clone(), limit));
                }
                Ok(Cow::Borrowed(raw))
            }
            8 => {
                let mut out = Vec::with_capacity(e.size.min(limit).min(1 << 24) as usize);
                flate2::read::DeflateDecoder::new(raw)
                    .take(limit + 1)
                    .read_to_end(&mut out)
                    .map_err(|err| fail(&err.to_string()))?;
                if out.len() as u64 > limit {
                    return Err(Error::TooLarge(e.name.clone(), limit));
                }
                Ok(Cow::Owned(out))
            }
            m => Err(fail(&format!("compression method {m}"))),
        }
    }
}

/// Writes zip archives, for tests that build jars from fixture directories.
#[cfg(test)]
pub(crate) mod write {
    use std::io::Write;

    /// A zip of `(name, bytes)`, deflated where `deflate`.
    pub(crate) fn zip(files: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let (method, body) = if deflate {
                let mut z =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                z.write_all(data).unwrap();
                (8u16, z.finish().unwrap())
            } else {
                (0u16, data.clone())
            };
            let offset = out.len() as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend_from_slice(&20u16.to_le_bytes()); // version needed
                v.extend_from_slice(&0u16.to_le_bytes()); // flags
                v.extend_from_slice(&method.to_le_bytes());
                v.extend_from_slice(&0u32.to_le_bytes()); // time, date
                v.extend_from_slice(&crc.sum().to_le_bytes());
                v.extend_from_slice(&(body.len() as u32).to_le_bytes());
                v.extend_from_slice(&(data.len() as u32).to_le_bytes());
                v.extend_from_slice(&(name.len() as u16).to_le_bytes());
                v.extend_from_slice(&0u16.to_le_bytes()); // extra
            };
            out.extend_from_slice(super::LOCAL);
            common(&mut out);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&body);
            central.extend_from_slice(super::CENTRAL);
            central.extend_from_slice(&20u16.to_le_bytes()); // version made by
            common(&mut central);
            central.extend_from_slice(&[0u8; 6]); // comment len, disk, internal attrs
            central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(super::EOCD);
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::zip;
    use super::*;

    fn sample() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "META-INF/MANIFEST.MF".into(),
                b"Manifest-Version: 1.0\r\n".to_vec(),
            ),
            ("a/b.txt".into(), b"hello hello hello hello".to_vec()),
        ]
    }

    #[test]
    fn binaries_zip_reads_stored_and_deflated_entries() {
        for deflate in [false, true] {
            let z = zip(&sample(), deflate);
            let a = Archive::open(&z).unwrap();
            assert_eq!(a.entries.len(), 2);
            let e = a.find("a/b.txt").unwrap();
            assert_eq!(&*a.read(e, 1024).unwrap(), b"hello hello hello hello");
            assert!(matches!(a.read(e, 4), Err(Error::TooLarge(..))));
        }
        // A launcher script in front of the archive.
        let mut prefixed = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
        prefixed.extend_from_slice(&zip(&sample(), true));
        let a = Archive::open(&prefixed).unwrap();
        let e = a.find("META-INF/MANIFEST.MF").unwrap();
        assert_eq!(&*a.read(e, 1024).unwrap(), b"Manifest-Version: 1.0\r\n");
    }

    #[test]
    fn binaries_zip_hostile_archives_are_errors() {
        assert!(matches!(Archive::open(b""), Err(Error::NotZip)));
        assert!(matches!(
            Archive::open(b"PK\x03\x04 not really"),
            Err(Error::NotZip)
        ));
        let good = zip(&sample(), true);
        // Every truncation and every single-byte corruption: errors, never panics.
        for n in 0..good.len() {
            if let Ok(a) = Archive::open(&good[..n]) {
                for e in &a.entries {
                    let _ = a.read(e, 1 << 20);
                }
            }
        }
        for i in 0..good.len() {
            for v in [0x00, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                if let Ok(a) = Archive::open(&bad) {
                    for e in &a.entries {
                        let _ = a.read(e, 1 << 20);
                    }
                }
            }
        }
        // Huge declared counts and sizes.
        let eocd = good.len() - 22;
        let mut bad = good.clone();
        bad[eocd + 10..eocd + 12].copy_from_slice(&0xfffeu16.to_le_bytes());
        assert_eq!(Archive::open(&bad).map(|a| a.entries.len()).unwrap_or(0), 2);
        let mut bad = good.clone();
        bad[eocd + 12..eocd + 16].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        assert!(Archive::open(&bad).is_err());
        // A deflate bomb stops at the limit.
        let bomb = zip(&[("x".into(), vec![0u8; 8 << 20])], true);
        let a = Archive::open(&bomb).unwrap();
        assert!(matches!(
            a.read(&a.entries[0], 1 << 20),
            Err(Error::TooLarge(..))
        ));
        // Even when the directory lies about the size.
        let mut lying = bomb.clone();
        let cd = lying.len() - 22 - 46 - 1;
        lying[cd + 24..cd + 28].copy_from_slice(&10u32.to_le_bytes());
        let a = Archive::open(&lying).unwrap();
        assert!(matches!(
            a.read(&a.entries[0], 1 << 20),
            Err(Error::TooLarge(..))
        ));
    }
}
