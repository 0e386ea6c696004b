//! The journal's record format: a little-endian `u32` length, the CRC-32 of the body, then
//! the body (one posted batch, as received).

use std::io::{self, Read};

/// Bytes before each body.
pub const HEADER: u64 = 8;

/// The header of a record holding `body`.
pub fn header(body: &[u8]) -> io::Result<[u8; 8]> {
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a record over 4 GiB"))?;
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..].copy_from_slice(&crc32fast::hash(body).to_le_bytes());
    Ok(header)
}

/// What lies at a reader's position.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A whole record, its body now in the buffer.
    Record,
    /// The end of the data, on a record boundary.
    End,
    /// Not a whole, intact record: a crash during a write (at the tail) or damage.
    Broken(&'static str),
}

/// Reads the record at the reader's position into `body`.
pub fn read(reader: &mut impl Read, body: &mut Vec<u8>) -> io::Result<Next> {
    let mut header = [0u8; 8];
    match fill(reader, &mut header)? {
        0 => return Ok(Next::End),
        8 => {}
        _ => return Ok(Next::Broken("a partial record header")),
    }
    let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    // Bodies are never empty (an empty body is not JSON), so zeros, which a file system may
    // leave after a crash, never read as records.
    if len == 0 {
        return Ok(Next::Broken("a record of length 0"));
    }
    body.clear();
    // The length is not trusted before the checksum: read what is there, at most `len`.
    let got = reader.take(len as u64).read_to_end(body)?;
    if got < len {
        return Ok(Next::Broken("a partial record body"));
    }
    if crc32fast::hash(body) != crc {
        return Ok(Next::Broken("a record whose checksum does not match"));
    }
    Ok(Next::Record)
}

/// Reads until `buf` is full or the data ends; the count read.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn record(body: &[u8]) -> Vec<u8> {
        let mut bytes = header(body).unwrap().to_vec();
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn records_read_back_in_order_then_end() {
        let mut data = record(b"{\"a\":1}");
        data.extend(record(b"{\"b\":2}"));
        let mut reader = &data[..];
        let mut body = Vec::new();
        assert_eq!(read(&mut reader, &mut body).unwrap(), Next::Record);
        assert_eq!(body, b"{\"a\":1}");
        assert_eq!(read(&mut reader, &mut body).unwrap(), Next::Record);
        assert_eq!(body, b"{\"b\":2}");
        assert_eq!(read(&mut reader, &mut body).unwrap(), Next::End);
    }

    #[test]
    fn every_cut_of_a_record_is_broken_never_a_record() {
        let data = record(b"{\"items\":[1,2,3]}");
        for cut in 1..data.len() {
            let mut reader = &data[..cut];
            let next = read(&mut reader, &mut Vec::new()).unwrap();
            assert!(matches!(next, Next::Broken(_)), "cut at {cut}: {next:?}");
        }
    }

    #[test]
    fn a_flipped_bit_or_zeros_are_broken() {
        let mut data = record(b"{\"items\":[]}");
        data[10] ^= 0x01;
        let next = read(&mut &data[..], &mut Vec::new()).unwrap();
        assert_eq!(next, Next::Broken("a record whose checksum does not match"));
        let zeros = [0u8; 64];
        let next = read(&mut &zeros[..], &mut Vec::new()).unwrap();
        assert_eq!(next, Next::Broken("a record of length 0"));
    }
}
