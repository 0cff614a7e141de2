//! Just enough ELF to find a named section and to read bytes at a virtual address
//! (32/64-bit, either byte order). Every header field is bounds-checked against the file.

/// ELF files start with this.
pub const MAGIC: &[u8] = b"\x7fELF";

/// More section or program headers than this is not a real binary.
const MAX_HEADERS: usize = 1 << 16;

const SHT_NOBITS: u32 = 8;
const PT_LOAD: u32 = 1;

#[derive(Debug, Clone, Copy)]
pub struct Section {
    name: u32,
    kind: u32,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    flags: u32,
}

pub struct Elf<'a> {
    data: &'a [u8],
    pub is64: bool,
    pub big_endian: bool,
    sections: Vec<Section>,
    shstr: Option<(usize, usize)>,
    segments: Vec<Segment>,
}

impl<'a> Elf<'a> {
    /// `None` unless `data` is a well-formed enough ELF file.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        if !data.starts_with(MAGIC) {
            return None;
        }
        let is64 = match data.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big_endian = match data.get(5)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let mut elf = Elf {
            data,
            is64,
            big_endian,
            sections: Vec::new(),
            shstr: None,
            segments: Vec::new(),
        };
        let (phoff, shoff, rest) = if is64 {
            (elf.u64(0x20)?, elf.u64(0x28)?, 0x34)
        } else {
            (elf.u32(0x1c)? as u64, elf.u32(0x20)? as u64, 0x28)
        };
        let phentsize = elf.u16(rest + 2)? as usize;
        let phnum = elf.u16(rest + 4)? as usize;
        let shentsize = elf.u16(rest + 6)? as usize;
        let shnum = elf.u16(rest + 8)? as usize;
        let shstrndx = elf.u16(rest + 10)? as usize;

        let min_ph = if is64 { 0x38 } else { 0x20 };
        if phoff != 0 && phnum > 0 && phnum <= MAX_HEADERS && phentsize >= min_ph {
            for i in 0..phnum {
                let at = usize::try_from(phoff).ok()?.checked_add(i * phentsize)?;
                let Some(seg) = elf.segment(at) else { break };
                elf.segments.push(seg);
            }
        }
        let min_sh = if is64 { 0x40 } else { 0x28 };
        if shoff != 0 && shnum > 0 && shnum <= MAX_HEADERS && shentsize >= min_sh {
            for i in 0..shnum {
                let at = usize::try_from(shoff).ok()?.checked_add(i * shentsize)?;
                let Some(sec) = elf.section(at) else { break };
                elf.sections.push(sec);
            }
            if let Some(s) = elf.sections.get(shstrndx) {
                let (o, n) = (usize::try_from(s.offset).ok(), usize::try_from(s.size).ok());
                if let (Some(o), Some(n)) = (o, n) {
                    if o.checked_add(n).is_some_and(|end| end <= data.len()) {
                        elf.shstr = Some((o, n));
                    }
                }
            }
        }
        Some(elf)
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.data.get(at..at.checked_add(2)?)?;
        let a = [b[0], b[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.data.get(at..at.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u64(&self, at: usize) -> Option<u64> {
        let b = self.data.get(at..at.checked_add(8)?)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }

    /// An address-sized word at `at`.
    pub fn word(&self, at: usize) -> Option<u64> {
        if self.is64 {
            self.u64(at)
        } else {
            self.u32(at).map(u64::from)
        }
    }

    fn segment(&self, at: usize) -> Option<Segment> {
        let kind = self.u32(at)?;
        if kind != PT_LOAD {
            return Some(Segment {
                vaddr: 0,
                offset: 0,
                filesz: 0,
                flags: 0,
            });
        }
        Some(if self.is64 {
            Segment {
                flags: self.u32(at + 4)?,
                offset: self.u64(at + 8)?,
                vaddr: self.u64(at + 16)?,
                filesz: self.u64(at + 32)?,
            }
        } else {
            Segment {
                offset: self.u32(at + 4)? as u64,
                vaddr: self.u32(at + 8)? as u64,
                filesz: self.u32(at + 16)? as u64,
                flags: self.u32(at + 24)?,
            }
        })
    }

    fn section(&self, at: usize) -> Option<Section> {
        Some(if self.is64 {
            Section {
                name: self.u32(at)?,
                kind: self.u32(at + 4)?,
                addr: self.u64(at + 16)?,
                offset: self.u64(at + 24)?,
                size: self.u64(at + 32)?,
            }
        } else {
            Section {
                name: self.u32(at)?,
                kind: self.u32(at + 4)?,
                addr: self.u32(at + 12)? as u64,
                offset: self.u32(at + 16)? as u64,
                size: self.u32(at + 20)? as u64,
            }
        })
    }

    fn section_name(&self, s: &Section) -> Option<&'a [u8]> {
        let (o, n) = self.shstr?;
        let table = &self.data[o..o + n];
        let rest = table.get(s.name as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    /// The section called `name`.
    pub fn section_header(&self, name: &str) -> Option<Section> {
        self.sections
            .iter()
            .find(|s| self.section_name(s) == Some(name.as_bytes()))
            .copied()
    }

    /// The file bytes of section `name` (`None` if absent, empty in the file, or out of
    /// bounds).
    pub fn section_data(&self, name: &str) -> Option<&'a [u8]> {
        let s = self.section_header(name)?;
        if s.kind == SHT_NOBITS {
            return None;
        }
        self.file_range(s.offset, s.size)
    }

    fn file_range(&self, offset: u64, len: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.data.get(start..end)
    }

    /// `len` bytes at virtual address `addr`, from the loadable segment (or, without
    /// program headers, the section) that contains them.
    pub fn read_vaddr(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let end = addr.checked_add(len)?;
        for s in &self.segments {
            if s.filesz > 0 && addr >= s.vaddr && end <= s.vaddr.saturating_add(s.filesz) {
                return self.file_range(s.offset.checked_add(addr - s.vaddr)?, len);
            }
        }
        for s in &self.sections {
            if s.kind != SHT_NOBITS
                && s.size > 0
                && addr >= s.addr
                && end <= s.addr.saturating_add(s.size)
            {
                return self.file_range(s.offset.checked_add(addr - s.addr)?, len);
            }
        }
        None
    }

    /// The file bytes of the first loadable segment that is writable and not executable
    /// (where the Go linker puts build info; used when section headers are stripped).
    pub fn first_data_segment(&self) -> Option<&'a [u8]> {
        const PF_X: u32 = 1;
        const PF_W: u32 = 2;
        let s = self
            .segments
            .iter()
            .find(|s| s.filesz > 0 && s.flags & (PF_X | PF_W) == PF_W)?;
        self.file_range(s.offset, s.filesz)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 64-bit little-endian ELF file with the given sections (and `.shstrtab`), no
    /// program headers.
    pub(crate) fn build(sections: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(MAGIC);
        out[4] = 2; // 64-bit
        out[5] = 1; // little-endian
        out[6] = 1; // version
        out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        let mut names = vec![0u8];
        let mut headers: Vec<(u32, u32, u64, u64)> = vec![(0, 0, 0, 0)];
        for (name, data) in sections {
            let name_at = names.len() as u32;
            names.extend_from_slice(name.as_bytes());
            names.push(0);
            headers.push((name_at, 1, out.len() as u64, data.len() as u64));
            out.extend_from_slice(data);
        }
        let shstr_name = names.len() as u32;
        names.extend_from_slice(b".shstrtab\0");
        headers.push((shstr_name, 3, out.len() as u64, names.len() as u64));
        out.extend_from_slice(&names);
        out.resize(out.len().next_multiple_of(8), 0);
        let shoff = out.len() as u64;
        for (name, kind, offset, size) in &headers {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[24..32].copy_from_slice(&offset.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&h);
        }
        out[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        out[0x34..0x36].copy_from_slice(&64u16.to_le_bytes()); // ehsize
        out[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes()); // shentsize
        out[0x3c..0x3e].copy_from_slice(&(headers.len() as u16).to_le_bytes());
        out[0x3e..0x40].copy_from_slice(&((headers.len() - 1) as u16).to_le_bytes());
        out
    }

    #[test]
    fn binaries_elf_finds_sections_by_name() {
        let f = build(&[(".dep-v0", b"payload".to_vec()), (".other", vec![1, 2])]);
        let e = Elf::parse(&f).unwrap();
        assert_eq!(e.section_data(".dep-v0"), Some(&b"payload"[..]));
        assert_eq!(e.section_data(".other"), Some(&[1u8, 2][..]));
        assert_eq!(e.section_data(".go.buildinfo"), None);
    }

    #[test]
    fn binaries_elf_garbage_never_panics() {
        assert!(Elf::parse(b"").is_none());
        assert!(Elf::parse(b"\x7fELF").is_none());
        assert!(Elf::parse(b"\x7fELF\x03\x01").is_none());
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(MAGIC);
        h[4] = 2;
        h[5] = 1;
        // Header tables far outside the file, huge counts.
        h[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        h[0x28..0x30].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        h[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        h[0x38..0x3a].copy_from_slice(&0xffffu16.to_le_bytes());
        h[0x3a..0x3c].copy_from_slice(&0x40u16.to_le_bytes());
        h[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes());
        h[0x3e..0x40].copy_from_slice(&0xfffeu16.to_le_bytes());
        let e = Elf::parse(&h);
        if let Some(e) = e {
            assert!(e.section_data(".go.buildinfo").is_none());
            assert!(e.read_vaddr(u64::MAX - 1, 16).is_none());
        }
    }
}
