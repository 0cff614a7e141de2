//! rpm's NDB backend (`Packages.db`, SUSE), after rpm's `lib/backend/ndb/rpmpkg.c`.
//!
//! Little-endian throughout. A 32-byte file header (`'RpmP'`, version 0, generation,
//! number of slot pages), then the slot pages (4 KiB each, 16-byte slots; the header takes
//! the first two slots of page 0): `{'Slot', pkgidx, blkoff, blkcnt}`, pkgidx 0 = free.
//! A used slot points at a block (offset in 16-byte units) that starts with a blob header
//! `{'BlbS', pkgidx, checksum, bloblen}` followed by the header blob.

use super::{header, Error, RpmPackage};

pub const MAGIC: &[u8] = b"RpmP";
const SLOT_MAGIC: &[u8] = b"Slot";
const BLOB_MAGIC: &[u8] = b"BlbS";
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
/// go-rpmdb's bound: 2048 pages are 524 286 slots, far more than any real system.
const MAX_SLOT_PAGES: usize = 2048;

fn le32(b: &[u8], at: usize) -> Result<u32, Error> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Error::Truncated("NDB"))
}

/// The header blobs, by package index.
pub fn blobs(db: &[u8], mut f: impl FnMut(u32, &[u8]) -> Result<(), Error>) -> Result<(), Error> {
    if !db.starts_with(MAGIC) {
        return Err(Error::Magic("NDB"));
    }
    let version = le32(db, 4)?;
    let slot_pages = le32(db, 12)? as usize;
    if version != 0 {
        return Err(Error::Malformed(format!("NDB version {version}")));
    }
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(Error::Malformed(format!(
            "NDB with {slot_pages} slot pages"
        )));
    }
    let slots_end = slot_pages * PAGE;
    if db.len() < slots_end {
        return Err(Error::Truncated("NDB slot pages"));
    }
    // A sound file has one slot per block; slots sharing a block would make us parse the
    // same (possibly large) header again and again.
    let mut blocks = std::collections::HashSet::new();
    // Nor do blobs overlap: together they are no longer than the file.
    let mut total = 0usize;
    // Slots 0 and 1 are the file header.
    for at in (2 * SLOT..slots_end).step_by(SLOT) {
        let slot = &db[at..at + SLOT];
        if &slot[..4] != SLOT_MAGIC {
            return Err(Error::Malformed(format!("NDB slot at {at} has bad magic")));
        }
        let pkg = le32(slot, 4)?;
        if pkg == 0 {
            continue;
        }
        let off = (le32(slot, 8)? as usize)
            .checked_mul(BLOCK)
            .ok_or(Error::Truncated("NDB blob"))?;
        if !blocks.insert(off) {
            return Err(Error::Malformed(format!(
                "NDB block at {off} is claimed by two slots"
            )));
        }
        let blob_hdr = db
            .get(off..off.saturating_add(16))
            .ok_or(Error::Truncated("NDB blob header"))?;
        if &blob_hdr[..4] != BLOB_MAGIC {
            return Err(Error::Malformed(format!(
                "NDB blob of package {pkg} has bad magic"
            )));
        }
        if le32(blob_hdr, 4)? != pkg {
            return Err(Error::Malformed(format!(
                "NDB slot for package {pkg} points at another package's blob"
            )));
        }
        let len = le32(blob_hdr, 12)? as usize;
        total = total.saturating_add(len);
        if total > db.len() {
            return Err(Error::Malformed("NDB blobs overlap".into()));
        }
        let blob = db
            .get(off + 16..(off + 16).saturating_add(len))
            .ok_or(Error::Truncated("NDB blob"))?;
        f(pkg, blob)?;
    }
    Ok(())
}

/// Every package in a `Packages.db`.
pub fn packages(db: &[u8]) -> Result<Vec<RpmPackage>, Error> {
    let mut out = Vec::new();
    blobs(db, |_, blob| {
        out.push(header::package(blob)?);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, fixture_text, rows, Row};
    use super::*;

    fn expected_sle15() -> Vec<Row> {
        let mut v: Vec<Row> = fixture_text("sle15-bci/expected-packages.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                // epoch name version release arch sourcerpm size license vendor
                let f: Vec<&str> = l.split('\t').collect();
                (
                    f[1].to_owned(),
                    (!f[0].is_empty()).then(|| f[0].parse().unwrap()),
                    f[2].to_owned(),
                    f[3].to_owned(),
                    f[4].to_owned(),
                    f[5].to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rpm_ndb_sle15_matches_rpm_qa() {
        let pkgs = packages(&fixture("sle15-bci/Packages.db")).unwrap();
        let expected = expected_sle15();
        assert_eq!(expected.len(), 35);
        assert_eq!(rows(&pkgs), expected);
        let glibc = pkgs.iter().find(|p| p.name == "glibc").unwrap();
        assert_eq!(
            glibc.vendor.as_deref(),
            Some("SUSE LLC <https://www.suse.com/>")
        );
        assert_eq!(glibc.evr(), "2.31-9.3.2");
        let pcre = pkgs.iter().find(|p| p.name == "libpcre1").unwrap();
        assert_eq!(pcre.source().unwrap().0, "pcre");
    }

    fn synthetic(slots: &[(u32, u32)], blobs: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut db = vec![0u8; PAGE];
        db[..4].copy_from_slice(MAGIC);
        db[12..16].copy_from_slice(&1u32.to_le_bytes());
        for i in 2..PAGE / SLOT {
            db[i * SLOT..i * SLOT + 4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, (pkg, blk)) in slots.iter().enumerate() {
            let at = (2 + i) * SLOT;
            db[at + 4..at + 8].copy_from_slice(&pkg.to_le_bytes());
            db[at + 8..at + 12].copy_from_slice(&blk.to_le_bytes());
        }
        for (pkg, len, blob) in blobs {
            db.extend_from_slice(BLOB_MAGIC);
            db.extend_from_slice(&pkg.to_le_bytes());
            db.extend_from_slice(&0u32.to_le_bytes());
            db.extend_from_slice(&len.to_le_bytes());
            db.extend_from_slice(blob);
            db.resize(db.len().next_multiple_of(BLOCK), 0);
        }
        db
    }

    #[test]
    fn rpm_ndb_synthetic_roundtrip() {
        let blob = super::super::header::tests::minimal("bash", "5.1", "1");
        let db = synthetic(
            &[(1, (PAGE / BLOCK) as u32)],
            &[(1, blob.len() as u32, blob)],
        );
        let pkgs = packages(&db).unwrap();
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].name, "bash");
    }

    #[test]
    fn rpm_ndb_hostile_inputs_are_errors() {
        let blob = super::super::header::tests::minimal("bash", "5.1", "1");
        let n = blob.len() as u32;
        let at = (PAGE / BLOCK) as u32;
        // Wrong magic, version, page counts.
        assert!(matches!(packages(b"RpmQ"), Err(Error::Magic(_))));
        let mut bad = synthetic(&[], &[]);
        bad[4] = 1;
        assert!(packages(&bad).is_err());
        let mut bad = synthetic(&[], &[]);
        bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(packages(&bad).is_err());
        let mut bad = synthetic(&[], &[]);
        bad[12..16].copy_from_slice(&2u32.to_le_bytes());
        assert!(packages(&bad).is_err(), "slot pages past the end");
        // Slot pointing past the end, at a huge offset, at the wrong package.
        for (slots, blobs) in [
            (vec![(1, at + 100)], vec![(1, n, blob.clone())]),
            (vec![(1, u32::MAX)], vec![(1, n, blob.clone())]),
            (vec![(2, at)], vec![(1, n, blob.clone())]),
            (vec![(1, at)], vec![(1, u32::MAX, blob.clone())]),
            (vec![(1, at)], vec![(1, n, blob[..20].to_vec())]),
            (vec![(1, 0)], vec![]),
            (vec![(1, at), (1, at)], vec![(1, n, blob.clone())]),
        ] {
            assert!(packages(&synthetic(&slots, &blobs)).is_err());
        }
        // A broken slot magic.
        let mut bad = synthetic(&[], &[]);
        bad[2 * SLOT] = b'X';
        assert!(packages(&bad).is_err());
        // Every truncation of the real file and a spread of garbling never panic.
        let good = fixture("sle15-bci/Packages.db");
        for n in (0..good.len()).step_by(4093) {
            let _ = packages(&good[..n]);
        }
        let mut bad = good.clone();
        for i in (0..bad.len()).step_by(211) {
            bad[i] = bad[i].wrapping_add(0x31);
        }
        let _ = packages(&bad);
    }
}
