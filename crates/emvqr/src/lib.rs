//! EMVCo merchant-presented QR codes (EMV QR Code Specification for Payment Systems,
//! merchant-presented mode): decode and validate a payload, build one from a merchant's
//! fields, and draw it as SVG or PNG. No IO.
//!
//! A payload is a run of data objects, each a two-digit ID, a two-digit length and the value.
//! Lengths count characters (Unicode scalar values), not bytes. The values of IDs 26–51
//! (merchant account information), 62 (additional data), 64 (the merchant in another language)
//! and 80–99 (unreserved) are themselves runs of data objects. The payload starts with 00
//! ("01") and ends with 63, whose value is the CRC-16/CCITT-FALSE of the UTF-8 bytes of
//! everything before it, "6304" included, as four upper-case hexadecimal digits.
//!
//! Invariants, each held by a test:
//! - [`decode`] and [`decode_bytes`] never panic, whatever they are given.
//! - A [`Payload`] is valid: only [`decode`] and [`MerchantQr::build`] make one.
//! - `decode(x)?.encode() == x`: a payload keeps its data objects in order, as they came.
//! - What [`MerchantQr`] writes, [`decode`] reads back with the same fields.
//!
//! ```
//! let payload = ceiba_emvqr::MerchantQr {
//!     accounts: vec![ceiba_emvqr::MerchantAccount::ceiba("1234")],
//!     category_code: "5411".into(),
//!     currency: "192".into(),
//!     country: "CU".into(),
//!     name: "Bodega La Ceiba".into(),
//!     city: "La Habana".into(),
//!     ..Default::default()
//! }
//! .encode()
//! .unwrap();
//! assert_eq!(ceiba_emvqr::decode(&payload).unwrap().merchant_city(), "La Habana");
//! ```

mod error;
mod fields;
mod merchant;
mod payload;
mod render;
mod tlv;

pub use error::{BuildError, DecodeError, RenderError};
pub use fields::FieldId;
pub use merchant::{
    AdditionalDataFields, AlternateLanguageFields, CEIBA_ACCOUNT_TEMPLATE, CEIBA_IDENTIFIER,
    MerchantAccount, MerchantQr,
};
pub use payload::{
    AdditionalData, AlternateLanguage, PAYLOAD_CHARS_MAX, Payload, PointOfInitiation, Tip,
    checksum, decode, decode_bytes,
};
pub use render::{MODULE_PIXELS, QUIET_ZONE_MODULES};
pub use tlv::{DataObject, Tag, Value};
