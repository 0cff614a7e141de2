//! A small CBOR (RFC 8949) reader and the one encoding COSE needs (`Sig_structure`).
//!
//! Only definite lengths are read (COSE's deterministic encoding; go-cose, which Notation
//! uses, writes nothing else). Nesting is bounded, and no length is trusted beyond the bytes
//! that remain, so hostile input costs at most its own size.

const MAX_DEPTH: usize = 16;
/// COSE headers and certificate chains are small; bounding them keeps duplicate-key checks
/// and allocations cheap.
const MAX_ITEMS: usize = 1024;
const MAX_ENTRIES: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Uint(u64),
    /// A negative integer: `-1 - n`.
    Nint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Bool(bool),
    Null,
    Undefined,
    Simple(u8),
    Float(f64),
}

impl Value {
    /// An integer that fits an `i64`.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Uint(n) => i64::try_from(*n).ok(),
            Value::Nint(n) => i64::try_from(*n).ok().map(|n| -1 - n),
            _ => None,
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if n > self.remaining() {
            return Err("CBOR item runs past the end".to_string());
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A length that cannot exceed the bytes left, each item taking at least `per_item`.
    fn length(&mut self, arg: u64, per_item: usize) -> Result<usize, String> {
        let len = usize::try_from(arg).map_err(|_| "CBOR length too large".to_string())?;
        if len.saturating_mul(per_item) > self.remaining() {
            return Err("CBOR length runs past the end".to_string());
        }
        Ok(len)
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("CBOR nested too deeply".to_string());
        }
        let initial = self.take(1)?[0];
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => self.uint(1)?,
            25 => self.uint(2)?,
            26 => self.uint(4)?,
            27 => self.uint(8)?,
            31 => return Err("indefinite-length CBOR is not accepted".to_string()),
            _ => return Err("reserved CBOR additional information".to_string()),
        };
        Ok(match major {
            0 => Value::Uint(arg),
            1 => Value::Nint(arg),
            2 => {
                let len = self.length(arg, 1)?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            3 => {
                let len = self.length(arg, 1)?;
                let bytes = self.take(len)?.to_vec();
                Value::Text(String::from_utf8(bytes).map_err(|_| "CBOR text is not UTF-8")?)
            }
            4 => {
                let len = self.length(arg, 1)?;
                if len > MAX_ITEMS {
                    return Err(format!("CBOR array of more than {MAX_ITEMS} items"));
                }
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let len = self.length(arg, 2)?;
                if len > MAX_ENTRIES {
                    return Err(format!("CBOR map of more than {MAX_ENTRIES} entries"));
                }
                let mut entries = Vec::with_capacity(len);
                for _ in 0..len {
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err("CBOR map has a duplicate key".to_string());
                    }
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            6 => Value::Tag(arg, Box::new(self.value(depth + 1)?)),
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                23 => Value::Undefined,
                24 => Value::Simple(arg as u8),
                25 => Value::Float(half_to_f64(arg as u16)),
                26 => Value::Float(f64::from(f32::from_bits(arg as u32))),
                27 => Value::Float(f64::from_bits(arg)),
                _ => Value::Simple(info),
            },
        })
    }
}

fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Decodes exactly one CBOR item filling `data`.
pub(crate) fn decode(data: &[u8]) -> Result<Value, String> {
    let mut reader = Reader { data, pos: 0 };
    let value = reader.value(0)?;
    if reader.remaining() != 0 {
        return Err("bytes after the CBOR item".to_string());
    }
    Ok(value)
}

fn head(out: &mut Vec<u8>, major: u8, len: u64) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=0xff => out.extend([major | 24, len as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((len as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(len.to_be_bytes());
        }
    }
}

fn bytes(out: &mut Vec<u8>, data: &[u8]) {
    head(out, 2, data.len() as u64);
    out.extend_from_slice(data);
}

/// COSE_Sign1's `Sig_structure`: `["Signature1", protected, external_aad = h'', payload]`.
pub(crate) fn sig_structure1(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 32);
    head(&mut out, 4, 4);
    head(&mut out, 3, 10);
    out.extend_from_slice(b"Signature1");
    bytes(&mut out, protected);
    bytes(&mut out, &[]);
    bytes(&mut out, payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc8949_examples() {
        assert_eq!(decode(&[0x00]).unwrap(), Value::Uint(0));
        assert_eq!(decode(&[0x18, 0x64]).unwrap(), Value::Uint(100));
        assert_eq!(decode(&[0x38, 0x63]).unwrap().as_i64(), Some(-100));
        assert_eq!(decode(&[0x26]).unwrap().as_i64(), Some(-7));
        assert_eq!(
            decode(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .unwrap()
                .as_i64(),
            None
        );
        assert_eq!(
            decode(&[0x64, 0x49, 0x45, 0x54, 0x46]).unwrap(),
            Value::Text("IETF".into())
        );
        assert_eq!(
            decode(&[0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05]).unwrap(),
            Value::Array(vec![
                Value::Uint(1),
                Value::Array(vec![Value::Uint(2), Value::Uint(3)]),
                Value::Array(vec![Value::Uint(4), Value::Uint(5)]),
            ])
        );
        assert_eq!(
            decode(&[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0]).unwrap(),
            Value::Tag(1, Box::new(Value::Uint(1_363_896_240)))
        );
        assert_eq!(decode(&[0xf9, 0x3c, 0x00]).unwrap(), Value::Float(1.0));
        assert_eq!(decode(&[0xf6]).unwrap(), Value::Null);
    }

    #[test]
    fn refuses_hostile_cbor() {
        // Huge lengths, truncation, indefinite lengths, deep nesting, duplicates, trailing.
        for bad in [
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x44, 0x01],
            &[0x5f, 0x41, 0x00, 0xff],
            &[0xa2, 0x01, 0x02, 0x01, 0x03],
            &[0x00, 0x00],
            &[0x62, 0xff, 0xfe],
            &[0x1c],
            &[],
        ] {
            assert!(decode(bad).is_err(), "{bad:x?}");
        }
        let deep = vec![0x81; 100];
        assert!(decode(&deep).is_err());
    }

    #[test]
    fn encodes_sig_structure() {
        let s = sig_structure1(&[0xa1, 0x01, 0x26], b"hi");
        assert_eq!(
            decode(&s).unwrap(),
            Value::Array(vec![
                Value::Text("Signature1".into()),
                Value::Bytes(vec![0xa1, 0x01, 0x26]),
                Value::Bytes(vec![]),
                Value::Bytes(b"hi".to_vec()),
            ])
        );
        let big = vec![7u8; 70_000];
        let s = sig_structure1(&[], &big);
        match decode(&s).unwrap() {
            Value::Array(items) => assert_eq!(items[3], Value::Bytes(big)),
            other => panic!("{other:?}"),
        }
    }
}
