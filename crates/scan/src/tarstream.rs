//! A bounded tar reader: headers are parsed with the `tar` crate's `Header`, but the loop —
//! GNU long names, PAX records, sparse extension blocks, data skipping — is ours, so every
//! metadata record is capped before it is read into memory and a PAX `size` is honoured.

use std::io::{self, Read};

/// An entry's type, as far as the scanner cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawKind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Character and block devices, FIFOs.
    Special,
    /// A type byte the scanner does not know (GNU volume labels, multi-volume parts, …).
    Unknown(u8),
}

/// One entry's header, the extension records applied.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    /// As stored (lossy UTF-8), not normalized.
    pub path: String,
    pub kind: RawKind,
    /// Bytes of data that follow the header.
    pub size: u64,
    pub mode: u32,
    pub link: Option<String>,
    /// A GNU or PAX sparse file: the data is a map plus fragments, not the file's bytes.
    pub sparse: bool,
    /// Offset of the data in the (decompressed) stream.
    pub data_pos: u64,
}

#[derive(Debug)]
pub(crate) enum TarError {
    Io(io::Error),
    Truncated,
    Malformed(String),
}

impl From<io::Error> for TarError {
    fn from(e: io::Error) -> TarError {
        TarError::Io(e)
    }
}

const BLOCK: u64 = 512;

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

fn trim_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(trim_nul(b)).into_owned()
}

/// What a PAX extended header says about the next entry.
#[derive(Debug, Default)]
pub(crate) struct Pax {
    pub path: Option<Vec<u8>>,
    pub linkpath: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub sparse: bool,
}

/// Parses PAX records: `"<len> <key>=<value>\n"`, `len` counting the whole record.
pub(crate) fn parse_pax(data: &[u8]) -> Result<Pax, TarError> {
    let bad = |reason: &str| TarError::Malformed(format!("PAX header: {reason}"));
    let mut pax = Pax::default();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("record without length"))?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad record length"))?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad("bad record length"));
        }
        let record = &rest[space + 1..len - 1];
        rest = &rest[len..];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("record without '='"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => {
                pax.size = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("bad size"))?,
                )
            }
            k if k.starts_with(b"GNU.sparse.") => pax.sparse = true,
            _ => {}
        }
    }
    Ok(pax)
}

/// Reads a tar stream entry by entry.
pub(crate) struct TarStream<R: Read> {
    src: R,
    /// Bytes consumed from `src`.
    pos: u64,
    /// Unread data of the current entry, and the padding after it.
    remaining: u64,
    pad: u64,
    max_metadata: u64,
}

impl<R: Read> TarStream<R> {
    pub fn new(src: R, max_metadata: u64) -> TarStream<R> {
        TarStream {
            src,
            pos: 0,
            remaining: 0,
            pad: 0,
            max_metadata,
        }
    }

    /// Reads a 512-byte block; false at a clean end of stream.
    fn block(&mut self, buf: &mut [u8; 512]) -> Result<bool, TarError> {
        let mut n = 0;
        while n < buf.len() {
            match self.src.read(&mut buf[n..]) {
                Ok(0) if n == 0 => return Ok(false),
                Ok(0) => return Err(TarError::Truncated),
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Io(e)),
            }
        }
        self.pos += BLOCK;
        Ok(true)
    }

    fn skip(&mut self, n: u64) -> Result<(), TarError> {
        let copied = io::copy(&mut (&mut self.src).take(n), &mut io::sink())?;
        self.pos += copied;
        if copied < n {
            return Err(TarError::Truncated);
        }
        Ok(())
    }

    fn read_vec(&mut self, n: u64) -> Result<Vec<u8>, TarError> {
        let mut v = Vec::with_capacity(n.min(8 << 20) as usize);
        (&mut self.src).take(n).read_to_end(&mut v)?;
        self.pos += v.len() as u64;
        if (v.len() as u64) < n {
            return Err(TarError::Truncated);
        }
        Ok(v)
    }

    /// A metadata record (long name, PAX header) of `size` bytes, bounded.
    fn metadata(&mut self, size: u64) -> Result<Vec<u8>, TarError> {
        if size > self.max_metadata {
            return Err(TarError::Malformed(format!(
                "metadata record of {size} bytes exceeds the limit of {} bytes",
                self.max_metadata
            )));
        }
        let v = self.read_vec(size)?;
        self.skip(padding(size))?;
        Ok(v)
    }

    /// The next entry, skipping what is left of the current one's data. `None` at the end of
    /// the archive (a zero block, or the end of the stream on a block boundary — accepted, as
    /// GNU tar and Go's archive/tar accept it).
    pub fn next_entry(&mut self) -> Result<Option<RawEntry>, TarError> {
        let rest = self.remaining.saturating_add(self.pad);
        self.remaining = 0;
        self.pad = 0;
        self.skip(rest)?;
        let mut buf = [0u8; 512];
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Pax> = None;
        loop {
            if !self.block(&mut buf)? {
                return Ok(None);
            }
            if buf.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&buf);
            let stored = header
                .cksum()
                .map_err(|_| TarError::Malformed("bad header checksum field".into()))?;
            let computed = buf[..148]
                .iter()
                .chain(&buf[156..])
                .fold(8 * 32u32, |a, &b| a + u32::from(b));
            if stored != computed {
                return Err(TarError::Malformed(
                    "header checksum mismatch (not a tar archive?)".into(),
                ));
            }
            let etype = header.entry_type();
            let mut size = header
                .entry_size()
                .map_err(|e| TarError::Malformed(format!("bad size field: {e}")))?;
            if etype.is_gnu_longname() {
                long_name = Some(self.metadata(size)?);
                continue;
            }
            if etype.is_gnu_longlink() {
                long_link = Some(self.metadata(size)?);
                continue;
            }
            if etype.is_pax_local_extensions() {
                let data = self.metadata(size)?;
                pax = Some(parse_pax(&data)?);
                continue;
            }
            if etype.is_pax_global_extensions() {
                self.metadata(size)?;
                continue;
            }
            let pax = pax.take().unwrap_or_default();
            if let Some(s) = pax.size {
                size = s;
            }
            let path = match pax.path.or(long_name.take()) {
                Some(p) => lossy(&p),
                None => lossy(&header.path_bytes()),
            };
            let link = match pax.linkpath.or(long_link.take()) {
                Some(l) => Some(lossy(&l)),
                None => header.link_name_bytes().map(|l| lossy(&l)),
            };
            let mode = header.mode().unwrap_or(0o644) & 0o7777;
            let mut sparse = pax.sparse;
            if etype.is_gnu_sparse() {
                sparse = true;
                // Old GNU sparse: extension blocks may follow the header.
                let mut extended = header.as_gnu().is_some_and(|g| g.is_extended());
                while extended {
                    if !self.block(&mut buf)? {
                        return Err(TarError::Truncated);
                    }
                    extended = buf[504] != 0;
                }
            }
            let kind = if etype.is_dir() || (etype.is_file() && path.ends_with('/')) {
                RawKind::Dir
            } else if etype.is_file() || etype.is_contiguous() || etype.is_gnu_sparse() {
                RawKind::File
            } else if etype.is_symlink() {
                RawKind::Symlink
            } else if etype.is_hard_link() {
                RawKind::HardLink
            } else if etype.is_character_special() || etype.is_block_special() || etype.is_fifo() {
                RawKind::Special
            } else {
                RawKind::Unknown(etype.as_byte())
            };
            self.remaining = size;
            self.pad = padding(size);
            return Ok(Some(RawEntry {
                path,
                kind,
                size,
                mode,
                link,
                sparse,
                data_pos: self.pos,
            }));
        }
    }

    /// The rest of the current entry's data (at most its size; the caller bounds the size).
    pub fn read_data(&mut self) -> Result<Vec<u8>, TarError> {
        let n = self.remaining;
        let v = self.read_vec(n)?;
        self.remaining = 0;
        Ok(v)
    }

    /// Reads everything after the end of the archive (padding, a compressed stream's trailer)
    /// so that a corrupt or truncated stream is noticed.
    pub fn drain(&mut self) -> Result<(), TarError> {
        self.pos += io::copy(&mut self.src, &mut io::sink())?;
        Ok(())
    }

    /// The current entry's data as a reader, consuming the stream.
    pub fn into_data(self) -> io::Take<R> {
        self.src.take(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records() {
        let data = b"30 path=a/very/long/name/here\n17 size=12345678\n20 linkpath=tgt/x/y\n";
        let pax = parse_pax(data).unwrap();
        assert_eq!(pax.path.as_deref(), Some(&b"a/very/long/name/here"[..]));
        assert_eq!(pax.size, Some(12345678));
        assert_eq!(pax.linkpath.as_deref(), Some(&b"tgt/x/y"[..]));
        assert!(parse_pax(b"99 path=x\n").is_err());
        assert!(parse_pax(b"garbage").is_err());
    }

    #[test]
    fn entries_long_names_and_offsets() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("{}/file", "d".repeat(300));
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o755);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "l", "target").unwrap();
        let bytes = b.into_inner().unwrap();
        let mut ts = TarStream::new(&bytes[..], 1 << 20);
        let e = ts.next_entry().unwrap().unwrap();
        assert_eq!(
            (e.path.as_str(), e.kind, e.size, e.mode),
            (long.as_str(), RawKind::File, 3, 0o755)
        );
        assert_eq!(&bytes[e.data_pos as usize..e.data_pos as usize + 3], b"abc");
        let e = ts.next_entry().unwrap().unwrap();
        assert_eq!(
            (e.kind, e.link.as_deref()),
            (RawKind::Symlink, Some("target"))
        );
        assert!(ts.next_entry().unwrap().is_none());
        // A long-name record over the cap is refused before it is read.
        let mut ts = TarStream::new(&bytes[..], 100);
        assert!(matches!(ts.next_entry(), Err(TarError::Malformed(_))));
    }
}
