//! DEFLATE decoding (RFC 1951: stored, fixed-Huffman and dynamic-Huffman blocks) and CRC-32,
//! for the "deflated" entries of function zips. Small and plain rather than fast: a zip is
//! unpacked once per code version.

/// Why a stream did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid deflate data: {0}")]
pub struct InflateError(&'static str);

/// Base lengths of length codes 257..=285, and their extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance codes 0..=29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/// The order code-length code lengths are sent in (dynamic blocks).
const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const MAX_BITS: usize = 15;

/// Reads bits least-significant first, as DEFLATE packs them.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buffer: u32,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            buffer: 0,
            count: 0,
        }
    }

    /// The next `n` (≤ 16) bits as a number.
    fn take(&mut self, n: u32) -> Result<u32, InflateError> {
        while self.count < n {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(InflateError("unexpected end of data"))?;
            self.pos += 1;
            self.buffer |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let value = self.buffer & ((1u32 << n) - 1);
        self.buffer >>= n;
        self.count -= n;
        Ok(value)
    }

    /// Drops the bits left in the current byte (stored blocks start on a byte boundary).
    fn align(&mut self) {
        self.buffer = 0;
        self.count = 0;
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], InflateError> {
        let end = self.pos.checked_add(n).ok_or(InflateError("length overflow"))?;
        let out = self
            .data
            .get(self.pos..end)
            .ok_or(InflateError("stored block past the end of data"))?;
        self.pos = end;
        Ok(out)
    }
}

/// A canonical Huffman code: how many codes each length has, and the symbols in code order.
struct Huffman {
    counts: [u16; MAX_BITS + 1],
    symbols: Vec<u16>,
}

impl Huffman {
    /// The code whose symbol `i` has `lengths[i]` bits (0: unused). Over-subscribed sets are
    /// refused; incomplete ones are allowed (a single distance code is legal).
    fn new(lengths: &[u8]) -> Result<Huffman, InflateError> {
        let mut counts = [0u16; MAX_BITS + 1];
        for &l in lengths {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let mut left: i32 = 1;
        for &count in counts.iter().skip(1) {
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return Err(InflateError("over-subscribed Huffman code"));
            }
        }
        let mut offsets = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offsets[len + 1] = offsets[len] + counts[len];
        }
        let mut symbols = vec![0u16; usize::from(offsets[MAX_BITS + 1])];
        for (symbol, &l) in lengths.iter().enumerate() {
            if l != 0 {
                let slot = &mut offsets[usize::from(l)];
                symbols[usize::from(*slot)] = u16::try_from(symbol).unwrap_or(u16::MAX);
                *slot += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }

    /// Decodes one symbol, a bit at a time (codes are sent most-significant bit first).
    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, InflateError> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_BITS {
            code |= i32::try_from(bits.take(1)?).unwrap_or(0);
            let count = i32::from(self.counts[len]);
            if code - first < count {
                let at = usize::try_from(index + code - first).map_err(|_| InflateError("bad code"))?;
                return self.symbols.get(at).copied().ok_or(InflateError("bad code"));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(InflateError("code not in the Huffman table"))
    }
}

/// Decodes a raw DEFLATE stream, refusing to produce more than `limit` bytes.
///
/// # Errors
/// Malformed data, or output past `limit`.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut bits = Bits::new(data);
    let mut out = Vec::with_capacity(limit.min(64 * 1024 * 1024));
    loop {
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => stored_block(&mut bits, &mut out, limit)?,
            1 => {
                let (literals, distances) = fixed_codes()?;
                codes(&mut bits, &mut out, limit, &literals, &distances)?;
            }
            2 => {
                let (literals, distances) = dynamic_codes(&mut bits)?;
                codes(&mut bits, &mut out, limit, &literals, &distances)?;
            }
            _ => return Err(InflateError("reserved block type")),
        }
        if last {
            return Ok(out);
        }
    }
}

fn stored_block(bits: &mut Bits<'_>, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
    bits.align();
    let header = bits.bytes(4)?;
    let len = u16::from_le_bytes([header[0], header[1]]);
    let complement = u16::from_le_bytes([header[2], header[3]]);
    if len != !complement {
        return Err(InflateError("stored block length does not match its complement"));
    }
    if out.len() + usize::from(len) > limit {
        return Err(InflateError("output larger than declared"));
    }
    out.extend_from_slice(bits.bytes(usize::from(len))?);
    Ok(())
}

fn fixed_codes() -> Result<(Huffman, Huffman), InflateError> {
    let mut lengths = [0u8; 288];
    for (i, l) in lengths.iter_mut().enumerate() {
        *l = match i {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        };
    }
    Ok((Huffman::new(&lengths)?, Huffman::new(&[5u8; 30])?))
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), InflateError> {
    let literal_count = bits.take(5)? as usize + 257;
    let distance_count = bits.take(5)? as usize + 1;
    let code_length_count = bits.take(4)? as usize + 4;
    if literal_count > 286 || distance_count > 30 {
        return Err(InflateError("too many length or distance codes"));
    }
    let mut code_lengths = [0u8; 19];
    for &i in CODE_LENGTH_ORDER.iter().take(code_length_count) {
        code_lengths[i] = u8::try_from(bits.take(3)?).unwrap_or(0);
    }
    let code_length_code = Huffman::new(&code_lengths)?;
    let mut lengths = vec![0u8; literal_count + distance_count];
    let mut i = 0;
    while i < lengths.len() {
        let symbol = code_length_code.decode(bits)?;
        let (value, repeat) = match symbol {
            0..=15 => (u8::try_from(symbol).unwrap_or(0), 1),
            16 => {
                let previous = *i
                    .checked_sub(1)
                    .and_then(|p| lengths.get(p))
                    .ok_or(InflateError("repeat with no previous length"))?;
                (previous, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            18 => (0, 11 + bits.take(7)? as usize),
            _ => return Err(InflateError("bad code length symbol")),
        };
        if i + repeat > lengths.len() {
            return Err(InflateError("code lengths overflow"));
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err(InflateError("no end-of-block code"));
    }
    Ok((
        Huffman::new(&lengths[..literal_count])?,
        Huffman::new(&lengths[literal_count..])?,
    ))
}

/// Decodes one compressed block's literals and back-references.
fn codes(
    bits: &mut Bits<'_>,
    out: &mut Vec<u8>,
    limit: usize,
    literals: &Huffman,
    distances: &Huffman,
) -> Result<(), InflateError> {
    loop {
        let symbol = literals.decode(bits)?;
        match symbol {
            0..=255 => {
                if out.len() >= limit {
                    return Err(InflateError("output larger than declared"));
                }
                out.push(u8::try_from(symbol).unwrap_or(0));
            }
            256 => return Ok(()),
            _ => {
                let code = usize::from(symbol - 257);
                let (&base, &extra) = LENGTH_BASE
                    .get(code)
                    .zip(LENGTH_EXTRA.get(code))
                    .ok_or(InflateError("bad length code"))?;
                let length = usize::from(base) + bits.take(u32::from(extra))? as usize;
                let code = usize::from(distances.decode(bits)?);
                let (&base, &extra) = DIST_BASE
                    .get(code)
                    .zip(DIST_EXTRA.get(code))
                    .ok_or(InflateError("bad distance code"))?;
                let distance = usize::from(base) + bits.take(u32::from(extra))? as usize;
                if distance > out.len() {
                    return Err(InflateError("distance too far back"));
                }
                if out.len() + length > limit {
                    return Err(InflateError("output larger than declared"));
                }
                // Byte by byte: a copy may overlap what it produces (distance < length).
                let start = out.len() - distance;
                for k in 0..length {
                    let byte = out[start + k];
                    out.push(byte);
                }
            }
        }
    }
}

/// The CRC-32 (IEEE) table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 as zip records it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Streams made by zlib (`compressobj(level, DEFLATED, -15)`).
    const STORED: &[u8] = &[
        1, 19, 0, 236, 255, 104, 101, 108, 108, 111, 44, 32, 115, 116, 111, 114, 101, 100, 32, 119, 111, 114,
        108, 100,
    ];
    const FIXED: &[u8] = &[
        203, 72, 205, 201, 201, 87, 200, 64, 39, 117, 20, 210, 50, 43, 82, 83, 20, 50, 74, 211, 210, 114, 19,
        243, 0,
    ];
    const DYNAMIC: &[u8] = &[
        157, 214, 89, 82, 3, 49, 12, 69, 209, 127, 86, 225, 37, 196, 131, 60, 176, 27, 134, 6, 2, 33, 13,
        129, 48, 173, 158, 130, 126, 90, 192, 245, 119, 234, 149, 101, 235, 72, 157, 195, 254, 184, 132, 221,
        101, 120, 127, 88, 194, 235, 121, 127, 243, 20, 174, 79, 235, 231, 49, 220, 173, 95, 225, 241, 252,
        252, 242, 22, 214, 143, 229, 244, 255, 243, 225, 234, 231, 59, 220, 174, 247, 97, 119, 113, 248, 75,
        69, 150, 138, 91, 42, 177, 84, 217, 82, 153, 165, 198, 150, 42, 176, 194, 186, 197, 140, 197, 146,
        109, 177, 202, 98, 89, 167, 53, 248, 32, 186, 91, 103, 177, 170, 135, 28, 44, 214, 213, 181, 8, 137,
        100, 197, 160, 145, 164, 42, 35, 85, 210, 148, 131, 78, 90, 82, 14, 74, 241, 24, 148, 146, 253, 53,
        33, 149, 234, 231, 65, 43, 67, 50, 35, 196, 146, 189, 125, 80, 75, 211, 102, 72, 80, 75, 212, 253,
        18, 228, 98, 170, 51, 65, 46, 67, 163, 151, 32, 151, 34, 158, 9, 114, 25, 190, 251, 160, 151, 226,
        247, 131, 94, 134, 215, 9, 189, 152, 247, 15, 122, 233, 138, 65, 46, 85, 60, 51, 228, 146, 52, 237,
        25, 114, 233, 170, 51, 67, 46, 230, 31, 33, 200, 37, 137, 117, 134, 92, 186, 86, 124, 134, 92, 170,
        152, 101, 250, 37, 242, 62, 64, 46, 209, 207, 163, 92, 52, 126, 153, 122, 81, 174, 64, 47, 69, 125,
        47, 208, 75, 86, 255, 10, 244, 18, 253, 60, 232, 197, 175, 71, 183, 139, 182, 68, 129, 92, 186, 218,
        94, 32, 151, 230, 255, 174, 32, 151, 230, 231, 65, 46, 205, 239, 55, 230, 114, 182, 155, 171, 211,
        226, 220, 187, 88, 154, 235, 131, 229, 185, 190, 91, 153, 98, 102, 54, 167, 218, 234, 220, 20, 89,
        155, 155, 90, 235, 115, 91, 194, 6, 222, 74, 191,
    ];

    fn dynamic_text() -> Vec<u8> {
        (0..60)
            .map(|i| {
                format!(
                    "line {i}: the quick brown fox jumps over the lazy dog {}\n",
                    i * i % 97
                )
            })
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn stored_blocks_decode() {
        assert_eq!(inflate(STORED, 1000).unwrap(), b"hello, stored world");
        assert_eq!(crc32(b"hello, stored world"), 0x7e4e_4195);
    }

    #[test]
    fn fixed_huffman_blocks_decode() {
        assert_eq!(FIXED[0] & 7, 3, "final block, fixed codes");
        assert_eq!(
            inflate(FIXED, 1000).unwrap(),
            b"hello hello hello hello, fixed huffman"
        );
    }

    #[test]
    fn dynamic_huffman_blocks_decode() {
        assert_eq!((DYNAMIC[0] >> 1) & 3, 2, "dynamic codes");
        let text = dynamic_text();
        let out = inflate(DYNAMIC, text.len()).unwrap();
        assert_eq!(out, text);
        assert_eq!(crc32(&out), 0x2cdb_7040);
    }

    #[test]
    fn output_past_the_limit_and_truncated_data_are_refused() {
        assert!(inflate(DYNAMIC, 100).is_err());
        assert!(inflate(&DYNAMIC[..DYNAMIC.len() / 2], 10_000).is_err());
        assert!(inflate(&[0b111], 10).is_err(), "reserved block type");
        assert!(
            inflate(&[1, 5, 0, 0, 0], 10).is_err(),
            "bad stored length complement"
        );
    }
}
