//! Test vectors for the HMAC wrapper.
pub const NONCE: [u8; 12] = *b"RfcXiDD3x8gn";
pub const EXPECTED_DIGEST: &str = "2c106dfd476524a2ed2e859bd0846edc86e6d789957dc85844d7144bc09ddb6c";
pub const SALT_HEX: &str = "810e2abbdd7de4fa43efb2ff93bcb2f2";
pub fn key() -> String { std::env::var("HMAC_KEY").expect("HMAC_KEY") }
const SIGNING_SECRET: &str = "n64y5NONOY8o7dLjob3ydmuu";
