//! rpm's SQLite backend (`rpmdb.sqlite`): the table `Packages(hnum INTEGER PRIMARY KEY,
//! blob BLOB NOT NULL)` holds one header blob per row.
//!
//! This is a read-only walk of the SQLite file format (<https://sqlite.org/fileformat2.html>),
//! just enough for that table: find its root page in `sqlite_schema` (page 1), walk the
//! table b-tree (interior pages 0x05, leaf pages 0x0D), reassemble payloads that spill to
//! overflow pages, and decode the record. No SQL engine runs on the (untrusted) bytes, and
//! nothing is written to disk. Content still in a `-wal` file beside the database is not
//! seen (rpm checkpoints on close).

use super::{header, Error, RpmPackage};

pub const MAGIC: &[u8] = b"SQLite format 3\0";

/// B-trees deeper than this are corrupt (a 64 KiB-page database would need billions of
/// rows to reach it).
const MAX_DEPTH: usize = 32;

/// What [`Db::walk_table`] calls with each row: (rowid, record payload).
pub type RowFn<'f> = dyn FnMut(i64, &[u8]) -> Result<(), Error> + 'f;

/// A SQLite database image in memory.
pub struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: usize,
    /// Overflow pages read so far: in a sound file each belongs to one cell, so more reads
    /// than pages mean cells share chains (quadratic work), which is refused.
    overflow_reads: std::cell::Cell<usize>,
    /// Payload bytes decoded so far: cells of a sound file don't overlap, so more than the
    /// file's size means they do (quadratic work), which is refused.
    payload_bytes: std::cell::Cell<usize>,
}

fn be16(b: &[u8], at: usize) -> Result<usize, Error> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]) as usize)
        .ok_or(Error::Truncated("sqlite page"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, Error> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Error::Truncated("sqlite page"))
}

/// A SQLite varint at `at`: (value, length).
fn varint(b: &[u8], at: usize) -> Result<(u64, usize), Error> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(at + i).ok_or(Error::Truncated("sqlite varint"))?;
        if i == 8 {
            return Ok(((v << 8) | byte as u64, 9));
        }
        v = (v << 7) | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    unreachable!("the loop returns at i == 8")
}

/// A column value of a record.
#[derive(Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Float,
    Blob(&'a [u8]),
    Text(&'a [u8]),
}

/// Decodes a record (header of serial types, then the body).
pub fn record(payload: &[u8]) -> Result<Vec<Value<'_>>, Error> {
    let (hlen, mut at) = varint(payload, 0)?;
    let hlen = usize::try_from(hlen).map_err(|_| Error::Truncated("sqlite record"))?;
    if hlen > payload.len() || hlen < at {
        return Err(Error::Truncated("sqlite record header"));
    }
    let mut body = hlen;
    let mut out = Vec::new();
    while at < hlen {
        let (ty, n) = varint(payload, at)?;
        at += n;
        let size: u64 = match ty {
            0 | 8 | 9 => 0,
            1 => 1,
            2 => 2,
            3 => 3,
            4 => 4,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(Error::Malformed(format!("sqlite serial type {ty}"))),
            n => (n - 12) / 2,
        };
        let size = usize::try_from(size).map_err(|_| Error::Truncated("sqlite record"))?;
        let end = body
            .checked_add(size)
            .filter(|&e| e <= payload.len())
            .ok_or(Error::Truncated("sqlite record body"))?;
        let raw = &payload[body..end];
        out.push(match ty {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => {
                // Big-endian two's complement of `size` bytes.
                let mut v: i64 = if raw[0] & 0x80 != 0 { -1 } else { 0 };
                for &b in raw {
                    v = (v << 8) | b as i64;
                }
                Value::Int(v)
            }
            7 => Value::Float,
            n if n & 1 == 0 => Value::Blob(raw),
            _ => Value::Text(raw),
        });
        body = end;
    }
    Ok(out)
}

impl<'a> Db<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Self, Error> {
        if !bytes.starts_with(MAGIC) {
            return Err(Error::Magic("SQLite"));
        }
        let raw = be16(bytes, 16)?;
        let page_size = if raw == 1 { 65536 } else { raw };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(Error::Malformed(format!("sqlite page size {raw}")));
        }
        let reserved = *bytes.get(20).ok_or(Error::Truncated("sqlite header"))? as usize;
        let usable = page_size - reserved;
        if usable < 480 {
            return Err(Error::Malformed(format!("sqlite usable size {usable}")));
        }
        let encoding = be32(bytes, 56)?;
        if encoding > 1 {
            return Err(Error::Malformed("sqlite text encoding is not UTF-8".into()));
        }
        Ok(Db {
            bytes,
            page_size,
            usable,
            pages: bytes.len() / page_size,
            overflow_reads: std::cell::Cell::new(0),
            payload_bytes: std::cell::Cell::new(0),
        })
    }

    fn page(&self, no: u32) -> Result<&'a [u8], Error> {
        let no = no as usize;
        if no == 0 || no > self.pages {
            return Err(Error::Malformed(format!(
                "sqlite page {no} outside {} pages",
                self.pages
            )));
        }
        let start = (no - 1) * self.page_size;
        Ok(&self.bytes[start..start + self.usable])
    }

    /// The full payload of a table-leaf cell whose payload size is `size` and whose payload
    /// starts at `at` in `page`.
    fn payload(
        &self,
        page: &'a [u8],
        at: usize,
        size: u64,
    ) -> Result<std::borrow::Cow<'a, [u8]>, Error> {
        // A payload can't be larger than the file holding it.
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= self.bytes.len())
            .ok_or_else(|| Error::Malformed(format!("sqlite payload of {size} bytes")))?;
        let total = self.payload_bytes.get().saturating_add(size);
        if total > self.bytes.len() {
            return Err(Error::Malformed("sqlite cells overlap".into()));
        }
        self.payload_bytes.set(total);
        let u = self.usable;
        let x = u - 35;
        if size <= x {
            let local = page
                .get(at..at + size)
                .ok_or(Error::Truncated("sqlite cell"))?;
            return Ok(std::borrow::Cow::Borrowed(local));
        }
        let m = ((u - 12) * 32 / 255) - 23;
        let k = m + ((size - m) % (u - 4));
        let local_len = if k <= x { k } else { m };
        let local = page
            .get(at..at + local_len)
            .ok_or(Error::Truncated("sqlite cell"))?;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(local);
        let mut next = be32(page, at + local_len)?;
        let mut hops = 0usize;
        while out.len() < size {
            hops += 1;
            self.overflow_reads.set(self.overflow_reads.get() + 1);
            if next == 0 || hops > self.pages || self.overflow_reads.get() > self.pages {
                return Err(Error::Malformed("sqlite overflow chain broken".into()));
            }
            let ov = self.page(next)?;
            next = be32(ov, 0)?;
            let take = (size - out.len()).min(u - 4);
            out.extend_from_slice(&ov[4..4 + take]);
        }
        Ok(std::borrow::Cow::Owned(out))
    }

    /// Calls `f(rowid, payload)` for every row of the table b-tree rooted at `root`.
    pub fn walk_table(&self, root: u32, f: &mut RowFn<'_>) -> Result<(), Error> {
        let mut stack = vec![(root, 0usize)];
        let mut visited = 0usize;
        while let Some((no, depth)) = stack.pop() {
            visited += 1;
            if depth > MAX_DEPTH || visited > self.pages {
                return Err(Error::Malformed(
                    "sqlite b-tree loops or is too deep".into(),
                ));
            }
            let page = self.page(no)?;
            let hdr = if no == 1 { 100 } else { 0 };
            let kind = *page.get(hdr).ok_or(Error::Truncated("sqlite page"))?;
            let cells = be16(page, hdr + 3)?;
            match kind {
                0x05 => {
                    let right = be32(page, hdr + 8)?;
                    // Push right-most last so children are visited in key order.
                    stack.push((right, depth + 1));
                    for i in (0..cells).rev() {
                        let ptr = be16(page, hdr + 12 + 2 * i)?;
                        stack.push((be32(page, ptr)?, depth + 1));
                    }
                }
                0x0D => {
                    for i in 0..cells {
                        let ptr = be16(page, hdr + 8 + 2 * i)?;
                        let (size, n1) = varint(page, ptr)?;
                        let (rowid, n2) = varint(page, ptr + n1)?;
                        let payload = self.payload(page, ptr + n1 + n2, size)?;
                        f(rowid as i64, &payload)?;
                    }
                }
                k => {
                    return Err(Error::Malformed(format!(
                        "sqlite page {no} has type {k:#x}, expected a table b-tree page"
                    )))
                }
            }
        }
        Ok(())
    }

    /// The root page of table `name`, from `sqlite_schema` (page 1).
    pub fn table_root(&self, name: &str) -> Result<Option<u32>, Error> {
        let mut root = None;
        self.walk_table(1, &mut |_, payload| {
            let cols = record(payload)?;
            if let [Value::Text(ty), Value::Text(n), _, Value::Int(page), ..] = cols.as_slice() {
                if *ty == b"table" && n.eq_ignore_ascii_case(name.as_bytes()) {
                    root = u32::try_from(*page).ok();
                }
            }
            Ok(())
        })?;
        Ok(root)
    }
}

/// The header blobs of `Packages`, by `hnum`.
pub fn blobs(db: &[u8], mut f: impl FnMut(i64, &[u8]) -> Result<(), Error>) -> Result<(), Error> {
    let db = Db::open(db)?;
    let root = db
        .table_root("Packages")?
        .ok_or_else(|| Error::Malformed("sqlite rpmdb has no Packages table".into()))?;
    db.walk_table(root, &mut |rowid, payload| {
        let cols = record(payload)?;
        match cols.get(1) {
            Some(Value::Blob(b)) => f(rowid, b),
            _ => Err(Error::Malformed(format!(
                "Packages row {rowid} has no blob column"
            ))),
        }
    })
}

/// Every package in an `rpmdb.sqlite`.
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
    use super::super::tests::{fixture, fixture_text, go_string_list, rows, Row};
    use super::*;

    fn expected_mariner() -> Vec<Row> {
        let mut v: Vec<Row> = fixture_text("cbl-mariner-2.0/rpm-qa-expected.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                // name epochnum version release arch sourcerpm license; `epochnum` prints 0
                // for "no epoch".
                let epoch: i32 = f[1].parse().unwrap();
                (
                    f[0].to_owned(),
                    epoch,
                    f[2].to_owned(),
                    f[3].to_owned(),
                    f[4].to_owned(),
                    f[5].to_owned(),
                )
            })
            .map(|(n, e, v, r, a, s)| (n, Some(e), v, r, a, s))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rpm_sqlite_mariner_matches_rpm_qa() {
        let pkgs = packages(&fixture("cbl-mariner-2.0/rpmdb.sqlite")).unwrap();
        let expected = expected_mariner();
        assert_eq!(expected.len(), 129);
        let got: Vec<Row> = rows(&pkgs)
            .into_iter()
            .map(|(n, e, v, r, a, s)| (n, Some(e.unwrap_or(0)), v, r, a, s))
            .collect();
        assert_eq!(got, expected);
        // And epochs that exist are kept as such.
        let ca = pkgs
            .iter()
            .find(|p| p.name == "ca-certificates-base")
            .unwrap();
        assert_eq!(ca.evr(), "1:2.0.0-1.cm2");
        let bash = pkgs.iter().find(|p| p.name == "bash").unwrap();
        assert_eq!(bash.evr(), "5.1.8-1.cm2");
    }

    #[test]
    fn rpm_sqlite_mariner_curl_files_match_go_rpmdb() {
        let db = fixture("cbl-mariner-2.0/rpmdb.sqlite");
        let mut files = None;
        blobs(&db, |_, blob| {
            if header::package(blob)?.name == "curl" {
                files = Some(header::installed_files(blob)?);
            }
            Ok(())
        })
        .unwrap();
        let text = fixture_text("go-rpmdb-expected-testcases.go.txt");
        let want = go_string_list(&text, "Mariner2CurlInstalledFileNames");
        assert_eq!(files.unwrap(), want);
        // Every header's file list stays well inside the expansion bound.
        blobs(&db, |_, blob| {
            let joined: usize = header::installed_files(blob)?.iter().map(String::len).sum();
            assert!(joined < 3 * blob.len(), "{joined} vs {}", blob.len());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn rpm_sqlite_varints_and_records() {
        assert_eq!(varint(&[0x05], 0).unwrap(), (5, 1));
        assert_eq!(varint(&[0x81, 0x00], 0).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9], 0).unwrap(), (u64::MAX, 9));
        assert!(varint(&[0x81], 0).is_err());
        // header: len 3, types NULL, blob(2); body "hi"
        let rec = [3u8, 0, 16, b'h', b'i'];
        assert_eq!(record(&rec).unwrap(), vec![Value::Null, Value::Blob(b"hi")]);
        // blob claims more than there is
        assert!(record(&[3u8, 0, 200, 1]).is_err());
        assert!(record(&[0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
    }

    #[test]
    fn rpm_sqlite_hostile_inputs_are_errors() {
        let good = fixture("cbl-mariner-2.0/rpmdb.sqlite");
        assert!(matches!(
            packages(b"SQLite format 2\0"),
            Err(Error::Magic(_))
        ));
        assert!(packages(MAGIC).is_err());
        // Truncated anywhere: an error, or (past the last page used) fewer packages.
        for n in [0, 16, 99, 100, 4096, 4097, 8192, 100_000, good.len() / 2] {
            let _ = packages(&good[..n]);
            assert!(packages(&good[..n]).map(|p| p.len() < 129).unwrap_or(true));
        }
        // Page size garbage.
        for ps in [[0u8, 0], [0, 3], [0xff, 0xff], [0x02, 0x01]] {
            let mut bad = good.clone();
            bad[16..18].copy_from_slice(&ps);
            assert!(packages(&bad).is_err());
        }
        // Garble the first pages and a spread of bytes across the file: never a panic.
        let mut bad = good.clone();
        for i in (100..bad.len()).step_by(997) {
            bad[i] ^= 0x5a;
        }
        let _ = packages(&bad);
        for i in 100..4096 {
            let mut bad = good[..16 * 4096].to_vec();
            bad[i] = 0xff;
            let _ = packages(&bad);
        }
    }

    #[test]
    fn rpm_sqlite_pointer_loops_are_errors() {
        // A one-page database whose schema page is an interior page pointing at itself.
        let mut db = vec![0u8; 512];
        db[..16].copy_from_slice(MAGIC);
        db[16..18].copy_from_slice(&512u16.to_be_bytes());
        db[100] = 0x05;
        db[108..112].copy_from_slice(&1u32.to_be_bytes());
        assert!(packages(&db).is_err());
    }
}
