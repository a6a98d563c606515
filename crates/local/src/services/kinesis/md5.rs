//! The hash key Kinesis gives a record: the MD5 of its partition key (the `md-5` crate),
//! read as a 128-bit big-endian integer, which picks the shard whose range holds it.

/// The record's hash key for `partition_key`.
pub(crate) fn hash_key(partition_key: &str) -> u128 {
    use md5::Digest as _;
    u128::from_be_bytes(md5::Md5::digest(partition_key.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_keys_are_the_digest_read_big_endian() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661 (RFC 1321's test suite).
        assert_eq!(hash_key("a"), 0x0cc1_75b9_c0f1_b6a8_31c3_99e2_6977_2661);
        assert_eq!(hash_key(""), 0xd41d_8cd9_8f00_b204_e980_0998_ecf8_427e);
    }
}
