//! rpm's Berkeley DB backend (`Packages`): a BDB hash database (magic `0x061561`).
//!
//! Page 0 is the hash metadata page (page size, last page number, byte order). Hash pages
//! (type 13, or 2 for the unsorted pages of old releases) hold key/data item pairs; the data
//! item of a package is an off-page reference (`H_OFFPAGE`, type 3: first overflow page and
//! total length) to a chain of overflow pages (type 7) that together hold the header blob.
//! As in go-rpmdb, only off-page items are read: headers never fit inline, and the one
//! inline record rpm keeps (key 0, the next instance number) is not a header.
//! Databases written on big-endian machines (s390x) are read in their byte order.

use super::{header, Error, RpmPackage};

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const H_OFFPAGE: u8 = 3;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
/// A header blob is at most rpm's header size limit.
const MAX_ITEM: usize = 0x1000_0000 + 8 + 16 * 0xffff;

/// Whether `db` starts with a BDB hash metadata page, in either byte order.
pub fn is_bdb(db: &[u8]) -> bool {
    matches!(db.get(12..16), Some(m) if
        u32::from_le_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC
        || u32::from_be_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC)
}

struct Db<'a> {
    bytes: &'a [u8],
    big_endian: bool,
    page_size: usize,
    pages: usize,
    /// Overflow pages read so far: each belongs to one item in a sound file, so more reads
    /// than pages mean items share chains (quadratic work), which is refused.
    overflow_reads: std::cell::Cell<usize>,
}

impl<'a> Db<'a> {
    fn u16(&self, b: &[u8], at: usize) -> Result<usize, Error> {
        let s = b.get(at..at + 2).ok_or(Error::Truncated("BDB page"))?;
        let a = [s[0], s[1]];
        Ok(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        } as usize)
    }

    fn u32(&self, b: &[u8], at: usize) -> Result<u32, Error> {
        let s = b.get(at..at + 4).ok_or(Error::Truncated("BDB page"))?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn page(&self, no: u32) -> Result<&'a [u8], Error> {
        let no = no as usize;
        if no >= self.pages {
            return Err(Error::Malformed(format!(
                "BDB page {no} outside {} pages",
                self.pages
            )));
        }
        Ok(&self.bytes[no * self.page_size..(no + 1) * self.page_size])
    }

    fn open(bytes: &'a [u8]) -> Result<Self, Error> {
        let m = bytes.get(12..16).ok_or(Error::Magic("Berkeley DB"))?;
        let big_endian = if u32::from_le_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC {
            false
        } else if u32::from_be_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC {
            true
        } else {
            return Err(Error::Magic("Berkeley DB hash"));
        };
        let mut db = Db {
            bytes,
            big_endian,
            page_size: 0,
            pages: 0,
            overflow_reads: std::cell::Cell::new(0),
        };
        let page_size = db.u32(bytes, 20)? as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(Error::Malformed(format!("BDB page size {page_size}")));
        }
        let encrypted = *bytes.get(24).ok_or(Error::Truncated("BDB meta page"))?;
        if encrypted != 0 {
            return Err(Error::Malformed("encrypted Berkeley DB".into()));
        }
        let kind = *bytes.get(25).ok_or(Error::Truncated("BDB meta page"))?;
        if kind != P_HASHMETA {
            return Err(Error::Malformed(format!("BDB meta page of type {kind}")));
        }
        let last = db.u32(bytes, 32)? as usize;
        db.page_size = page_size;
        db.pages = (bytes.len() / page_size).min(last.saturating_add(1));
        if db.pages == 0 {
            return Err(Error::Truncated("BDB meta page"));
        }
        Ok(db)
    }

    /// Concatenates the overflow chain starting at `first`, expecting `len` bytes.
    fn overflow(&self, first: u32, len: usize) -> Result<Vec<u8>, Error> {
        if len > MAX_ITEM || len > self.bytes.len() {
            return Err(Error::Malformed(format!("BDB item of {len} bytes")));
        }
        let mut out = Vec::with_capacity(len);
        let mut next = first;
        let mut hops = 0usize;
        while next != 0 {
            hops += 1;
            self.overflow_reads.set(self.overflow_reads.get() + 1);
            if hops > self.pages || self.overflow_reads.get() > self.pages {
                return Err(Error::Malformed(
                    "BDB overflow chain loops or is shared".into(),
                ));
            }
            let page = self.page(next)?;
            if page[25] != P_OVERFLOW {
                return Err(Error::Malformed(format!(
                    "BDB page {next} of type {} in an overflow chain",
                    page[25]
                )));
            }
            // On overflow pages `hf_offset` is the number of bytes on the page.
            let n = self.u16(page, 22)?;
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER + n)
                .ok_or(Error::Truncated("BDB overflow page"))?;
            if out.len() + chunk.len() > len {
                return Err(Error::Malformed(
                    "BDB overflow chain longer than its item".into(),
                ));
            }
            out.extend_from_slice(chunk);
            next = self.u32(page, 16)?;
        }
        if out.len() != len {
            return Err(Error::Truncated("BDB overflow chain"));
        }
        Ok(out)
    }
}

/// The header blobs stored in the hash database.
pub fn blobs(db: &[u8], mut f: impl FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
    let db = Db::open(db)?;
    for no in 1..db.pages {
        let page = db.page(no as u32)?;
        let kind = page[25];
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16(page, 20)?;
        if entries & 1 != 0 {
            return Err(Error::Malformed(format!(
                "BDB hash page {no} has an odd number of items"
            )));
        }
        // Item offsets follow the header: key, data, key, data, ...
        for i in (1..entries).step_by(2) {
            let off = db.u16(page, PAGE_HEADER + 2 * i)?;
            if page.get(off) != Some(&H_OFFPAGE) {
                continue;
            }
            let item = page
                .get(off..off + 12)
                .ok_or(Error::Truncated("BDB hash item"))?;
            let first = db.u32(item, 4)?;
            let len = db.u32(item, 8)? as usize;
            f(&db.overflow(first, len)?)?;
        }
    }
    Ok(())
}

/// Every package in a Berkeley DB `Packages`.
pub fn packages(db: &[u8]) -> Result<Vec<RpmPackage>, Error> {
    let mut out = Vec::new();
    blobs(db, |blob| {
        out.push(header::package(blob)?);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, fixture_text, go_string_list};
    use super::*;

    #[test]
    fn rpm_bdb_libuuid_matches_go_rpmdb() {
        let db = fixture("libuuid-bdb/Packages");
        let pkgs = packages(&db).unwrap();
        assert_eq!(pkgs.len(), 1);
        let p = &pkgs[0];
        assert_eq!(p.name, "libuuid");
        assert_eq!(p.epoch, None);
        assert_eq!(p.version, "2.32.1");
        assert_eq!(p.release, "42.el8_8");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            p.source_rpm.as_deref(),
            Some("util-linux-2.32.1-42.el8_8.src.rpm")
        );
        assert_eq!(p.source().unwrap().0, "util-linux");
        // go-rpmdb's expected installed files for this database.
        let text = fixture_text("go-rpmdb-expected-testcases.go.txt");
        let mut files = Vec::new();
        blobs(&db, |blob| {
            files = header::installed_files(blob)?;
            Ok(())
        })
        .unwrap();
        assert_eq!(files, go_string_list(&text, "LibuuidInstalledFileNames"));
    }

    #[test]
    fn rpm_bdb_big_endian_is_read_in_its_byte_order() {
        // Re-encode the fixture's integers big-endian as an s390x rpm would write them.
        let le = fixture("libuuid-bdb/Packages");
        let db = Db::open(&le).unwrap();
        let ps = db.page_size;
        let mut be = le.clone();
        let swap16 = |b: &mut [u8], at: usize| b.swap(at, at + 1);
        let swap32 = |b: &mut [u8], at: usize| {
            b.swap(at, at + 3);
            b.swap(at + 1, at + 2);
        };
        for at in [12usize, 20, 32] {
            swap32(&mut be, at);
        }
        for no in 1..db.pages {
            let base = no * ps;
            let kind = le[base + 25];
            swap32(&mut be, base + 16);
            swap16(&mut be, base + 20);
            swap16(&mut be, base + 22);
            if kind == P_HASH || kind == P_HASH_UNSORTED {
                let n = u16::from_le_bytes([le[base + 20], le[base + 21]]) as usize;
                for i in 0..n {
                    let at = base + PAGE_HEADER + 2 * i;
                    let off = u16::from_le_bytes([le[at], le[at + 1]]) as usize;
                    swap16(&mut be, at);
                    if i & 1 == 1 && le[base + off] == H_OFFPAGE {
                        swap32(&mut be, base + off + 4);
                        swap32(&mut be, base + off + 8);
                    }
                }
            }
        }
        assert!(is_bdb(&be));
        assert_eq!(packages(&be).unwrap(), packages(&le).unwrap());
    }

    #[test]
    fn rpm_bdb_hostile_inputs_are_errors() {
        let good = fixture("libuuid-bdb/Packages");
        assert!(matches!(packages(&[0u8; 64]), Err(Error::Magic(_))));
        assert!(packages(&good[..16]).is_err());
        // Bad page sizes, encryption, meta page type.
        let edits: [(usize, &[u8]); 4] = [
            (20, &[0, 0, 0, 0]),
            (20, &[0, 0xff, 0, 0]),
            (24, &[1]),
            (25, &[P_HASH]),
        ];
        for (at, bytes) in edits {
            let mut bad = good.clone();
            bad[at..at + bytes.len()].copy_from_slice(bytes);
            assert!(packages(&bad).is_err(), "bytes at {at} = {bytes:?}");
        }
        // A huge last-page number is bounded by the file's length.
        let mut bad = good.clone();
        bad[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(packages(&bad).unwrap().len(), 1);
        // Truncations and garbling anywhere never panic.
        for n in (0..good.len()).step_by(509) {
            let _ = packages(&good[..n]);
        }
        for i in 26..good.len().min(4096 * 3) {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            let _ = packages(&bad);
        }
    }

    #[test]
    fn rpm_bdb_overflow_loops_are_errors() {
        let good = fixture("libuuid-bdb/Packages");
        let db = Db::open(&good).unwrap();
        // Point every overflow page's `next` at itself.
        let mut bad = good.clone();
        for no in 1..db.pages {
            let base = no * db.page_size;
            if good[base + 25] == P_OVERFLOW {
                bad[base + 16..base + 20].copy_from_slice(&(no as u32).to_le_bytes());
                bad[base + 22..base + 24].copy_from_slice(&1u16.to_le_bytes());
            }
        }
        assert!(packages(&bad).is_err());
    }
}
