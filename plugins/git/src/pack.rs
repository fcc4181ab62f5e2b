//! A version 2 packfile, as `git receive-pack` reads it: `PACK`, version 2,
//! the object count, then each object as a type-and-size header followed
//! by its zlib-deflated content (whole objects, never deltas), and the
//! SHA-1 of everything before as the trailer. Checked against the real
//! `git index-pack` in this crate's tests.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use sha1::{Digest, Sha1};

use crate::object::Object;

/// Writes the objects into a pack.
pub fn write_pack(objects: &[&Object]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"PACK");
    out.extend_from_slice(&2u32.to_be_bytes());
    let count = u32::try_from(objects.len()).expect("fewer than 2^32 objects");
    out.extend_from_slice(&count.to_be_bytes());
    for object in objects {
        out.extend_from_slice(&object_header(object.kind as u8, object.content.len()));
        let mut zlib = ZlibEncoder::new(&mut out, Compression::default());
        // Writing into a Vec cannot fail.
        zlib.write_all(&object.content)
            .expect("deflate into memory");
        zlib.finish().expect("deflate into memory");
    }
    let trailer: [u8; 20] = Sha1::digest(&out).into();
    out.extend_from_slice(&trailer);
    out
}

/// An object's header in a pack: the type in bits 4–6 of the first byte,
/// the size in its low 4 bits and then 7 bits per further byte, low bits
/// first, each byte but the last with its top bit set.
pub fn object_header(kind: u8, size: usize) -> Vec<u8> {
    let mut size = size as u64;
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    size >>= 4;
    let mut out = Vec::new();
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::ZlibDecoder;

    use super::*;
    use crate::object::Kind;

    #[test]
    fn headers_carry_the_type_and_a_little_endian_size_varint() {
        assert_eq!(object_header(3, 0), [0x30]);
        assert_eq!(object_header(3, 15), [0x3f]);
        assert_eq!(object_header(3, 16), [0xb0, 0x01]);
        assert_eq!(object_header(1, 100), [0x94, 0x06]);
        assert_eq!(object_header(2, 1 << 20), [0xa0, 0x80, 0x80, 0x04]);
    }

    #[test]
    fn a_pack_has_header_objects_and_a_sha1_trailer() {
        let blob = Object {
            kind: Kind::Blob,
            content: b"hello\n".to_vec(),
        };
        let pack = write_pack(&[&blob]);
        assert_eq!(&pack[..4], b"PACK");
        assert_eq!(&pack[4..8], &[0, 0, 0, 2]);
        assert_eq!(&pack[8..12], &[0, 0, 0, 1]);
        assert_eq!(pack[12], 0x36);
        let mut inflated = Vec::new();
        ZlibDecoder::new(&pack[13..pack.len() - 20])
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, b"hello\n");
        let body = &pack[..pack.len() - 20];
        let trailer: [u8; 20] = Sha1::digest(body).into();
        assert_eq!(&pack[pack.len() - 20..], &trailer);
    }
}
