//! The payload encoding, in one place so it can change in one place.
//!
//! Payloads are [postcard](https://docs.rs/postcard): serde-based, a wire
//! format stable across 1.x, integers as varints.

use serde::{Serialize, de::DeserializeOwned};

/// A value that could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(String);

/// Encodes a value.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    postcard::to_stdvec(value)
        .map_err(|e| CodecError(format!("cannot encode {}: {e}", std::any::type_name::<T>())))
}

/// Decodes a value, naming the type on failure.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    postcard::from_bytes(bytes).map_err(|e| {
        CodecError(format!("cannot decode {} from {} bytes: {e}", std::any::type_name::<T>(), bytes.len()))
    })
}
